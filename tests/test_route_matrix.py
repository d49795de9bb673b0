"""The route-by-role matrix (issue 10): every named route, requested by every actor, answers as the
access layer (``governance.access``, ``recognition.deployments.access``) says.

The routes come from the URL resolver; ``ROUTES`` gives each one an expectation, so a new route
without one fails ``test_every_route_has_an_expectation`` (and an expectation for a route that has
gone fails too). One world — two operators, two forces (the Met with its Camden unit, and BTP), a
regulator, and a live estate deployment using a Camden and a BTP agreement — is built once through
the services for the whole module (inside a transaction rolled back at the end); each request runs
in its own savepoint, so a POST that succeeds changes nothing for the next case.

What an actor gets, in the order the access layer decides it:

- anonymous: the sign-in page (web) or 401 (API);
- a role the route is not for at all (``gate``): 403 — the same for every organisation, it says
  nothing about any record;
- a record the actor may not see (``see``): 404, exactly like a missing one — another
  organisation's record, or one the actor's role has no read permission for (the access functions
  return an empty set for such a role: ``deployments_visible_to``, ``images_visible_to``,
  ``disclosures_visible_to``);
- a visible record the actor may not act on (``act``): 403, or on the pages that show a refusal as
  a message on the page they came from (agreement actions, legal holds) a redirect carrying that
  error message ("refused");
- otherwise the page or the resource (2xx, a redirect without an error, or a 400 for a body the
  actor is allowed to send but which is incomplete).

Every 200 is also read for another organisation's records: the text that identifies each record of
the world (agreement references, subject references, the hold's reason, the disclosure's
recipient) must never reach an actor outside the organisations that record concerns — lists,
searches and exports included. Known faults are listed in ``KNOWN_FAULTS`` (strict expected
failures, each with its reason) until they are fixed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from governance.audit.consultation import shows_personal_data
from governance.audit.models import AuditAction, AuditEvent
from tests.conftest import Cast, agreement_terms, approved_dpia, signed_pdf
from tests.recognition.deployments.conftest import AUTHORISATION_REASONS
from tests.recognition.deployments.review_helpers import confirm

# --- actors --------------------------------------------------------------------------------------

ANON = "anonymous"
ESTATE = {"estate.dpo", "estate.reviewer", "estate.admin"}
OTHER = {"other.dpo", "other.reviewer"}
MET = {"met.dpo", "met.ao"}  # the Met's DPO and its Authorising Officer (a superintendent)
CAMDEN = {"camden.dpo", "camden.reviewer", "camden.submitter"}
BTP = {"btp.dpo", "btp.reviewer", "btp.submitter"}
REGULATOR = {"regulator"}
USERS = ESTATE | OTHER | MET | CAMDEN | BTP | REGULATOR
TOKENS = {"token.camden", "token.btp"}  # the force submitters' API tokens (API routes only)
CAMERAS = {"camera.gs1", "camera.gs2"}  # camera gateway keys (the frame API only)

DPOS = {"estate.dpo", "other.dpo", "met.dpo", "camden.dpo", "btp.dpo"}
REVIEWERS = {"estate.reviewer", "other.reviewer"}
POLICE_REVIEWERS = {"camden.reviewer", "btp.reviewer"}
SUBMITTERS = {"camden.submitter", "btp.submitter"} | TOKENS
MET_CHAIN = MET | CAMDEN | {"token.camden"}  # the Met and its Camden unit: one supply chain
BTP_CHAIN = BTP | {"token.btp"}
AOS = {"met.ao"}  # Authorising Officers (of a force that supplies the world's deployments)
ROLE_VIEW_DEPLOYMENT = DPOS | REVIEWERS | POLICE_REVIEWERS | REGULATOR | AOS
ROLE_VIEW_DISCLOSURE = DPOS | SUBMITTERS | REGULATOR
ROLE_VIEW_IMAGE = DPOS | SUBMITTERS | REGULATOR
ROLE_RETENTION = DPOS | REGULATOR
ROLE_AUDIT = DPOS | REGULATOR | {"estate.admin"}
# Administration (governance.administration): an operator's administrator and a force's (whose
# scope takes in its units). The force's is an actor of the administration routes only.
ADMINS = {"estate.admin", "met.admin"}
ADMIN_ACTORS = USERS | {"met.admin"}


# --- expectations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One route's expectation. ``gate``: who the route is for (others 403, whatever the record);
    ``see``: who sees the record (others 404); ``act``: who may do it (others ``denied``)."""

    name: str
    method: str = "get"
    obj: str | None = None  # the world's record the route is requested for
    gate: frozenset | None = None
    see: frozenset | None = None
    act: frozenset | None = None
    denied: str = "403"
    api: bool = False
    public: str | None = None  # everyone, anonymous included, gets this
    body: str | None = None  # the world's POST body for it
    camera: bool = False  # authenticated by a camera's key only
    query: str | None = None  # the world's GET parameters for it
    actors: frozenset = field(default=frozenset(USERS))

    def expected(self, actor: str) -> str:
        if self.public:
            return self.public
        if self.camera and actor not in CAMERAS or actor == ANON:
            return "401" if self.api else "login"
        for allowed, refusal in ((self.gate, self.denied), (self.see, "404"), (self.act, self.denied)):
            if allowed is not None and actor not in allowed:
                return refusal
        return "ok"


def R(name, **kw) -> Route:
    for key in ("gate", "see", "act"):
        if kw.get(key) is not None:
            kw[key] = frozenset(kw[key])
    if kw.get("api"):
        kw.setdefault("actors", frozenset(USERS | TOKENS))
    kw["actors"] = frozenset(kw.get("actors", USERS)) | {ANON}
    return Route(name, **kw)


