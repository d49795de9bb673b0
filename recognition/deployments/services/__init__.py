"""Deployments, cameras, watchlist reviews, alerts, two-person review, disclosures and outcomes.

Every service in this package is an entry point: it checks who may act (``recognition.deployments.access``),
opens its own transaction, checks the rule, changes state and writes its s.62 audit event in that
same transaction.

Who may do what (roles in ``governance.organisations.roles``; scope in the access module):
- the operator's DPO plans a deployment, adds cameras, records the watchlist review, takes it live,
  pauses and ends it, and discloses confirmed alerts;
- reviewers of the operator and police reviewers of the side that supplied the matched image
  review an alert; another supplier of the same deployment never sees it;
- the supplying unit or its force reports the outcome of a disclosure;
- regulators read everything, change nothing.

One module per subdomain: ``planning`` (deployments and their watchlist review), ``cameras`` (cameras and
their ingest keys), ``golive`` (go-live, pause, end), ``frames`` (frame outcomes and hourly counters), ``alerts``
(sightings raise alerts), ``review`` (two-person review and the images shown for it), ``disclosure`` and
``outcomes``; ``common`` holds the helpers they share.
"""
