"""The data subject's own door: a public page per controller where a person submits a rights request
with a photo and proof of identity, answers what the DPO asks, and collects the response through a
single-use, expiring link and a one-time code. Everything feeds the DPO's existing request workflow
(``governance.subject_access.services``); nothing here needs a sign-in."""