# Who reads an agreement: its parties (a force's units too) and regulators; every role.
CAMDEN_AGREEMENT_READERS = ESTATE | MET_CHAIN | REGULATOR
OTHER_DRAFT_READERS = OTHER | BTP_CHAIN | REGULATOR
# A deployment: its operator and the suppliers of its agreements (roles that view deployments).
DEPLOYMENT_READERS = ROLE_VIEW_DEPLOYMENT & (ESTATE | MET_CHAIN | BTP_CHAIN | REGULATOR)
# A deployment's watchlist pages: its readers, and the supplying forces' submitters (who compose their own
# images); the forces' DPOs and submitters compose, the operator never does.
WATCHLIST_COMPOSERS = {"met.dpo", "camden.dpo", "camden.submitter", "btp.dpo", "btp.submitter"}
WATCHLIST_PAGE_READERS = DEPLOYMENT_READERS | WATCHLIST_COMPOSERS
# An alert: the operator and the supply chain of the matched image, never another supplier.
# The Camden alert is disclosed to Camden: its submitter, who reports the outcome, sees it too (issue 25).
CAMDEN_ALERT_READERS = ROLE_VIEW_DEPLOYMENT & (ESTATE | MET_CHAIN | REGULATOR) | {"camden.submitter"}
BTP_ALERT_READERS = ROLE_VIEW_DEPLOYMENT & (ESTATE | BTP_CHAIN | REGULATOR)
CAMDEN_DISCLOSURE_READERS = ROLE_VIEW_DISCLOSURE & (ESTATE | MET_CHAIN | REGULATOR)
CAMDEN_IMAGE_READERS = ROLE_VIEW_IMAGE & (ESTATE | MET_CHAIN | REGULATOR)
CAMDEN_RECORD_RETENTION = ROLE_RETENTION & (ESTATE | MET_CHAIN | REGULATOR)
AGREEMENT_DPOS = {"estate.dpo", "met.dpo", "camden.dpo"}  # the Camden agreement's parties' DPOs
# A DPIA: read by the supply chains of the organisations it concerns (controller, the covered
# agreement's parties) and regulators, in roles that read DPIAs; the controller's DPO acts.
ROLE_DPIA = DPOS | REGULATOR
ROLE_REPORTS = DPOS | REGULATOR  # governance.view_reports
ROLE_BREACHES = DPOS | REGULATOR  # governance.view_breach
CAMDEN_DPIA_READERS = ROLE_DPIA & (ESTATE | MET_CHAIN | REGULATOR)
# An appropriate policy document (s.42): the controller's supply chain and regulators, in roles
# that read them (DPOs, regulators); the controller's DPO acts.
ROLE_POLICY = DPOS | REGULATOR
ESTATE_POLICY_READERS = ROLE_POLICY & (ESTATE | REGULATOR)
# Subject requests: the receiving organisation's DPO; regulators read the register's metadata only
# (the contents — search, actions, exports — are refused them).
ROLE_SUBJECT_REQUESTS = DPOS | REGULATOR
ESTATE_SAR_READERS = {"estate.dpo", "regulator"}

