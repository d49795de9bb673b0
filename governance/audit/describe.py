"""Audit events in plain words: "Approved by Priya Shah (Metropolitan Police Service) — DPA 2018
s.62: alteration", and the record an event names as a link to its page.

Two registries, each app filling its own (recognition registers its events and its records in
``recognition.deployments.audit_words``; governance never needs to know what an alert is):

- ``event_phrase_register(code, phrase)``: what happened, as a past-tense phrase ("Approved",
  "Watchlist image withdrawn"). An event without a phrase is written from its code
  ("Document read"), so nothing is ever shown as a raw code alone; the code itself stays on the page
  in small print and in the CSV export, for whoever greps for it.
- ``audit_target_register(target_type, noun, url)``: what kind of record a ``target_type`` is
  ("agreement") and where its page is (``url(target_id) -> str | None``). The link leads to the
  record's own page, whose access function decides what the reader sees (another organisation's
  record is "not found" there like everywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from governance.audit.models import AuditAction
from governance.registry import Registry

_PHRASES: Registry[str] = Registry("audit event phrase")


@dataclass(frozen=True)
class AuditTarget:
    target_type: str
    noun: str
    url: Callable[[str], str | None] | None = None


_TARGETS: Registry[AuditTarget] = Registry("audit target")


def event_phrase_register(code: str, phrase: str) -> None:
    _PHRASES.register(code, phrase)


def event_phrases_register(phrases: dict[str, str]) -> None:
    for code, phrase in phrases.items():
        _PHRASES.register(code, phrase)


def audit_target_register(target_type: str, noun: str, url_name: str | None = None, url=None) -> AuditTarget:
    """``url_name``: a route taking the target's id as its one argument; or ``url(target_id)``."""
    if url is None and url_name is not None:

        def url(target_id: str, _name: str = url_name) -> str | None:
            try:
                return reverse(_name, args=[int(target_id)])
            except (NoReverseMatch, ValueError):
                return None

    target = AuditTarget(target_type, noun, url)
    return _TARGETS.register(target_type, target)


def event_phrase(code: str) -> str:
    if code in _PHRASES:
        return _PHRASES[code]
    _, _, verb = code.rpartition(".")
    return (verb or code).replace("_", " ").capitalize()


def target_noun(target_type: str) -> str:
    target = _TARGETS.get(target_type)
    if target:
        return target.noun
    return target_type.rpartition(".")[2].replace("_", " ")


def target_url(target_type: str, target_id: str) -> str | None:
    target = _TARGETS.get(target_type)
    return target.url(target_id) if target and target.url else None


_S62 = {
    AuditAction.COLLECTION,
    AuditAction.ALTERATION,
    AuditAction.CONSULTATION,
    AuditAction.DISCLOSURE,
    AuditAction.COMBINATION,
    AuditAction.ERASURE,
}


def action_words(action: str) -> str:
    if action in _S62:
        return f"DPA 2018 s.62: {AuditAction(action).label.lower()}"
    if action == AuditAction.AUTHENTICATION:
        return "sign-in and account security"
    return action


@dataclass
class EventWords:
    phrase: str
    actor: str  # "Priya Shah (Metropolitan Police Service)", or "Oversight (scheduled)"
    action: str  # "DPA 2018 s.62: alteration"
    target_noun: str
    target_url: str | None

    @property
    def sentence(self) -> str:
        return f"{self.phrase} by {self.actor} — {self.action}"


def events_described(events: Iterable) -> list:
    """Each event with ``.words`` (``EventWords``), the actors' names fetched in one query."""
    from governance.organisations.models import User

    events = list(events)
    ids = {e.actor_id for e in events if e.actor_id}
    names = {
        u.pk: (u.get_full_name() or u.username)
        for u in User.objects.filter(pk__in=ids).only("pk", "username", "first_name", "last_name")
    }
    for e in events:
        name = names.get(e.actor_id) or e.actor_username
        if not e.actor_id and name in {"", "system"}:  # the scheduler (beat), not a person
            actor = "Oversight (scheduled)"
        elif name:
            actor = f"{name} ({e.actor_organisation})" if e.actor_organisation else name
        else:
            actor = "Oversight"
        e.words = EventWords(
            phrase=event_phrase(e.event),
            actor=actor,
            action=action_words(e.action),
            target_noun=target_noun(e.target_type),
            target_url=target_url(e.target_type, e.target_id),
        )
    return events


# --- governance's own events and records -------------------------------------------------------

