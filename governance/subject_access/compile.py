"""Compiling a subject request's response: every confirmed item through its provider, redacted.

The straight line (ARCHITECTURE.md, "A person asks"): confirmed ``ItemRef``s → each kind's
registered provider compiles its item through the access layer → restricted items are withheld
with their recorded reason → every ``Picture`` goes through the registered face redactor with the
subject's box (no redactor: the picture is withheld, never exported unredacted) → staff names
become roles where the policy says so → the audit events about the person (whose target is any
compiled item's ``audit_targets``; one indexed lookup, ``audit_target_idx``) → the Art. 15(1)
statement and the non-match explanation. The result (``SubjectResponse``) is plain data: the PDF
and the JSON are two renderings of it (``governance.subject_access.documents``).

Reads only; the export service audits the disclosure.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from governance.audit.describe import event_phrase
from governance.audit.models import AuditEvent
from governance.subject_access.models import ItemDecision, Regime, SubjectRequest
from governance.subject_access.registry import (
    ItemRef,
    StaffMention,
    SubjectItem,
    face_redactor,
    subject_data_provider,
)

NO_REDACTOR = (
    "Withheld: no face redactor is available to blur other people's faces in this picture, and a picture "
    "is never disclosed with another person's face visible."
)
REDACTION_FAILED = "Withheld: other people's faces in this picture could not be blurred reliably."

# What exists about faces that did not match (recognition.deployments FaceScanCounter, per camera
# and hour): named in every response so a passer-by learns what is and is not kept.
NON_MATCH_COUNTERS = (
    "faces scanned",
    "frames processed",
    "frames shed under load",
    "frames refused",
    "alerts raised",
)


def non_match_explanation() -> str:
    return (
        "Faces seen by the cameras that do not match anyone on a watchlist are not kept. The comparison happens "
        "in memory, in the fraction of a second after the camera sees the face, and the face image and the "
        "biometric template made from it are deleted immediately and automatically: nothing that could identify "
        "you is stored, so no search can find it. The only trace is aggregate counters, per camera and per hour, "
        "that contain nothing about any individual: " + ", ".join(NON_MATCH_COUNTERS) + "."
    )


RIGHTS_STATEMENT = {
    Regime.UK_GDPR: [
        "You may ask us to correct inaccurate data about you (UK GDPR Art. 16), to erase it (Art. 17), to restrict "
        "its processing (Art. 18) and to object to it (Art. 21).",
        "You may complain to the Information Commissioner's Office (ico.org.uk, 0303 123 1113) at any time.",
    ],
    Regime.DPA_PART3: [
        "You may ask us to rectify inaccurate data about you (DPA 2018 s.46), and to erase it or restrict its "
        "processing (s.47).",
        "You may complain to the Information Commissioner's Office (ico.org.uk, 0303 123 1113), and apply to a "
        "court (s.167).",
    ],
}


def restriction_rights(regime: str) -> str:
    """What a person whose access is restricted is told of their rights.

    DPA 2018 s.45(5) (Part 3): the controller must inform the data subject in writing "(a) that the
    data subject's rights have been restricted, (b) of the reasons for the restriction, (c) of the
    data subject's right to make a request to the Commissioner under section 51, (d) of the data
    subject's right to lodge a complaint with the Commissioner, and (e) of the data subject's right
    to apply to a court under section 167". s.51: the Commissioner checks that the restriction was
    lawful. Under the UK GDPR (a restriction relying on DPA 2018 Sch. 2) there is no s.51 request:
    the person may complain to the Commissioner (Art. 77) and go to court (Art. 79; s.167)."""
    if regime == Regime.DPA_PART3:
        return (
            "You have the right to ask the Information Commissioner to check that the restriction is lawful "
            "(DPA 2018 s.51), to complain to the Information Commissioner (ico.org.uk, 0303 123 1113), and to "
            "apply to a court (DPA 2018 s.167)."
        )
    return (
        "You have the right to complain to the Information Commissioner (ico.org.uk, 0303 123 1113; UK GDPR "
        "Art. 77) and to apply to a court (UK GDPR Art. 79; DPA 2018 s.167)."
    )


# The fact in which a provider states what human review an item had — derived from what happened to it
# (who reviewed it, in which roles, what each reviewer was shown, the decisions) — and which section 2 of
# the response repeats under "Automated matching and human review" (UK GDPR Art. 15(1)(h), Art. 22;
# DPA 2018 ss.49-50). Never a fixed sentence: an alert nobody reviewed must not be told it was reviewed.
HUMAN_REVIEW_FACT = "Human review"
NO_DECISION_STATEMENT = (
    "No record we hold about you shows an alert or any decision about you, by the system or by a person."
)


def _automated_decisions(items: list[SubjectItem]) -> list[str]:
    told = [f"{i.title}: {value}" for i in items for label, value in i.facts if label == HUMAN_REVIEW_FACT]
    return told or [NO_DECISION_STATEMENT]


DEFAULT_PURPOSES = ["Locating people on a police watchlist at the places where live facial recognition is used."]
CATEGORIES = {
    "Watchlist entries": "Facial images supplied by police, with their provenance (custody category, case reference)",
    "Alerts": "Camera crops of faces that matched a watchlist image, with the score and the time and place",
    "Erasures": "Records that personal data about you was erased (deletion certificates)",
}


@dataclass
class ResponsePicture:
    caption: str
    jpeg: bytes | None = None  # redacted; None when withheld
    withheld_reason: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest() if self.jpeg else ""


@dataclass
class ResponseItem:
    ref: str
    section: str
    title: str
    facts: list[tuple[str, str]]
    pictures: list[ResponsePicture]
    staff: list[str]
    source: str
    recipients: list[str]
    retention: str
    purposes: list[str]
    controller_id: int | None


@dataclass
class ResponseEvent:
    sequence: int
    occurred_at: datetime
    action: str
    event: str  # the code: kept for the machine-readable JSON, never shown in the PDF
    what: str  # what happened, in plain words (``governance.audit.describe.event_phrase``)
    actor: str
    organisation: str
    justification: str
    recipient: str
    target: str
    leaf_index: int | None = None  # its leaf in the signed log (None while it waits for the sequencer)
    leaf_hash: str = ""
    path: list[str] = field(default_factory=list)  # the audit path to ``SubjectResponse.proofs``' head


@dataclass
class SubjectResponse:
    request: SubjectRequest
    generated_at: datetime
    sections: dict[str, list[ResponseItem]] = field(default_factory=dict)
    events: list[ResponseEvent] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # what the response may say about withheld items
    neither_confirm_nor_deny: bool = False
    no_longer_held: list[str] = field(default_factory=list)
    art15: dict[str, Any] = field(default_factory=dict)
    non_match: str = ""
    staff_as_roles: bool = False
    # The inclusion proofs of the cited events in one signed head (``tlog.PROOF_BUNDLE_FORMAT``): anyone checks
    # them with the single-file verifier (``tlog.py --proofs``). Empty when no event is cited or signed yet.
    proofs: dict[str, Any] = field(default_factory=dict)

    @property
    def found_anything(self) -> bool:
        return any(self.sections.values())

    @property
    def item_count(self) -> int:
        return sum(len(items) for items in self.sections.values())

    @property
    def picture_count(self) -> int:
        return sum(1 for items in self.sections.values() for i in items for p in i.pictures if p.jpeg)


def _staff_line(mention: StaffMention, as_roles: bool) -> str:
    return mention.role if as_roles else f"{mention.name} ({mention.role})"


def _organisation_policies(ids: set[int]) -> dict[int, bool]:
    from governance.organisations.models import Organisation

    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "staff_names_as_roles"))


def _redacted(pictures, redact) -> list[ResponsePicture]:
    out = []
    for picture in pictures:
        if redact is None:
            out.append(ResponsePicture(caption=picture.caption, withheld_reason=NO_REDACTOR))
            continue
        try:
            jpeg = redact(picture.jpeg, picture.subject_box)
        except Exception:  # noqa: BLE001 - a redactor that cannot blur must never let the picture out
            out.append(ResponsePicture(caption=picture.caption, withheld_reason=REDACTION_FAILED))
            continue
        if not jpeg:
            out.append(ResponsePicture(caption=picture.caption, withheld_reason=REDACTION_FAILED))
        else:
            out.append(ResponsePicture(caption=picture.caption, jpeg=bytes(jpeg)))
    return out


def audit_events_about(targets: list[tuple[str, str]]):
    """The audit events whose target is one of ``targets`` ((type, id) pairs): one query per target
    type, ``target_type = t AND target_id IN (...)``, served by ``audit_target_idx``."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for target_type, target_id in targets:
        by_type[str(target_type)].add(str(target_id))
    if not by_type:
        return AuditEvent.objects.none()
    condition = Q()
    for target_type, ids in by_type.items():
        condition |= Q(target_type=target_type, target_id__in=sorted(ids))
    return AuditEvent.objects.filter(condition).order_by("sequence")