ROUTES: list[Route] = [
    # Public
    R("login", public="ok"),
    R("logout", method="post", public="login"),
    R("api-schema", public="ok"),
    R("api-docs", public="ok"),
    # The admin site (staff only), one entry for all its routes: organisation administrators are not
    # staff unless the installation says so (OVERSIGHT_ADMINISTRATORS_ARE_STAFF, issue 26).
    R("admin", act=set(), denied="login"),
    # Agreements
    R("dashboard"),
    R("dpia-list", gate=ROLE_DPIA),
    R("dpia-create", gate=DPOS),
    R("dpia-detail", obj="camden_dpia", see=CAMDEN_DPIA_READERS),
    R("dpia-compare", obj="camden_dpia", see=CAMDEN_DPIA_READERS),
    R("dpia-pdf", obj="camden_dpia", see=CAMDEN_DPIA_READERS),
    R("dpia-edit", obj="camden_dpia", see=CAMDEN_DPIA_READERS, act={"estate.dpo"}),
    R("dpia-action", method="post", obj="camden_dpia", body="revise", see=CAMDEN_DPIA_READERS, act={"estate.dpo"}),
    R("policy-list", gate=ROLE_POLICY),
    R("policy-create", gate=DPOS),
    R("policy-detail", obj="estate_policy", see=ESTATE_POLICY_READERS),
    R("policy-edit", obj="estate_policy", see=ESTATE_POLICY_READERS, act={"estate.dpo"}),
    R(
        "policy-action",
        method="post",
        obj="estate_policy",
        body="policy_end",
        see=ESTATE_POLICY_READERS,
        act={"estate.dpo"},
    ),
    # Subject requests
    R("subject-request-list", gate=ROLE_SUBJECT_REQUESTS),
    R("subject-request-create", gate=DPOS),
    R("subject-request-policy", method="post", body="empty", gate=DPOS),
    R("subject-request-detail", obj="estate_sar", see=ESTATE_SAR_READERS),
    R(
        "subject-request-action",
        method="post",
        obj="estate_sar",
        body="sar_stop",
        see=ESTATE_SAR_READERS,
        act={"estate.dpo"},
    ),
    R("subject-request-search", obj="estate_sar", see=ESTATE_SAR_READERS, act={"estate.dpo"}),
    # A search by photo: its searcher only (the estate's DPO here); the regulator is refused the contents.
    R("subject-request-search-result", obj="estate_photo_search", see=ESTATE_SAR_READERS, act={"estate.dpo"}),
    R(
        "subject-request-decide",
        method="post",
        obj="estate_sar",
        body="sar_decide",
        see=ESTATE_SAR_READERS,
        act={"estate.dpo"},
    ),
    R(
        "subject-request-export",
        method="post",
        obj="estate_sar",
        body="empty",
        see=ESTATE_SAR_READERS,
        act={"estate.dpo"},
    ),
    R("subject-request-export-status", obj="estate_export", see=ESTATE_SAR_READERS, act={"estate.dpo"}),
    R("subject-request-download", obj="estate_export", see=ESTATE_SAR_READERS, act={"estate.dpo"}),
    # The data subject's public door (no sign-in): the same answer for everyone. What the person sent,
    # and sending them the response, are the receiving DPO's (the regulator sees the register only).
    R("subject-door-index", public="ok"),
    R("subject-door", obj="door_controller", public="ok"),
    R("subject-door-sent", public="ok"),
    R("subject-door-return", public="ok"),
    R("subject-door-new-code", method="post", body="empty", public="ok"),
    R("subject-door-download", obj="door_link", public="ok"),
    R("subject-door-file", obj="door_file", see=ESTATE_SAR_READERS, act={"estate.dpo"}),
    R(
        "subject-door-send",
        method="post",
        obj="door_export",
        body="empty",
        see=ESTATE_SAR_READERS,
        act={"estate.dpo"},
    ),
    # A rectification told to its recipient: the sender's and the recipient's DPOs see it; the
    # recipient acknowledges. A consultation: the asking DPO and the force's; the force decides.
    R(
        "rights-notification-acknowledge",
        method="post",
        obj="rights_notification",
        body="empty",
        see={"estate.dpo", "met.dpo"},
        act={"estate.dpo"},
    ),
    R("rights-consultation", obj="rights_consultation", see={"estate.dpo", "met.dpo"}),
    # Reports: each organisation's cover what it is party to; the regulator reads every one.
    R("report-index", gate=ROLE_REPORTS),
    R("report-subject", obj="camden_agreement", see=CAMDEN_AGREEMENT_READERS, act=ROLE_REPORTS),
    R("report-subject", obj="deployment", see=DEPLOYMENT_READERS, act=ROLE_REPORTS),
    # The transparency report is an operator's: others have none to preview or publish; the regulator, naming
    # no operator, is sent to the reports page that lists them.
    R("report-transparency", gate=ROLE_REPORTS, see={"estate.dpo", "other.dpo", "regulator"}),
    R("report-transparency-publish", method="post", body="empty", gate=ROLE_REPORTS, see={"estate.dpo", "other.dpo"}),
    R("report-regulator-pack", gate=ROLE_REPORTS),
    # The record of processing: a DPO reads its own controller's (a unit's force's); the regulator picks.
    R("report-ropa", gate=ROLE_REPORTS),
    R("report-principle-commentary", method="post", body="commentary", gate=DPOS),
    R("report-published", obj="published", public="ok"),
    # Breaches: the organisation that recorded one (and its force) reads it; the regulator all.
    R("breach-register", gate=ROLE_BREACHES),
    R("breach-detail", obj="breach", see=ROLE_BREACHES & (ESTATE | REGULATOR)),
    R(
        "breach-action",
        method="post",
        obj="breach",
        body="not_notified",
        see=ROLE_BREACHES & (ESTATE | REGULATOR),
        act={"estate.dpo"},
    ),
    # Notifications: each user's own inbox and account; the regulator acknowledges and asks about what was
    # notified to it (the Camden agreement); the agreement's parties' DPOs answer its query.
    R("notification-inbox"),
    R("notification-read-all", method="post"),
    R("notification-open", obj="notice", see={"estate.dpo"}),
    R("account"),
    R("received-acknowledge", method="post", obj="camden_agreement", gate=REGULATOR),
    R("received-query", method="post", obj="camden_agreement", body="question", gate=REGULATOR),
    R("query-answer", method="post", obj="regulator_query", body="answer", see={"estate.dpo", "camden.dpo"}),
    # Operations: probes are public. Metrics (counts, no personal data) need the bearer token where
    # OVERSIGHT_METRICS_TOKEN is set and are off in production without one; open in the test settings.
    R("health-live", public="ok"),
    R("health-ready", public="ok"),
    R("metrics", public="ok"),
    R("admin-login", public="login"),  # Django admin's sign-in is ours (second factor included)
    # The second-factor steps follow a password sign-in; reached any other way they start it again.
    R("second-factor", public="login"),
    R("second-factor-setup"),
    R("agreement-list"),
    R("agreement-create", gate=DPOS),
    R("agreement-detail", obj="camden_agreement", see=CAMDEN_AGREEMENT_READERS),
    R("agreement-detail", obj="other_draft", see=OTHER_DRAFT_READERS),
    R("agreement-edit", obj="other_draft", see=OTHER_DRAFT_READERS, act={"other.dpo", "btp.dpo"}),
    R("agreement-document", obj="camden_agreement", see=CAMDEN_AGREEMENT_READERS),
    R(
        "agreement-action",
        method="post",
        obj="camden_agreement",
        body="terminate",
        see=CAMDEN_AGREEMENT_READERS,
        act=AGREEMENT_DPOS,
        denied="refused",
    ),
    R(
        "agreement-amend",
        method="post",
        obj="camden_agreement",
        body="amend",
        see=CAMDEN_AGREEMENT_READERS,
        act=AGREEMENT_DPOS,
        denied="refused",
    ),
    R(
        "agreement-renew",
        method="post",
        obj="camden_agreement",
        body="renew",
        see=CAMDEN_AGREEMENT_READERS,
        act=AGREEMENT_DPOS,
        denied="refused",
    ),
    R("api-agreement-list", api=True),
    R("api-agreement-detail", api=True, obj="camden_agreement", see=CAMDEN_AGREEMENT_READERS),
    # Audit log
    R("audit-log", gate=ROLE_AUDIT),
    # Consultations (s.62): the purpose form, and who looked at a record or a subject (the log's scope).
    R("consultation-purpose", query="purpose"),
    R("record-consultations", obj="camden_alert", gate=ROLE_AUDIT, see=ROLE_AUDIT & CAMDEN_ALERT_READERS),
    R(
        "record-consultations",
        obj="camden_disclosure",
        gate=ROLE_AUDIT,
        see=ROLE_AUDIT & CAMDEN_DISCLOSURE_READERS,
    ),
    R("record-consultations", obj="camden_image", gate=ROLE_AUDIT, see=ROLE_AUDIT & CAMDEN_IMAGE_READERS),
    R(
        "subject-consultations",
        obj="camden_alert",
        gate=ROLE_AUDIT,
        see=ROLE_AUDIT & (CAMDEN_ALERT_READERS | CAMDEN_IMAGE_READERS),
    ),
    # Searching is a POST: the justification never lands in a URL.
    R("audit-log", method="post", query="search", gate=ROLE_AUDIT),
    R("audit-log", method="post", query="csv", gate=DPOS),  # exporting needs governance.export_auditevent
    # An event's inclusion proof: for those who read the log and may see the event (Camden's: Camden, the Met
    # it answers to, regulators); the published tree heads are public.
    R("audit-event-proof", obj="audit_event", gate=ROLE_AUDIT, see={"camden.dpo", "met.dpo", "regulator"}),
    R(
        "api-audit-event-proof",
        api=True,
        obj="audit_event",
        gate=ROLE_AUDIT,
        see={"camden.dpo", "met.dpo", "regulator"},
    ),
    R("audit-log-heads", public="ok"),
    # Verifying the whole log from the audit page: its data protection officers and the regulator.
    R("audit-verify", method="post", gate=DPOS | REGULATOR),
    # Watchlist
    R("watchlist-ledger"),
    R("watchlist-upload", gate=SUBMITTERS & USERS),
    R("watchlist-bulk-upload", gate=SUBMITTERS & USERS),
    # A bulk upload's results: submitters of the uploader's organisation (Camden's here).
    R("watchlist-bulk-upload-detail", obj="camden_bulk", gate=SUBMITTERS & USERS, see={"camden.submitter"}),
    R("watchlist-image-detail", obj="camden_image", see=CAMDEN_IMAGE_READERS),
    R(
        "watchlist-image-withdraw",
        method="post",
        obj="camden_image",
        body="withdraw",
        see=CAMDEN_IMAGE_READERS,
        act=(DPOS | SUBMITTERS) & MET_CHAIN,
    ),
    R("api-watchlist-image-list", api=True),
    R("api-watchlist-image-bulk", api=True, method="post", body="bulk", act=SUBMITTERS),
    R(
        "api-watchlist-bulk-upload-detail",
        api=True,
        obj="camden_bulk",
        gate=SUBMITTERS,
        see={"camden.submitter", "token.camden"},
    ),
    R("api-watchlist-image-detail", api=True, obj="camden_image", see=CAMDEN_IMAGE_READERS),
    R(
        "api-watchlist-image-bytes",
        api=True,
        obj="camden_image",
        see=CAMDEN_IMAGE_READERS,
        act=ROLE_VIEW_IMAGE & MET_CHAIN,
    ),
    # Retention
    R("retention-dashboard", gate=ROLE_RETENTION),
    R("legal-hold-create", method="post", body="hold", act=AGREEMENT_DPOS, denied="refused"),
    R(
        "legal-hold-release",
        method="post",
        obj="hold",
        body="release",
        gate=ROLE_RETENTION,
        see=CAMDEN_RECORD_RETENTION,
        act={"estate.dpo"},
    ),
    R("deletion-certificate", obj="certificate", gate=ROLE_RETENTION, see=CAMDEN_RECORD_RETENTION),
    R("retention-run-certificates", obj="run", gate=ROLE_RETENTION),
    # Administration: the administrator's home; accounts and tokens of their organisation (a force's
    # administrator: its units' too), another organisation's are 404; every other role 403.
    R("administration-home", gate=ADMINS, actors=ADMIN_ACTORS),
    R("administration-user-invite", gate=ADMINS, actors=ADMIN_ACTORS),
    R("administration-user", obj="camden_dpo", gate=ADMINS, see={"met.admin"}, actors=ADMIN_ACTORS),
    R(
        "administration-user-action",
        method="post",
        obj="camden_dpo",
        body="assign_role",
        gate=ADMINS,
        see={"met.admin"},
        actors=ADMIN_ACTORS,
    ),
    R("administration-token-issue", gate=ADMINS, actors=ADMIN_ACTORS),
    R(
        "administration-token-revoke",
        method="post",
        obj="camden_token",
        body="release",
        gate=ADMINS,
        see={"met.admin"},
        actors=ADMIN_ACTORS,
    ),
    # The invitation link is the credential: whoever holds it gets the set-password page.
    R("invitation-accept", obj="invitation", public="ok", actors=ADMIN_ACTORS),
    R("agreement-pdf", obj="camden_agreement", see=CAMDEN_AGREEMENT_READERS),
    # Cameras and their gateway keys (recognition, listed on the administration page): administrators
    # and DPOs (who run deployments) reach the page; only the operator's change its cameras' keys.
    R("camera-list", gate=DPOS | ADMINS, actors=ADMIN_ACTORS),
    R(
        "camera-key",
        method="post",
        obj="camera",
        body="camera_issue",
        gate=DPOS | ADMINS,
        see={"estate.dpo", "estate.admin"},
        actors=ADMIN_ACTORS,
    ),
    # Rotating a live camera's key cuts it off: the operator confirms on this page first (issue 25).
    R(
        "camera-key-confirm",
        obj="camera",
        gate=DPOS | ADMINS,
        see={"estate.dpo", "estate.admin"},
        actors=ADMIN_ACTORS,
    ),
    # Deployments, review, disclosures
    R("deployment-list"),
    R("deployment-create", gate={"estate.dpo", "other.dpo"}),
    R("deployment-detail", obj="deployment", see=DEPLOYMENT_READERS),
    R(
        "deployment-action",
        method="post",
        obj="deployment",
        body="add_camera",
        see=DEPLOYMENT_READERS,
        act={"estate.dpo"},
    ),
    # The police's decisions: an Authorising Officer of a supplying force authorises (the world's
    # deployment went live, then a camera was added: the authorisation is void, so a new one succeeds)
    # and reviews an ended deployment afterwards.
    R(
        "deployment-authorisation",
        method="post",
        obj="deployment",
        body="authorise",
        see=DEPLOYMENT_READERS,
        act=AOS,
    ),
    R(
        "deployment-post-review",
        method="post",
        obj="ended_deployment",
        body="post_review",
        see=ROLE_VIEW_DEPLOYMENT & (ESTATE | MET_CHAIN | REGULATOR),
        act=AOS,
    ),
    # A deployment's watchlist: the supplying forces compose and review it (recognition.deployments.watchlists).
    R(
        "deployment-watchlist",
        obj="deployment",
        see=WATCHLIST_PAGE_READERS,
        act=WATCHLIST_COMPOSERS,
    ),
    R(
        "deployment-watchlist-review",
        obj="deployment",
        see=WATCHLIST_PAGE_READERS,
        act={"met.dpo", "camden.dpo", "btp.dpo"} | AOS,
    ),
    # The Met's image on it: the Met's side that composes (BTP's never sees the Met's image: 404).
    R(
        "deployment-watchlist-thumbnail",
        obj="deployment",
        see=WATCHLIST_PAGE_READERS - {"btp.dpo", "btp.submitter"},
        act={"met.dpo", "camden.dpo", "camden.submitter"},
    ),
    # The operator's DPO sets the review service level of its deployment (the live review desk).
    R(
        "deployment-review-service-level",
        method="post",
        obj="deployment",
        body="service_level",
        see=DEPLOYMENT_READERS,
        act={"estate.dpo"},
    ),
    # The same through the API: the deployment's readers read it, only the operator's DPO sets it (force
    # submitters' tokens have no role that views deployments: not found).
    R("api-deployment-detail", api=True, obj="deployment", see=DEPLOYMENT_READERS),
    R(
        "api-deployment-review-service-level",
        api=True,
        method="post",
        obj="deployment",
        body="api_service_level",
        see=DEPLOYMENT_READERS,
        act={"estate.dpo"},
    ),
    R("review-queue", gate=REVIEWERS | POLICE_REVIEWERS),
    # The queue's thumbnails: exactly who gets the review page's images (recorded and audited the same way).
    R(
        "alert-queue-crop-thumbnail",
        obj="camden_alert",
        see=CAMDEN_ALERT_READERS,
        act={"estate.reviewer", "camden.reviewer"},
    ),
    R(
        "alert-queue-reference-thumbnail",
        obj="camden_alert",
        see=CAMDEN_ALERT_READERS,
        act={"estate.reviewer", "camden.reviewer"},
    ),
    R("review-queue-json", gate=REVIEWERS | POLICE_REVIEWERS),
    R("alert-detail", obj="camden_alert", see=CAMDEN_ALERT_READERS),
    R("alert-detail", obj="btp_alert", see=BTP_ALERT_READERS),
    # The review page's two images: the alert's reviewers (the Camden agreement lets the estate's see the image).
    R("alert-crop-image", obj="camden_alert", see=CAMDEN_ALERT_READERS, act={"estate.reviewer", "camden.reviewer"}),
    R(
        "alert-reference-image",
        obj="camden_alert",
        see=CAMDEN_ALERT_READERS,
        act={"estate.reviewer", "camden.reviewer"},
    ),
    R(
        "alert-review",
        method="post",
        obj="btp_alert",
        body="reject",
        see=BTP_ALERT_READERS,
        act={"estate.reviewer", "btp.reviewer"},
    ),
    R(
        "alert-disclose",
        method="post",
        obj="camden_alert",
        body="disclose",
        see=CAMDEN_ALERT_READERS,
        act={"estate.dpo"},
    ),
    R("disclosure-list"),
    R(
        "disclosure-outcome",
        method="post",
        obj="camden_disclosure",
        body="outcome",
        see=CAMDEN_DISCLOSURE_READERS,
        act=ROLE_VIEW_DISCLOSURE & MET_CHAIN,
    ),
    # No outcome is reported in the world: the supplying side's correction is refused as incomplete (400).
    R(
        "disclosure-outcome-correct",
        method="post",
        obj="camden_disclosure",
        body="correct",
        see=CAMDEN_DISCLOSURE_READERS,
        act=ROLE_VIEW_DISCLOSURE & MET_CHAIN,
    ),
    R("api-disclosure-list", api=True, gate=ROLE_VIEW_DISCLOSURE),
    # The police API: disclosures received by the caller's supply chain (police only).
    R(
        "api-disclosure-detail",
        api=True,
        obj="camden_disclosure",
        gate=ROLE_VIEW_DISCLOSURE,
        see=ROLE_VIEW_DISCLOSURE & MET_CHAIN,
    ),
    R(
        "api-disclosure-outcome",
        api=True,
        method="post",
        obj="camden_disclosure",
        body="api_outcome",
        gate=ROLE_VIEW_DISCLOSURE,
        see=ROLE_VIEW_DISCLOSURE & MET_CHAIN,
    ),
    # Camera gateways: only a camera's own key posts its frames (no frame attached: 400).
    R(
        "api-camera-frames",
        api=True,
        method="post",
        obj="camera",
        body="empty",
        camera=True,
        actors=USERS | TOKENS | CAMERAS,
        see={"camera.gs1"},
    ),
]

