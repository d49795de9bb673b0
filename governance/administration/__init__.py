"""Self-service administration: an organisation's administrator invites people, gives and takes
roles, deactivates accounts, and issues and revokes the organisation's API tokens. Other apps add
their own sections (recognition: cameras and their gateway keys) through ``registry``."""