event_phrases_register(
    {
        # agreements
        "agreement.drafted": "Drafted",
        "agreement.edited": "Draft edited",
        "agreement.submitted": "Submitted for force-level approval",
        "agreement.countersigned": "Countersigned for the operator",
        "agreement.regulator_notified": "Notification to the regulator recorded",
        "agreement.approved": "Approved",
        "agreement.activated": "Came into force on its start date",
        "agreement.expired": "Expired on its end date",
        "agreement.terminated": "Terminated",
        "agreement.superseded": "Superseded by a newer version",
        "agreement.amendment_drafted": "Amendment drafted",
        "agreement.renewal_drafted": "Renewal drafted",
        "agreement.document_attached": "Signed document attached",
        "agreement.document_read": "Signed document downloaded",
        "agreement.recorded_retrospectively": "Recorded retrospectively (historical agreement)",
        # watchlist images
        "watchlist_image.received": "Watchlist image received",
        "watchlist_image.enrolled": "Watchlist image enrolled for matching",
        "watchlist_image.rejected": "Watchlist image rejected at enrolment",
        "watchlist_image.withdrawn": "Watchlist image withdrawn",
        "watchlist_image.erased": "Watchlist image erased",
        "watchlist_image.bytes_read": "Watchlist image viewed",
        "watchlist_image.viewed_for_review": "Watchlist image viewed for the watchlist review",
        "watchlist_image.agreement_ended": "Watchlist image's agreement ended",
        "watchlist_image.recorded_retrospectively": "Watchlist image recorded retrospectively",
        "watchlist_images.carried_to_amendment": "Watchlist images carried to the amended agreement",
        # DPIAs and policy documents
        "dpia.drafted": "DPIA drafted",
        "dpia.edited": "DPIA edited",
        "dpia.revised": "DPIA revised (new version)",
        "dpia.submitted": "DPIA submitted for sign-off",
        "dpia.approved": "DPIA approved",
        "dpia.rejected": "DPIA sent back",
        "dpia.superseded": "DPIA superseded by a newer version",
        "dpia.risk_added": "Risk added to the DPIA",
        "dpia.risk_edited": "DPIA risk edited",
        "dpia.risk_removed": "Risk removed from the DPIA",
        "dpia.agreements_set": "Agreements covered by the DPIA set",
        "dpia.deployment_covered": "Deployment brought under the DPIA",
        "dpia.deployment_uncovered": "Deployment taken out of the DPIA",
        "dpia.flagged_for_review": "DPIA flagged for review",
        "dpia.prior_consultation_recorded": "Prior consultation with the Commissioner recorded (s.65)",
        "policy_document.drafted": "Appropriate policy document drafted",
        "policy_document.edited": "Appropriate policy document edited",
        "policy_document.revised": "Appropriate policy document revised",
        "policy_document.approved": "Appropriate policy document approved",
        "policy_document.superseded": "Appropriate policy document superseded",
        "policy_document.processing_ended": "End of the processing recorded",
        "policy_document.erased": "Appropriate policy document erased (s.42(3))",
        # retention, breaches, reports, the log itself
        "legal_hold.placed": "Legal hold placed",
        "legal_hold.released": "Legal hold released",
        "breach.recorded": "Personal data breach recorded",
        "breach.commissioner_notified": "Breach notified to the Commissioner",
        "breach.commissioner_not_notified": "Decision not to notify the Commissioner recorded",
        "breach.subjects_informed": "Data subjects informed of the breach",
        "report.transparency_published": "Transparency report published",
        "report.principle_commentary": "Commentary on the code's principles recorded",
        "audit_log.searched": "Audit log searched",
        "audit_log.exported": "Audit log exported",
        # organisations, accounts, sign-in
        "organisation.created": "Organisation registered",
        "user.created": "Account created",
        "api_token.issued": "API token issued",
        "api_token.revoked": "API token revoked",
        "api_token.first_used": "API token used for the first time",
        "signin.succeeded": "Signed in",
        "signin.password_accepted": "Password accepted (second factor next)",
        "signin.failed": "Sign-in failed",
        "signin.locked_out": "Account locked after repeated failures",
        "signin.idle_timeout": "Signed out after inactivity",
        "second_factor.enrolled": "Second factor set up",
        "second_factor.enrol_failed": "Second factor set-up failed",
        "second_factor.verified": "Second factor verified",
        "second_factor.failed": "Second factor code refused",
        "second_factor.recovery_codes_issued": "Recovery codes issued",
    }
)

for _type, _noun, _url_name in (
    ("governance.agreement", "agreement", "agreement-detail"),
    ("governance.watchlistimage", "watchlist image", "watchlist-image-detail"),
    ("governance.watchlistimagecontent", "stored image", None),
    ("governance.dpia", "DPIA", "dpia-detail"),
    ("governance.policydocument", "appropriate policy document", "policy-detail"),
    ("governance.breach", "breach", "breach-detail"),
    ("governance.organisation", "organisation", None),
    ("governance.user", "account", None),
    ("governance.apitoken", "API token", None),
    ("retention.retentionrun", "retention sweep", None),
    ("governance.auditlog", "audit log", None),
):
    audit_target_register(_type, _noun, _url_name)
audit_target_register("retention.legalhold", "legal hold", url=lambda _id: reverse("retention-dashboard"))


def _certificate_url(target_id: str) -> str | None:
    try:
        return reverse("deletion-certificate", args=[int(target_id), "pdf"])
    except (NoReverseMatch, ValueError):
        return None


audit_target_register("governance.deletioncertificate", "deletion certificate", url=_certificate_url)