# Known faults: (route, record, actor) → why. Each stays an expected failure (strict) until fixed.
KNOWN_FAULTS: dict[tuple[str, str | None, str], str] = {}


# --- the resolver ----------------------------------------------------------------------------------


def resolver_routes() -> set[str]:
    """Every named route; the admin site's routes are one entry, ``admin``. An unnamed route
    outside the admin site is listed by its pattern (it cannot be given an expectation)."""
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                if namespace == "admin":
                    names.add("admin")
                elif namespace:
                    names.add(f"{namespace}:{pattern.name or prefix + str(pattern.pattern)}")
                else:
                    names.add(pattern.name or f"unnamed route {prefix}{pattern.pattern}")

    walk(get_resolver().url_patterns, "", None)
    return names


def test_every_route_has_an_expectation():
    routes = resolver_routes()
    expected = {route.name for route in ROUTES}
    assert sorted(routes - expected) == [], "routes without an expectation in ROUTES"
    assert sorted(expected - routes) == [], "expectations for routes that no longer exist"
    assert len(ROUTES) == len({(r.name, r.obj, r.query) for r in ROUTES}), "a route and record listed twice"
    assert set(KNOWN_FAULTS) <= {(r.name, r.obj or r.query, a) for r in ROUTES for a in r.actors}