def _event_actor(event, as_roles: bool, people: dict[int, tuple[str, str]]) -> str:
    """Who acted, for the data subject: a role ("Data protection officer"), or the person's name
    where the organisation's policy names staff — never an internal username."""
    if not event.actor_id:
        return "Oversight (automatic)"
    role, name = people.get(event.actor_id, ("Member of staff", ""))
    if as_roles or not name:
        return role
    return f"{name}, {role.lower()}"


def _actor_people(actor_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each actor's (role, full name); the name is blank where none is recorded."""
    from governance.organisations.models import User

    people = {}
    for user in User.objects.filter(pk__in=actor_ids).prefetch_related("groups"):
        names = user.role_names
        people[user.pk] = (", ".join(names) if names else (user.job_title or "Member of staff"), user.get_full_name())
    return people


def compile_response(
    *, actor: Any, request: SubjectRequest, progress: Callable[[int, str], None] | None = None
) -> SubjectResponse:
    """The response to ``request`` as ``actor`` (the DPO answering it) may compile it."""
    progress = progress or (lambda percent, stage: None)
    response = SubjectResponse(request=request, generated_at=timezone.now(), non_match=non_match_explanation())
    confirmed = list(request.items.filter(decision=ItemDecision.CONFIRMED).order_by("pk"))
    redact = face_redactor()
    policies = _organisation_policies({request.organisation_id})
    response.staff_as_roles = as_roles = policies.get(request.organisation_id, False)
    targets: list[tuple[str, str]] = []
    compiled: list[SubjectItem] = []
    # A restriction withholds the item and everything derived from it (its ``related`` items: an
    # image's deletion certificates, an alert's review...), so nothing confirms it indirectly.
    withheld_refs = set()
    for decision in confirmed:
        if decision.restricted:
            withheld_refs.add(decision.ref)
            ref = ItemRef.parse(decision.ref)
            provider = subject_data_provider(ref.kind)
            item = provider.compile(actor, ref) if provider else None
            withheld_refs.update(str(r) for r in (item.related if item else []))
            if decision.neither_confirm_nor_deny:
                response.neither_confirm_nor_deny = True
            else:
                response.withheld.append(
                    f"Information has been withheld under {decision.get_restriction_basis_display()}. "
                    f"Reason: {decision.restriction_reason} {restriction_rights(request.regime)}"
                )
    for index, decision in enumerate(confirmed):
        progress(10 + int(50 * index / max(len(confirmed), 1)), f"Compiling item {index + 1} of {len(confirmed)}")
        if decision.ref in withheld_refs:
            continue
        ref = ItemRef.parse(decision.ref)
        provider = subject_data_provider(ref.kind)
        item = provider.compile(actor, ref) if provider else None
        if item is None:
            response.no_longer_held.append(decision.ref)
            continue
        compiled.append(item)
        targets.extend(item.audit_targets)
    staff_orgs = {m.organisation_id for item in compiled for m in item.staff if m.organisation_id}
    policies.update(_organisation_policies(staff_orgs - set(policies)))
    for item in compiled:
        staff = [
            _staff_line(m, as_roles or policies.get(m.organisation_id or 0, False)) for m in item.staff
        ]  # the answering organisation's policy, or the staff member's own organisation's
        response.sections.setdefault(item.section, []).append(
            ResponseItem(
                ref=str(item.ref),
                section=item.section,
                title=item.title,
                facts=[(str(label), str(value)) for label, value in item.facts],
                pictures=_redacted(item.pictures, redact),
                staff=staff,
                source=item.source,
                recipients=list(item.recipients),
                retention=item.retention,
                purposes=list(item.purposes),
                controller_id=item.controller_id,
            )
        )
    progress(65, "Reading the audit events about the subject")
    events = list(
        audit_events_about(targets).only(
            "sequence",
            "occurred_at",
            "action",
            "event",
            "actor_id",
            "actor_username",
            "actor_organisation",
            "justification",
            "recipient",
            "target_type",
            "target_id",
            "content_digest",
            "field_digests",
            "chain_hash",
            "previous_hash",
        )
    )
    people = _actor_people({e.actor_id for e in events if e.actor_id})
    response.events = [
        ResponseEvent(
            sequence=e.sequence,
            occurred_at=e.occurred_at,
            action=e.get_action_display(),
            event=e.event,
            what=event_phrase(e.event),
            actor=_event_actor(e, as_roles, people),
            organisation=e.actor_organisation,
            justification=e.justification,
            recipient=e.recipient,
            target=f"{e.target_type}:{e.target_id}",
        )
        for e in events
    ]
    response.proofs = _event_proofs(events, response.events)
    response.art15 = _art15(request, compiled)
    progress(70, "Compiled")
    return response


def _event_proofs(events: list[AuditEvent], cited: list[ResponseEvent]) -> dict[str, Any]:
    """Each cited event's RFC 6962 inclusion proof in the latest signed head (the same for all, so the
    reader checks one head); an event still waiting for the sequencer is cited without a proof."""
    from governance.audit import tlog
    from governance.audit.sequencer import head_public_keys, inclusion_proof, latest_head
    from governance.errors import AuditEventNotSequenced

    head = latest_head()
    if head is None or not events:
        return {}
    proofs = []
    for event, line in zip(events, cited, strict=True):
        try:
            proof = inclusion_proof(event, head)
        except AuditEventNotSequenced:
            continue
        line.leaf_index, line.leaf_hash, line.path = proof["leaf_index"], proof["leaf_hash"], proof["path"]
        proofs.append(proof)
    return {
        "format": tlog.PROOF_BUNDLE_FORMAT,
        "head": head.as_dict(),
        "public_keys": head_public_keys(),
        "proofs": proofs,
    }


def _art15(request: SubjectRequest, items: list[SubjectItem]) -> dict[str, Any]:
    """What UK GDPR Art. 15(1) / DPA 2018 s.45(2) require the response to state."""

    def union(values) -> list[str]:
        return list(dict.fromkeys(v for v in values if v))

    sections = union(i.section for i in items)
    return {
        "purposes": union([p for i in items for p in i.purposes]) or DEFAULT_PURPOSES,
        "categories": [f"{s}: {CATEGORIES[s]}" if s in CATEGORIES else s for s in sections]
        or ["None: we hold no personal data about you in this system."],
        "recipients": union(r for i in items for r in i.recipients) or ["None."],
        "retention": union(f"{i.section}: {i.retention}" for i in items if i.retention)
        or ["Faces that do not match are deleted immediately; alert data is kept up to 31 days after a match."],
        "source": union(i.source for i in items) or ["None."],
        "rights": RIGHTS_STATEMENT.get(request.regime, RIGHTS_STATEMENT[Regime.UK_GDPR]),
        "automated_decisions": _automated_decisions(items),
    }