# --- the world -------------------------------------------------------------------------------------


def _small_jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 120), (90, 60, 30)).save(out, format="JPEG")
    return out.getvalue()


def _active_agreement(cast, supplier, approver, reference):
    from governance.agreements import services
    from governance.dpia.rules import approved_policy_document
    from tests.conftest import approved_policy

    agreement = services.agreement_draft(
        actor=cast.estate_dpo,
        fields=agreement_terms(cast, title=f"{supplier.short_name} sharing", supplying_organisation=supplier),
    )
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=date.today() - timedelta(days=3),
        reference=reference,
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])  # the DPIA gate on approval
    if approved_policy_document([approver.organisation_id]) is None:  # the force's s.42 document
        approved_policy(approver)
    return services.agreement_approve(actor=approver, agreement=agreement)


class World:
    """The fixture world, built through the services (two operators, two forces, a regulator)."""

    def __init__(self):
        from governance.agreements.services import agreement_draft
        from governance.api.tokens import api_token_issue
        from governance.errors import ValidationFailed
        from governance.organisations.roles import Role
        from governance.organisations.services import user_create
        from governance.retention.services import legal_hold_place, retention_sweep
        from governance.watchlist.models import DeletionCertificate
        from governance.watchlist.services import (
            BulkFile,
            Provenance,
            watchlist_bulk_upload,
            watchlist_image_upload,
            watchlist_image_withdraw,
        )
        from recognition.deployments.models import DisclosureChannel
        from recognition.deployments.services.cameras import camera_add, camera_issue_ingest_key
        from recognition.deployments.services.disclosure import alert_disclose
        from recognition.deployments.services.golive import deployment_end
        from recognition.deployments.services.planning import deployment_plan
        from tests.governance.watchlist.support import synthetic_jpeg, worker_check
        from tests.recognition.deployments.conftest import People, deployment_fields, go_live
        from tests.recognition.deployments.test_supply_scope import TwoForces

        cast = self.cast = Cast()
        people = People(cast)

        def user(name, org, *roles):
            return user_create(actor=None, username=name, organisation=org, roles=list(roles), password=cast.password)

        self.camden_agreement = _active_agreement(cast, cast.camden, cast.met_dpo, "BSCC-1")
        from governance.dpia.models import DPIA

        self.camden_dpia = DPIA.objects.get(agreements=self.camden_agreement)
        from governance.dpia import policy_services

        self.estate_policy = policy_services.policy_approve(
            actor=cast.estate_dpo2,  # its writer cannot approve it
            policy=policy_services.policy_draft(
                actor=cast.estate_dpo,
                fields={
                    "title": "Estate appropriate policy document",
                    "schedule8_conditions": ["sch8_1"],
                    "compliance_procedures": "Route matrix: principle by principle.",
                    "retention_policy": "Route matrix: as the agreements say.",
                    "processing_description": "Live facial recognition at Granary Square.",
                    "review_on": timezone.localdate() + timedelta(days=365),
                },
            ),
        )
        from governance.breaches.services import breach_record

        self.breach = breach_record(
            actor=cast.estate_dpo,
            fields={
                "title": "Export emailed to the wrong address",
                "what_happened": "An alert export went outside.",
                "discovered_at": timezone.now() - timedelta(hours=5),
                "data_affected": "Crops of 2 alerts.",
                "people_affected": 2,
                "people_affected_description": "People who raised alerts.",
                "risk": "unlikely",
                "risk_assessment": "Recipient known and deleted it.",
            },
        )
        from governance.subject_access import photo_searches
        from governance.subject_access import services as subject_requests
        from governance.subject_access.exports import subject_request_export_build

        self.estate_sar = subject_requests.subject_request_receive(
            actor=cast.estate_dpo,
            fields={
                "regime": "uk_gdpr",
                "right": "access",
                "requester_name": "Matrix Requester Quillfeather",
                "requester_contact": "quillfeather@example.org",
                "request_text": "Everything you hold about me.",
                "subject_references": ["MET-U-0001"],
                "received_on": timezone.localdate() - timedelta(days=2),
                "identity_verified_how": "Passport seen.",
                "identity_verified_by_name": "Dana Okafor",
            },
        )
        export = subject_requests.subject_request_export_start(actor=cast.estate_dpo, request=self.estate_sar)
        # Built here: inside the world's transaction nothing commits, so the task never runs on its own.
        self.estate_export = subject_request_export_build(export_id=export.pk)
        # Queued only (nothing commits in the world): its page says "searching".
        self.estate_photo_search = photo_searches.subject_photo_search_start(
            actor=cast.estate_dpo,
            request=self.estate_sar,
            justification="Route matrix: the requester's photo.",
            photo=_small_jpeg(),
        )
        self._door(cast)
        self.btp_agreement = _active_agreement(cast, cast.btp, cast.btp_dpo, "BSCC-2")
        two = TwoForces(cast, people, self.camden_agreement, self.btp_agreement)
        self.deployment, self.camden_alert, self.btp_alert = two.deployment, two.camden_alert, two.btp_alert
        self.camera = self.deployment.cameras.get()
        # An ended deployment of the Camden agreement, authorised by the Met's AO: its review is due.
        self.ended_deployment = deployment_plan(
            actor=cast.estate_dpo, agreements=[self.camden_agreement], fields=deployment_fields(cast, name="Ended op")
        )
        camera_add(
            actor=cast.estate_dpo, deployment=self.ended_deployment, name="E-1", location="West", direction="East"
        )
        go_live(cast, self.ended_deployment)
        deployment_end(actor=cast.estate_dpo, deployment=self.ended_deployment, reason="Route matrix.")
        second_camera = camera_add(
            actor=cast.estate_dpo, deployment=self.deployment, name="GS-2", location="South steps", direction="North"
        )
        self.camera_keys = {
            "camera.gs1": camera_issue_ingest_key(actor=cast.estate_dpo, camera=self.camera),
            "camera.gs2": camera_issue_ingest_key(actor=cast.estate_dpo, camera=second_camera),
        }
        # The Camden alert confirmed by the estate and Camden's police reviewer, disclosed to Camden.
        confirm(people.reviewer_a, self.camden_alert)
        confirm(people.police_reviewer, self.camden_alert)
        self.camden_disclosure = alert_disclose(
            actor=cast.estate_dpo,
            alert=self.camden_alert,
            recipient_organisation=cast.camden,
            recipient="Camden LFR desk",
            channel=DisclosureChannel.CJSM_EMAIL,
            justification="Confirmed match of a person wanted on warrant.",
        )

        # Watchlist images with bytes (uploaded by Camden's submitter): one kept, one withdrawn.
        def upload(seed, subject):
            image = watchlist_image_upload(
                actor=people.camden_submitter,
                agreement_id=self.camden_agreement.pk,
                image_bytes=synthetic_jpeg(seed),
                provenance=Provenance(
                    subject_reference=subject,
                    custody_category="wanted",
                    custody_reference="CUST/9/1",
                    image_taken_on=timezone.localdate() - timedelta(days=20),
                ),
            )
            worker_check(image.pk)  # the worker's decode and clean: inside the world's transaction no task runs
            image.refresh_from_db()
            return image

        self.camden_image = upload(1, "MET-U-0001")
        # One with bytes on the live deployment's watchlist, put there by the Met (its thumbnail route). Marked
        # enrolled directly: inside the world's transaction the enrolment task never runs.
        from governance.watchlist.models import WatchlistImage
        from tests.factories import compose_watchlist

        self.watchlist_image = upload(3, "MET-U-0003")
        WatchlistImage.objects.filter(pk=self.watchlist_image.pk).update(status="enrolled")
        self.watchlist_image.refresh_from_db()
        compose_watchlist(self.deployment, [self.watchlist_image])
        withdrawn = watchlist_image_withdraw(
            actor=people.camden_submitter, image=upload(2, "MET-U-0002"), reason="Arrested; no longer wanted."
        )
        self.camden_bulk = watchlist_bulk_upload(
            actor=people.camden_submitter,
            files=[
                BulkFile(
                    name="five.jpg",
                    agreement_id=self.camden_agreement.pk,
                    image_bytes=synthetic_jpeg(5),
                    provenance=Provenance(
                        subject_reference="MET-U-0005",
                        custody_category="wanted",
                        custody_reference="CUST/9/5",
                        image_taken_on=timezone.localdate() - timedelta(days=20),
                    ),
                ),
                BulkFile(name="six.jpg", refusal=ValidationFailed("Route matrix.", code="missing_provenance")),
            ],
        )
        self.certificate = DeletionCertificate.objects.filter(details__watchlist_image=withdrawn.pk).first()
        self.hold = legal_hold_place(
            actor=cast.estate_dpo, target=f"agreement:{self.camden_agreement.pk}", reason="Civil claim pending"
        )
        self.run = retention_sweep(triggered_by="matrix")
        from governance.reports.services import transparency_report_publish

        now = timezone.now()
        self.published = transparency_report_publish(
            actor=cast.estate_dpo, operator=cast.estate, start=now - timedelta(days=90), end=now
        )
        self.other_draft = agreement_draft(
            actor=cast.other_dpo,
            fields=agreement_terms(
                cast,
                title="Other Mall draft",
                supplying_organisation=cast.btp,
                receiving_organisation=cast.other_operator,
            ),
        )
        # Rights that reach the recipient and the supplier (governance.subject_access.recipients,
        # .consultation): the Met rectifies Camden's image, the estate (its recipient) is told; the
        # estate's access request releasing that image waits for the Met's s.45(4) decision.
        from governance.subject_access import services as sars
        from governance.subject_access.consultation import subject_request_consult

        image_ref = f"watchlist-image:{self.camden_image.pk}"
        rights_request = {
            "requester_name": "Matrix Rights Requester",
            "requester_contact": "rights@example.org",
            "request_text": "Correct and tell.",
            "subject_references": ["MET-U-0001"],
            "received_on": timezone.localdate() - timedelta(days=1),
            "identity_verified_how": "Passport seen.",
            "identity_verified_by_name": "Dana Okafor",
        }
        met_sar = sars.subject_request_receive(
            actor=cast.met_dpo, fields=rights_request | {"regime": "dpa_part3", "right": "rectification"}
        )
        sars.subject_request_decide(actor=cast.met_dpo, request=met_sar, decisions=[(image_ref, "confirmed", "")])
        action = sars.subject_request_rectify(
            actor=cast.met_dpo, request=met_sar, ref=image_ref, field="notes", value="Rectified.", reason="Matrix."
        )
        self.rights_notification = action.notifications.get()
        consult_sar = sars.subject_request_receive(
            actor=cast.estate_dpo, fields=rights_request | {"regime": "uk_gdpr", "right": "access"}
        )
        sars.subject_request_decide(
            actor=cast.estate_dpo, request=consult_sar, decisions=[(image_ref, "confirmed", "")]
        )
        (self.rights_consultation,) = subject_request_consult(actor=cast.estate_dpo, request=consult_sar)

        self.users = {
            "estate.dpo": cast.estate_dpo,
            "estate.reviewer": cast.estate_reviewer,
            "estate.admin": user("admin.estate", cast.estate, Role.ADMIN),
            "other.dpo": cast.other_dpo,
            "other.reviewer": user("reviewer.other", cast.other_operator, Role.REVIEWER),
            "met.dpo": cast.met_dpo,
            "met.ao": cast.met_ao,
            "camden.dpo": cast.camden_dpo,
            "camden.reviewer": people.police_reviewer,
            "camden.submitter": people.camden_submitter,
            "btp.dpo": cast.btp_dpo,
            "btp.reviewer": two.btp_reviewer,
            "btp.submitter": people.btp_submitter,
            "regulator": cast.regulator,
        }
        self.camden_token, camden_secret = api_token_issue(
            actor=None, organisation=cast.camden, user=people.camden_submitter
        )
        self.tokens = {
            "token.camden": camden_secret,
            "token.btp": api_token_issue(actor=None, organisation=cast.btp, user=people.btp_submitter)[1],
        }
        from governance.administration.services import user_invite

        self.users["met.admin"] = user("admin.met", cast.met, Role.ADMIN)
        self.camden_dpo = cast.camden_dpo
        self.invitation = user_invite(
            actor=self.users["met.admin"], organisation=cast.camden, username="invited.camden", roles=[Role.DPO]
        )[1]
        from governance.audit.models import AuditAction
        from governance.audit.sequencer import audit_sequence_all
        from governance.audit.services import audit_record

        with transaction.atomic():
            self.audit_event = audit_record(
                action=AuditAction.CONSULTATION,
                event="matrix.read",
                actor=cast.camden_dpo,
                target=("test.thing", "1", "Matrix thing"),
                justification="Route matrix",
            )
        from governance.notifications.models import Notification
        from governance.notifications.services import regulator_query_ask

        self.notice = Notification.objects.create(
            recipient=cast.estate_dpo,
            clock="matrix",
            key="matrix:1",
            stage="matrix",
            title="Matrix notice",
            url="/",
            raised_at=timezone.now(),
        )
        self.regulator_query = regulator_query_ask(
            actor=cast.regulator,
            kind="agreement",
            pk=self.camden_agreement.pk,
            question="Route matrix: which retention applies?",
        )
        audit_sequence_all()  # the world's events get their leaves (this transaction sees them pending)

    def _door(self, cast) -> None:
        """A request through the estate's public page, its response built, and a link sent for it."""
        import io

        from PIL import Image

        from governance.subject_access import services as subject_requests
        from governance.subject_access.door import services as door
        from governance.subject_access.door.checks import door_file_check
        from governance.subject_access.door.models import DoorCodePurpose
        from governance.subject_access.exports import subject_request_export_build

        image = io.BytesIO()
        Image.new("RGB", (120, 120), (200, 170, 150)).save(image, format="JPEG")
        self.door_controller = cast.estate
        self.door_sar = door.door_submit(
            controller=cast.estate,
            values={
                "right": "access",
                "requester_name": "Matrix Door Requester Thistlewood",
                "email": "thistlewood@example.org",
                "request_text": "Everything you hold about me.",
            },
            files=[("identity", image.getvalue())],
            address="192.0.2.1",
        )
        self.door_file = self.door_sar.door.files.get()
        door_file_check(file_id=self.door_file.pk)  # the worker's check, which runs after commit (issue 26)
        export = subject_requests.subject_request_export_start(actor=cast.estate_dpo, request=self.door_sar)
        self.door_export = subject_request_export_build(export_id=export.pk)
        _, _, self.door_link = door._code_issue(
            submission=self.door_sar.door, purpose=DoorCodePurpose.DOWNLOAD, export=self.door_export, days=7
        )

    def kwargs(self, route: Route) -> dict:
        if route.obj is None:
            return {}
        record = getattr(self, route.obj)
        if route.obj == "certificate":
            return {"pk": record.pk, "fmt": "json"}
        if route.obj == "run":
            return {"run_id": record.run_id, "fmt": "json"}
        if route.name == "report-subject":
            return {"kind": "agreement" if route.obj == "camden_agreement" else "deployment", "pk": record.pk}
        if route.obj == "published":
            return {"slug": record.slug}
        if route.obj == "door_link":
            return {"token": record}
        if route.obj == "door_controller":
            return {"short_name": record.short_name}
        if route.name == "subject-request-download":
            return {"pk": record.pk, "fmt": "pdf"}
        if route.obj == "estate_photo_search":
            return {"pk": record.request_id, "search_pk": record.pk}

        if route.obj == "invitation":
            return {"secret": record}
        if route.name == "deployment-watchlist-thumbnail":
            return {"pk": record.pk, "image_pk": self.watchlist_image.pk}
        if route.name == "record-consultations":
            slug = {"camden_alert": "alert", "camden_disclosure": "disclosure", "camden_image": "watchlist-image"}
            return {"kind": slug[route.obj], "pk": record.pk}
        if route.name == "subject-consultations":
            return {"reference": record.subject_reference}
        if route.obj == "audit_event":
            return {"pk": record.sequence}  # an audit event is addressed by its number
        if route.name in ("received-acknowledge", "received-query"):
            return {"kind": "agreement", "pk": record.pk}
        if route.name == "breach-action":
            return {"pk": record.pk, "action": "not-notified"}
        return {"pk": record.pk}

    def query(self, route: Route) -> dict:
        search = {"justification": "Route matrix: who reads what.", "text": ""}
        purpose = {"kind": "alerts", "next": "/"}
        return {None: {}, "search": search, "csv": search | {"format": "csv"}, "purpose": purpose}[route.query]

    def markers(self) -> list[tuple[str, frozenset]]:
        """Text that identifies a record, and the organisations' actors who may ever read it: on any
        page or resource, an actor of another organisation must never get it."""
        camden_side = ESTATE | MET_CHAIN | REGULATOR
        return [
            (self.camden_agreement.reference, camden_side),
            (self.btp_agreement.reference, ESTATE | BTP_CHAIN | REGULATOR),
            (self.other_draft.reference, OTHER | BTP_CHAIN | REGULATOR),
            (self.deployment.reference, ESTATE | MET_CHAIN | BTP_CHAIN | REGULATOR),
            (self.camden_alert.subject_reference, camden_side),
            (self.btp_alert.subject_reference, ESTATE | BTP_CHAIN | REGULATOR),
            (self.camden_image.subject_reference, camden_side),
            (self.hold.reason, camden_side),
            (self.camden_disclosure.recipient, camden_side),
            (self.estate_policy.title, ESTATE | REGULATOR),
            # A subject request's contents: the receiving organisation's DPO only (not even regulators).
            (self.estate_sar.requester_name, {"estate.dpo"}),
            (self.door_sar.requester_name, {"estate.dpo"}),
        ]

    def body(self, route: Route) -> tuple[dict, str | None]:
        """The POST body: one that succeeds for an actor who may act (the case runs in a savepoint)."""
        today = timezone.localdate()
        cast = self.cast
        bodies = {
            None: {},
            "empty": {},
            "terminate": {"action": "terminate", "reason": "Route matrix."},
            "revise": {"action": "revise", "change_summary": "Route matrix: yearly review of the assessment."},
            "policy_end": {"action": "end", "ended_on": (today - timedelta(days=1)).isoformat()},
            "commentary": {"principle": "6", "text": "Route matrix: erasures reviewed monthly."},
            "not_notified": {"reason": "Route matrix: low risk, no notification needed, reasons recorded."},
            "question": {"question": "Route matrix: how long are the images kept?"},
            "answer": {"answer": "Route matrix: as the agreement's retention terms say."},
            "amend": {"summary": "Route matrix amendment."},
            "renew": {
                "starts_on": today + timedelta(days=366),
                "ends_on": today + timedelta(days=700),
                "review_on": today + timedelta(days=500),
            },
            "hold": {"target": f"agreement:{self.camden_agreement.pk}", "reason": "Route matrix."},
            "release": {"reason": "Route matrix."},
            "add_camera": {"action": "add_camera", "name": "GS-9", "location": "East gate", "direction": "West"},
            "service_level": {"minutes": "7"},
            "reject": {"decision": "reject", "reason": "poor_image", "notes": "Route matrix."},
            "disclose": {
                "recipient_organisation": cast.camden.pk,
                "recipient": "Camden LFR desk",
                "channel": "cjsm_email",
                "justification": "Route matrix.",
            },
            "outcome": {"outcome": "arrested", "notes": "Route matrix."},
            "sar_stop": {"action": "stop", "reason": "clarification", "on": today.isoformat()},
            "sar_decide": {"ref": f"watchlist-image:{self.camden_image.pk}", "decision_0": "confirmed"},
            "assign_role": {"action": "assign_role", "role": "reviewer"},
            "withdraw": {"reason": "Route matrix: warrant executed."},
            "correct": {"outcome": "spoken_to", "reason": ""},
            "camera_issue": {"action": "issue"},
            "authorise": {"decision": "authorise", **AUTHORISATION_REASONS},
            "post_review": {
                "outcomes": "Route matrix: one arrest.",
                "false_alerts": "Route matrix: none raised.",
                "issues": "Route matrix: none found.",
                "continue_decision": "continue",
            },
        }
        if route.body == "bulk":
            return {"items": [{"agreement": self.camden_agreement.pk}]}, "application/json"
        if route.body == "api_service_level":
            return {"review_service_level_minutes": 9}, "application/json"
        if route.body == "api_outcome":
            return {"outcome": "arrested", "notes": "Route matrix."}, "application/json"
        return bodies[route.body], None


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            OVERSIGHT_DOOR_RATE_PER_ADDRESS="100000/h",  # every actor posts from the test client's address
        ),
        transaction.atomic(),
    ):
        # Inside this transaction nothing commits: after-commit work (enrolment of the uploaded
        # images) never runs, so the world is the same on every machine.
        built = World()
        built.media = media
        # One client for every case (its middleware loads once) and one session per user, signed
        # in here; each case rolls back what its request changed (a sign-out, a new camera).
        built.client = Client()
        built.sessions = {}
        for actor, user in built.users.items():
            built.client.force_login(user)
            built.sessions[actor] = built.client.cookies[django_settings.SESSION_COOKIE_NAME].value
            built.client.cookies.clear()
        yield built
        transaction.set_rollback(True)


# --- the requests ----------------------------------------------------------------------------------


def _outcome(response) -> str:
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        if location.startswith((reverse("login"), reverse("admin:login"))):
            return "login"
        refused = [m for m in get_messages(response.wsgi_request) if m.level == messages.ERROR]
        return "refused" if refused else "ok"
    if response.status_code < 300 or response.status_code == 400:
        return "ok"
    return str(response.status_code)


def _cases():
    for route in ROUTES:
        for actor in sorted(route.actors):
            marks = []
            fault = KNOWN_FAULTS.get((route.name, route.obj or route.query, actor))
            if fault:
                marks.append(pytest.mark.xfail(reason=fault, strict=True))
            yield pytest.param(route, actor, id=f"{route.name}[{route.obj or route.query or '-'}]-{actor}", marks=marks)


@pytest.mark.parametrize(("route", "actor"), list(_cases()))
def test_route_answers_each_actor_as_the_access_layer_says(route, actor, world, db, settings):
    settings.MEDIA_ROOT = world.media
    client = world.client
    client.cookies.clear()
    # Every request says why (the header a web page also accepts), so a page that shows personal data
    # answers it rather than its purpose form; the rule below checks that it recorded the consultation.
    headers = {"HTTP_X_OVERSIGHT_PURPOSE": "Route matrix: who reads what"}
    consultations = AuditEvent.objects.filter(action=AuditAction.CONSULTATION)
    before = consultations.count()
    if actor in world.users:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    elif actor in TOKENS:
        headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[actor]}"
    elif actor in CAMERAS:
        headers["HTTP_AUTHORIZATION"] = f"Camera {world.camera_keys[actor]}"
    url = reverse("admin:index") if route.name == "admin" else reverse(route.name, kwargs=world.kwargs(route))
    if route.method == "post" and route.query:
        response = client.post(url, world.query(route), **headers)
    elif route.method == "post":
        data, content_type = world.body(route)
        extra = {"content_type": content_type} if content_type else {}
        response = client.post(url, data, **extra, **headers)
    else:
        response = client.get(url, world.query(route), **headers)
    got = _outcome(response)
    assert got == route.expected(actor), (
        f"{route.method.upper()} {url} as {actor}: got {got} ({response.status_code}), expected {route.expected(actor)}"
    )
    if response.status_code == 200 and shows_personal_data(resolve(url).func):
        # s.62: every answer that shows personal data is on the record (issue 22).
        assert consultations.count() > before, f"{route.method.upper()} {url} as {actor} wrote no consultation event"
    if response.status_code == 200 and not route.public:  # a published report is public by design
        content = b"".join(response.streaming_content) if response.streaming else response.content
        text = content.decode(errors="replace")
        leaked = [marker for marker, readers in world.markers() if actor not in readers and marker in text]
        context = [text[max(0, text.find(m) - 300) : text.find(m) + 100] for m in leaked]
        assert leaked == [], f"{route.method.upper()} {url} as {actor} shows another organisation's records: {context}"


def test_the_world_gives_every_record_a_known_owner(world, db):
    assert uuid.UUID(str(world.run.run_id))
    assert world.certificate is not None and world.certificate.supplier_organisation_id == world.cast.camden.pk
    assert world.hold.supplier_organisation_id == world.cast.camden.pk
    assert world.camden_alert.supplying_organisation_id == world.cast.camden.pk
    assert world.btp_alert.supplying_organisation_id == world.cast.btp.pk
