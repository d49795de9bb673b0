"""Writes for subject requests: intake, the clock, search and decisions, restrictions, referral to
another controller, the other rights, the export (queued here; built by its task in ``exports``) and its
downloads, the staff-names policy. When the clock stops it says so (``signals.clock_stopped``) for the public door.

Every function here is an entry point: it checks who may act (``governance.subject_access.access``),
opens its own ``transaction.atomic()``, changes state and writes its DPA 2018 s.62 audit event in
that same transaction (the request's ``concerned_organisation_ids()`` scope it in the log). Nothing
biometric goes into an audit event: a face search is logged as "by face", never with the photo or
the engine's vector; a search's photo is kept (encrypted) only until its worker has searched, then erased.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import ApplicationError, NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.image_doors import image_door
from governance.inputs import is_id, meaningful_justification
from governance.locks import lock_rows
from governance.organisations.models import Organisation, OrganisationKind, User
from governance.references import next_free_reference, save_with_next_reference
from governance.retention.erasure import erasure_with_certificate
from governance.subject_access import deadlines
from governance.subject_access.access import (
    can_receive_subject_requests,
    subject_request_check,
)
from governance.subject_access.models import (
    CLOCK_STOPPED_STATUSES,
    CLOSED_STATUSES,
    RIGHT_PROVISIONS,
    ActionOutcome,
    ExportStatus,
    ItemDecision,
    PauseReason,
    Regime,
    RequestStatus,
    RestrictionBasis,
    SubjectPhotoSearch,
    SubjectRequest,
    SubjectRequestAction,
    SubjectRequestExport,
    SubjectRequestItem,
    SubjectRequestPause,
    SubjectRight,
)
from governance.subject_access.registry import (
    Candidate,
    ItemRef,
    SubjectQuery,
    face_reader,
    subject_data_provider,
    subject_data_providers,
)
from governance.subject_access.request_rows import request_locked, require_open
from governance.subject_access.signals import clock_stopped

logger = logging.getLogger(__name__)

MIN_JUSTIFICATION_CHARS = 10
MAX_REFERENCES = 20


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _references(values) -> list[str]:
    if isinstance(values, str):
        values = values.replace(",", "\n").splitlines()
    cleaned = list(dict.fromkeys(v.strip() for v in values or [] if v and v.strip()))
    if len(cleaned) > MAX_REFERENCES:
        raise ValidationFailed(f"At most {MAX_REFERENCES} references.", code="too_many_references")
    if any(len(v) > 120 for v in cleaned):
        raise ValidationFailed("A reference is at most 120 characters.", code="reference_too_long")
    return cleaned


def _pauses(request: SubjectRequest) -> list[deadlines.ClockPause]:
    """What the requester was asked for and the law lets count (a clarification recorded on a
    request other than access before the rule was enforced does not: ``deadlines.wait_refusal``)."""
    return [
        deadlines.ClockPause(p.stopped_on, p.restarted_on, p.reason)
        for p in request.pauses.order_by("stopped_on", "pk")
        if deadlines.wait_refusal(right=request.right, reason=p.reason) is None
    ]


def subject_request_due(request: SubjectRequest) -> date | None:
    """The request's deadline from its recorded receipt, pauses and extension (``deadlines``)."""
    return deadlines.response_due(request.received_on, _pauses(request), extension_months=request.extension_months)


def _save_due(request: SubjectRequest) -> None:
    request.due_on = subject_request_due(request)
    request.save(update_fields=["due_on", "status"])


# --- intake -----------------------------------------------------------------------------------------

INTAKE_FIELDS = (
    "regime",
    "right",
    "requester_name",
    "requester_contact",
    "acting_for_subject",
    "request_text",
    "subject_references",
    "case_references",
    "received_on",
    "identity_verified_how",
    "identity_verified_by_name",
    "identity_verified_on",
)


def _intake_errors(organisation: Organisation, values: dict[str, Any], awaiting_identity: bool) -> dict[str, list]:
    errors: dict[str, list[str]] = {}
    regime, right = values.get("regime"), values.get("right")
    if regime not in Regime.values:
        errors["regime"] = ["Choose UK GDPR or DPA 2018 Part 3."]
    elif organisation.kind == OrganisationKind.OPERATOR and regime != Regime.UK_GDPR:
        errors["regime"] = ["An operator's processing is under the UK GDPR; Part 3 is for competent authorities."]
    if right not in SubjectRight.values:
        errors["right"] = ["Choose the right exercised."]
    elif regime in Regime.values and right not in RIGHT_PROVISIONS[regime]:
        errors["right"] = [f"{SubjectRight(right).label} is not a right under {Regime(regime).label}."]
    for name in ("requester_name", "requester_contact", "request_text"):
        if not str(values.get(name) or "").strip():
            errors[name] = ["This field is required."]
    received = values.get("received_on")
    today = timezone.localdate()
    if not isinstance(received, date):
        errors["received_on"] = ["Give the day the request was received."]
    elif received > today:
        errors["received_on"] = ["The request cannot have been received in the future."]
    if not awaiting_identity:
        for name in ("identity_verified_how", "identity_verified_by_name"):
            if not str(values.get(name) or "").strip():
                errors[name] = ["Say how identity was verified and by whom, or stop the clock while it is awaited."]
        verified = values.get("identity_verified_on")
        if verified and isinstance(received, date) and verified > today:
            errors["identity_verified_on"] = ["Identity cannot have been verified in the future."]
    return errors


def subject_request_receive(
    *, actor: User, fields: dict[str, Any], awaiting_identity: bool = False, referred_from: SubjectRequest | None = None
) -> SubjectRequest:
    """Record a request the actor's organisation received. Awaiting identity: the clock is stopped
    from the day of receipt until proof of identity arrives (``subject_request_clock_restart``)."""
    if not can_receive_subject_requests(actor):
        raise PermissionRefused("Only a data protection officer records subject requests.")
    return _record_request(
        actor=actor,
        organisation=actor.organisation,
        fields=fields,
        awaiting_identity=awaiting_identity,
        referred_from=referred_from,
    )


def subject_request_receive_through_door(*, organisation: Organisation, fields: dict[str, Any]) -> SubjectRequest:
    """A request a person submitted on the controller's public page (no one signed in: ``actor`` is
    None). Received today; the clock is stopped until the DPO has checked the proof of identity, and
    restarts from the day it arrived (s.54(3)). The caller (``door.services``) holds the transaction."""
    return _record_request(
        actor=None, organisation=organisation, fields=fields, awaiting_identity=True, referred_from=None
    )


def _record_request(
    *,
    actor: User,
    organisation: Organisation,
    fields: dict[str, Any],
    awaiting_identity: bool,
    referred_from: SubjectRequest | None,
) -> SubjectRequest:
    unknown = set(fields) - set(INTAKE_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", details=sorted(unknown))
    values = {name: fields.get(name) for name in INTAKE_FIELDS}
    values["subject_references"] = _references(values.get("subject_references"))
    values["case_references"] = _references(values.get("case_references"))
    for name in INTAKE_FIELDS:
        if values[name] is None and name not in ("received_on", "identity_verified_on"):
            values[name] = ""
    errors = _intake_errors(organisation, values, awaiting_identity)
    if errors:
        raise ValidationFailed("The request is not complete.", code="request_incomplete", details=errors)
    with transaction.atomic():
        request = SubjectRequest(
            organisation=organisation,
            referred_from=referred_from,
            created_by=actor,
            created_by_name=_name(actor)
            if not referred_from
            else f"{_name(actor)} ({actor.organisation}), by referral",
            status=RequestStatus.AWAITING_IDENTITY if awaiting_identity else RequestStatus.OPEN,
            **{k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()},
        )
        if not awaiting_identity and not request.identity_verified_on:
            request.identity_verified_on = request.received_on
        year = request.received_on.year
        save_with_next_reference(
            request,
            next_reference=lambda: next_free_reference(SubjectRequest.objects.all(), f"SAR-{year}-"),
            taken=lambda reference: SubjectRequest.objects.filter(reference=reference).exists(),
        )
        if awaiting_identity:
            SubjectRequestPause.objects.create(
                request=request,
                reason=PauseReason.IDENTITY,
                stopped_on=request.received_on,
                recorded_by_name=_name(actor),
                note="Proof of identity asked for at receipt.",
            )
        _save_due(request)
        audit_record(
            action=AuditAction.COLLECTION,
            event="subject_request.received",
            actor=actor,
            target=request,
            details={
                "reference": request.reference,
                "right": request.right,
                "regime": request.regime,
                "received_on": request.received_on.isoformat(),
                "awaiting_identity": awaiting_identity,
                "referred_from": referred_from.reference if referred_from else None,
            },
        )
    return request


# --- the clock ----------------------------------------------------------------------------------------


_AWAITING_STATUS = {
    PauseReason.IDENTITY: RequestStatus.AWAITING_IDENTITY,
    PauseReason.FEE: RequestStatus.AWAITING_FEE,
    PauseReason.CLARIFICATION: RequestStatus.AWAITING_CLARIFICATION,
}


def subject_request_clock_stop(
    *, actor: User, request: SubjectRequest, reason: str, on: date, note: str = "", fee_ground: str = ""
):
    """Ask the requester for identity, a fee or clarification on ``on``: the clock stops
    (``deadlines.wait_refusal``: clarification on access requests only; ``deadlines.fee_refusal``:
    a fee only on the grounds the law lists)."""
    subject_request_check(actor, request, to="change")
    refusal = deadlines.wait_refusal(right=request.right, reason=reason)
    if refusal is None and reason == PauseReason.FEE:
        refusal = deadlines.fee_refusal(right=request.right, regime=request.regime, ground=fee_ground)
    if refusal is not None:
        raise ValidationFailed(refusal.message, code=refusal.code)
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        if request.status in CLOCK_STOPPED_STATUSES:
            raise StateConflict("The clock is already stopped.", code="clock_already_stopped")
        if on < request.received_on or on > timezone.localdate():
            raise ValidationFailed("The clock stops between receipt and today.", code="pause_date_invalid")
        last = request.pauses.order_by("-stopped_on", "-pk").first()
        if last and last.restarted_on and on < last.restarted_on:
            raise ValidationFailed("The clock cannot stop before it last restarted.", code="pause_date_invalid")
        pause = SubjectRequestPause.objects.create(
            request=request,
            reason=reason,
            stopped_on=on,
            note=note.strip(),
            fee_ground=fee_ground if reason == PauseReason.FEE else "",
            recorded_by_name=_name(actor),
        )
        request.status = _AWAITING_STATUS[reason]
        _save_due(request)
        clock_stopped.send(sender=SubjectRequest, request=request, pause=pause)
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.clock_stopped",
            actor=actor,
            target=request,
            justification=note,
            details={"reason": reason, "on": on.isoformat(), "fee_ground": fee_ground if reason == "fee" else ""},
        )
    return request


def subject_request_clock_restart(
    *,
    actor: User,
    request: SubjectRequest,
    on: date,
    identity_verified_how: str = "",
    identity_verified_by_name: str = "",
):
    """What was awaited arrived on ``on``: for identity or a fee the month starts again from that day
    (s.54(3)); for a clarification the days from asking to ``on``, both included, do not count
    (s.54(3C)). For identity, record how and by whom it was verified."""
    subject_request_check(actor, request, to="change")
    return clock_restart(
        actor=actor,
        request=request,
        on=on,
        identity_verified_how=identity_verified_how,
        identity_verified_by_name=identity_verified_by_name,
    )


def clock_restart(
    *,
    actor: User | None,
    request: SubjectRequest,
    on: date,
    identity_verified_how: str = "",
    identity_verified_by_name: str = "",
) -> SubjectRequest:
    """The restart itself, for a caller that has already decided it may restart the clock: the DPO
    (``subject_request_clock_restart``) or the requester answering a clarification through the
    public door (``actor`` None). Its own transaction (a savepoint inside the caller's)."""
    with transaction.atomic():
        request = request_locked(request)
        pause = request.pauses.filter(restarted_on__isnull=True).order_by("-pk").first()
        if pause is None or request.status not in CLOCK_STOPPED_STATUSES:
            raise StateConflict("The clock is running.", code="clock_running")
        if on < pause.stopped_on or on > timezone.localdate():
            raise ValidationFailed("The clock restarts between when it stopped and today.", code="restart_date_invalid")
        fields = []
        if pause.reason == PauseReason.IDENTITY:
            if not identity_verified_how.strip() or not identity_verified_by_name.strip():
                raise ValidationFailed(
                    "Say how identity was verified and by whom.", code="identity_verification_required"
                )
            request.identity_verified_how = identity_verified_how.strip()
            request.identity_verified_by_name = identity_verified_by_name.strip()
            request.identity_verified_on = on
            fields = ["identity_verified_how", "identity_verified_by_name", "identity_verified_on"]
        pause.restarted_on = on
        pause.save(update_fields=["restarted_on"])
        request.status = RequestStatus.OPEN
        if fields:
            request.save(update_fields=fields)
        _save_due(request)
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.clock_restarted",
            actor=actor,
            target=request,
            details={
                "reason": pause.reason,
                "on": on.isoformat(),
                "month_restarts": pause.reason in deadlines.RESTARTS_THE_MONTH,
                "days_excluded": pause_days(pause),
                "due_on": str(request.due_on),
            },
        )
    return request


def pause_days(pause: SubjectRequestPause) -> int | None:
    return deadlines.ClockPause(pause.stopped_on, pause.restarted_on, pause.reason).days()


def subject_request_extend(
    *, actor: User, request: SubjectRequest, months: int, reason: str, requester_told_on: date | None
) -> SubjectRequest:
    """Extend the deadline by up to two further months: refused (coded) without a reason or unless
    the requester was told within the first month (``deadlines.extension_refusal``)."""
    subject_request_check(actor, request, to="change")
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        if request.extension_months:
            raise StateConflict("The deadline has already been extended.", code="already_extended")
        refusal = deadlines.extension_refusal(
            received_on=request.received_on,
            pauses=_pauses(request),
            months=months,
            reason=reason,
            requester_told_on=requester_told_on,
        )
        if refusal is not None:
            raise ValidationFailed(refusal.message, code=refusal.code)
        request.extension_months = months
        request.extension_reason = reason.strip()
        request.extension_notified_on = requester_told_on
        request.save(update_fields=["extension_months", "extension_reason", "extension_notified_on"])
        _save_due(request)
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.extended",
            actor=actor,
            target=request,
            justification=reason,
            details={"months": months, "told_on": requester_told_on.isoformat(), "due_on": str(request.due_on)},
        )
    return request


def subject_request_close(*, actor: User, request: SubjectRequest, status: str, note: str) -> SubjectRequest:
    subject_request_check(actor, request, to="change")
    if status not in CLOSED_STATUSES:
        raise ValidationFailed("Close as responded, refused or withdrawn.", code="close_status_invalid")
    if not note.strip():
        raise ValidationFailed("Record how the request was closed.", code="closing_note_required")
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        request.status = status
        request.closed_at = timezone.now()
        request.closing_note = note.strip()
        request.save(update_fields=["status", "closed_at", "closing_note"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.closed",
            actor=actor,
            target=request,
            justification=note,
            details={
                "status": status,
                "due_on": str(request.due_on),
                "late": bool(request.due_on and timezone.localdate() > request.due_on),
            },
        )
    return request


# --- search and decisions -----------------------------------------------------------------------------


@dataclass
class SearchOutcome:
    candidates: list[Candidate] = field(default_factory=list)
    by_face: bool = False
    problems: list[str] = field(default_factory=list)  # providers that could not search, in plain words


def subject_photo_admit(photo: bytes) -> None:
    """The checks a photo search makes inside the web request, all from the bytes' length and header (no pixel
    is decoded, issue 26): the photo's own size limit (``OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES``), then the same checks as
    every image door (``governance.watchlist.validation.image_precheck``: type sniffed, header readable, the format's
    decode budget, JPEG scans, pixels, minimum side), with the same codes; refused as a form error (400) here."""
    from governance.watchlist.errors import ImageRefused
    from governance.watchlist.validation import image_precheck

    limit = settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES
    if len(photo) > limit:
        raise ValidationFailed(
            f"The photo is {len(photo):,} bytes; the limit is {limit:,} bytes.", code="photo_too_large"
        )
    try:
        image_precheck(photo)
    except ImageRefused as refused:
        raise ValidationFailed(refused.message, code=refused.code, details=refused.details) from None


def subject_photo_read(photo: bytes, *, actor: User | None = None, door: bool = True):
    """The requester's photo → the engine's ``FaceProbe`` through the registered face reader, read
    once. The bytes are checked like every upload first (type sniffed, size and pixels capped).

    ``door``: hold one of the organisation's decode slots (``image_door``) while decoding; a worker that bounds
    its own concurrency passes False."""
    from contextlib import nullcontext

    from governance.watchlist.validation import image_clean

    subject_photo_admit(photo)
    with image_door(actor) if door else nullcontext():  # the organisation's decode slots (429 when all are taken)
        clean = image_clean(photo)
    reader = face_reader()
    if reader is None:
        raise ValidationFailed(
            "Search by face is not available: no face engine is registered in this installation.",
            code="face_search_unavailable",
        )
    try:
        return reader(clean.data)
    except ValueError as error:
        raise ValidationFailed(f"The photo cannot be searched: {error}", code="no_usable_face") from None


def _search_terms(
    actor: User, request: SubjectRequest, justification: str, subject_references, case_references, *, photo: bool
) -> tuple[str, list[str], list[str]]:
    """Who may search, the request open, a meaningful justification and something to search by: the checks every
    search makes first. Returns the justification and the two reference lists, cleaned."""
    subject_request_check(actor, request, to="search")
    require_open(request)
    justification = (justification or "").strip()
    if not meaningful_justification(justification, minimum=MIN_JUSTIFICATION_CHARS):
        raise ValidationFailed(
            f"Say why you are searching (at least {MIN_JUSTIFICATION_CHARS} characters): every search is logged "
            "with its justification.",
            code="justification_required",
        )
    subjects, cases = _references(subject_references), _references(case_references)
    if not (subjects or cases or photo):
        raise ValidationFailed("Give a reference or a photo to search by.", code="nothing_to_search")
    return justification, subjects, cases


def _search_refused_record(
    actor: User, request: SubjectRequest, justification: str, subjects: list[str], refused: ApplicationError
) -> None:
    """A refused photo search is still a consultation that was attempted: on the record (issue 22)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="subject_request.search_refused",
            actor=actor,
            target=request,
            justification=justification,
            details={"by_face": True, "refused": refused.code, "subject_references": subjects},
        )


def subject_request_search(
    *,
    actor: User,
    request: SubjectRequest,
    justification: str,
    subject_references=(),
    case_references=(),
    photo: bytes | None = None,
    door: bool = True,
) -> SearchOutcome:
    """Ask every registered provider for candidates; audited as a ``consultation`` with the
    justification (DPA 2018 s.62(3)). Candidates and their crops are returned; a photo search's are kept, encrypted,
    on its ``SubjectPhotoSearch`` until the searcher decides (``subject_photo_search_start``). ``door`` as
    ``subject_photo_read``'s."""
    justification, subjects, cases = _search_terms(
        actor, request, justification, subject_references, case_references, photo=bool(photo)
    )
    try:
        probe = subject_photo_read(photo, actor=actor, door=door) if photo else None
    except ApplicationError as refused:
        _search_refused_record(actor, request, justification, subjects, refused)
        raise
    query = SubjectQuery(
        subject_references=tuple(subjects), case_references=tuple(cases), face=probe, justification=justification
    )
    outcome = SearchOutcome(by_face=probe is not None)
    for provider in subject_data_providers():
        try:
            outcome.candidates.extend(provider.search(actor, query))
        except ApplicationError as error:
            outcome.problems.append(f"{provider.title}: {error.message}")
    decided = dict(request.items.values_list("ref", "decision"))
    outcome.candidates = [c for c in outcome.candidates if decided.get(str(c.ref)) is None]
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="subject_request.searched",
            actor=actor,
            target=request,
            justification=justification,
            details={
                "subject_references": subjects,
                "case_references": cases,
                "by_face": probe is not None,
                "face_backend": probe.backend if probe else "",
                "providers": [p.kind for p in subject_data_providers()],
                "candidates": len(outcome.candidates),
            },
        )
    return outcome


def subject_request_decide(
    *, actor: User, request: SubjectRequest, decisions: list[tuple[str, str, str]]
) -> list[SubjectRequestItem]:
    """Record the DPO's confirmation or dismissal of candidates: ``(ref text, decision, found_by)``.
    Only the decision is stored (the reference, who, when). Audited as a ``combination``: the
    confirmed items are linked to the person from now on."""
    subject_request_check(actor, request, to="search")
    rows = []
    for ref_text, decision, found_by in decisions:
        if decision not in ItemDecision.values:
            raise ValidationFailed("Confirm or dismiss each candidate.", code="decision_invalid")
        try:
            ref = ItemRef.parse(ref_text)
        except ValueError:
            raise ValidationFailed("Not an item reference.", code="item_ref_invalid") from None
        provider = subject_data_provider(ref.kind)
        if provider is None or len(ref_text) > 120:
            raise ValidationFailed("No provider holds items of that kind.", code="item_kind_unknown")
        if provider.visible is not None and not provider.visible(actor, ref):  # through the access layer
            raise NotFound("No such item.", code="item_not_found")
        rows.append((str(ref), decision, (found_by or "")[:40]))
    if not rows:
        raise ValidationFailed("Confirm or dismiss at least one candidate.", code="no_decisions")
    now = timezone.now()
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        items = []
        for ref, decision, found_by in rows:
            item, _ = SubjectRequestItem.objects.update_or_create(
                request=request,
                ref=ref,
                defaults={
                    "decision": decision,
                    "found_by": found_by,
                    "decided_by": actor,
                    "decided_by_name": _name(actor),
                    "decided_at": now,
                },
            )
            items.append(item)
        # The candidates of this searcher's photo searches have served their purpose: erased with the decisions.
        SubjectPhotoSearch.objects.filter(request=request, actor=actor, results_erased_at__isnull=True).exclude(
            results_ciphertext=None
        ).update(results_ciphertext=None, results_erased_at=now)
        audit_record(
            action=AuditAction.COMBINATION,
            event="subject_request.items_decided",
            actor=actor,
            target=request,
            details={"decisions": [[ref, decision] for ref, decision, _ in rows]},
        )
    return items


def subject_request_item_restrict(
    *,
    actor: User,
    request: SubjectRequest,
    item_id: int,
    basis: str,
    reason: str,
    neither_confirm_nor_deny: bool = False,
) -> SubjectRequestItem:
    """Withhold a confirmed item from the response (DPA 2018 s.45(4); UK GDPR Sch. 2 para 2), with
    the reason recorded; ``neither_confirm_nor_deny``: the response does not even say it exists."""
    subject_request_check(actor, request, to="change")
    if basis not in RestrictionBasis.values:
        raise ValidationFailed("Choose the provision the restriction relies on.", code="restriction_basis_required")
    if not reason.strip():
        raise ValidationFailed("Record why the item is withheld.", code="restriction_reason_required")
    if request.regime == Regime.UK_GDPR and basis != RestrictionBasis.SCH2_PARA2:
        raise ValidationFailed("s.45(4) applies to Part 3 processing only.", code="restriction_basis_regime")
    if request.regime == Regime.DPA_PART3 and basis == RestrictionBasis.SCH2_PARA2:
        raise ValidationFailed("Part 3 restrictions rely on s.45(4).", code="restriction_basis_regime")
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        item = request.items.filter(pk=item_id, decision=ItemDecision.CONFIRMED).first()
        if item is None:
            raise ValidationFailed("No such confirmed item on this request.", code="item_not_found")
        item.restricted = True
        item.restriction_basis = basis
        item.restriction_reason = reason.strip()
        item.neither_confirm_nor_deny = neither_confirm_nor_deny
        item.save(update_fields=["restricted", "restriction_basis", "restriction_reason", "neither_confirm_nor_deny"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.item_withheld",
            actor=actor,
            target=request,
            justification=reason,
            details={"item": item.ref, "basis": basis, "ncnd": neither_confirm_nor_deny},
        )
    return item


# --- two controllers ----------------------------------------------------------------------------------


def subject_request_controllers(*, actor: User, request: SubjectRequest) -> list[Organisation]:
    """The other organisations controlling confirmed items (e.g. the supplying force of a watchlist
    image): those the request can be referred to."""
    subject_request_check(actor, request, to="contents")
    ids = set()
    for decision in request.items.filter(decision=ItemDecision.CONFIRMED, restricted=False):
        ref = ItemRef.parse(decision.ref)
        provider = subject_data_provider(ref.kind)
        if provider is not None and provider.supplied_by is not None:  # no compile, no decryption (issue 22)
            controller_id = provider.supplied_by(actor, ref)
        else:
            item = provider.compile(actor, ref) if provider else None
            controller_id = item.controller_id if item is not None else None
        if controller_id and controller_id != request.organisation_id:
            ids.add(controller_id)
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def subject_request_refer(*, actor: User, request: SubjectRequest, controller_id: int, note: str) -> SubjectRequest:
    """Refer the request to another controller's DPO inside Oversight: the controller gets a linked
    request of its own, received today, with its own deadline. Audited as a ``disclosure`` (the
    requester's details go to that controller) on the original and a ``collection`` on the new one."""
    subject_request_check(actor, request, to="change")
    require_open(request)
    controllers = {o.pk: o for o in subject_request_controllers(actor=actor, request=request)}
    controller = controllers.get(int(controller_id)) if is_id(controller_id) else None
    if controller is None:
        raise ValidationFailed(
            "The request can be referred only to an organisation that controls a confirmed item.",
            code="not_a_controller",
        )
    if request.referrals.filter(organisation=controller).exists():
        raise StateConflict(f"Already referred to {controller}.", code="already_referred")
    if not controller.members.filter(groups__name="role:dpo", is_active=True).exists():
        raise StateConflict(f"{controller} has no data protection officer in Oversight.", code="no_controller_dpo")
    regime = Regime.DPA_PART3 if controller.is_police else Regime.UK_GDPR
    right = request.right if request.right in RIGHT_PROVISIONS[regime] else SubjectRight.ACCESS
    today = timezone.localdate()
    with transaction.atomic():
        linked = _record_request(
            actor=actor,
            organisation=controller,
            referred_from=request,
            awaiting_identity=False,
            fields={
                "regime": regime,
                "right": right,
                "requester_name": request.requester_name,
                "requester_contact": request.requester_contact,
                "acting_for_subject": request.acting_for_subject,
                "request_text": f"Referred by {request.organisation} ({request.reference}) on {today:%d %B %Y}: "
                f"{note.strip() or 'the data came from you.'}\n\n{request.request_text}",
                "subject_references": request.subject_references,
                "case_references": request.case_references,
                "received_on": today,
                "identity_verified_how": request.identity_verified_how
                or "Not yet verified by the referring controller.",
                "identity_verified_by_name": f"{request.identity_verified_by_name or '-'} ({request.organisation})",
                "identity_verified_on": request.identity_verified_on,
            },
        )
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="subject_request.referred",
            actor=actor,
            target=request,
            recipient=f"{controller} (data protection officer), linked request {linked.reference}",
            justification=note,
            details={"linked": linked.reference, "controller": controller.short_name},
            organisations=[controller.pk],
        )
    return linked


# --- the other rights ---------------------------------------------------------------------------------


def _confirmed_ref(request: SubjectRequest, ref_text: str) -> ItemRef:
    if not request.items.filter(ref=ref_text, decision=ItemDecision.CONFIRMED).exists():
        raise ValidationFailed("The right applies to confirmed items of this request only.", code="item_not_confirmed")
    return ItemRef.parse(ref_text)


def _record_action(request, right, ref, outcome, reason, actor, **extra) -> SubjectRequestAction:
    return SubjectRequestAction.objects.create(
        request=request,
        right=right,
        ref=str(ref),
        outcome=outcome,
        reason=reason,
        acted_by_name=_name(actor),
        acted_at=timezone.now(),
        **extra,
    )


def _refuse(request, right, ref, actor, why: str) -> SubjectRequestAction:
    with transaction.atomic():
        action = _record_action(request, right, ref, ActionOutcome.REFUSED, why, actor)
        audit_record(
            action=AuditAction.ALTERATION,
            event=f"subject_request.{right}_refused",
            actor=actor,
            target=request,
            justification=why,
            details={"item": str(ref)},
        )
    return action


def _act(*, actor, request, right: str, ref_text: str, reason: str, run) -> SubjectRequestAction:
    """Run one right on one item: the provider acts (and audits) inside this transaction, the request
    records what happened; a provider that cannot, or refuses, leaves a refusal with its reason."""
    subject_request_check(actor, request, to="change")
    require_open(request)
    if not reason.strip():
        raise ValidationFailed("Record the reason.", code="reason_required")
    ref = _confirmed_ref(request, ref_text)
    provider = subject_data_provider(ref.kind)
    method = {"rectification": "rectify", "erasure": "erase", "restriction": "restrict", "objection": "object"}[right]
    if provider is None or getattr(provider, method) is None:
        return _refuse(
            request, right, ref, actor, f"{reason.strip()} — not possible: Oversight cannot {right} this kind of item."
        )
    from governance.subject_access.recipients import TOLD_TO_RECIPIENTS, recipients_notify

    # Who the item was disclosed to is read before the right acts (an erased item may no longer say).
    item = provider.compile(actor, ref) if right in TOLD_TO_RECIPIENTS else None
    try:
        with transaction.atomic():
            extra = run(provider, ref) or {}
            action = _record_action(request, right, ref, ActionOutcome.DONE, reason.strip(), actor, **extra)
            recipients_notify(actor=actor, request=request, action=action, item=item)
            return action
    except (PermissionRefused, StateConflict) as error:
        return _refuse(request, right, ref, actor, f"{reason.strip()} — refused: {error.message}")


def subject_request_rectify(*, actor: User, request: SubjectRequest, ref: str, field: str, value: str, reason: str):
    def run(provider, item_ref):
        before, after = provider.rectify(actor, item_ref, field, value.strip(), reason)
        return {"field": field, "before": before, "after": after}

    return _act(actor=actor, request=request, right=SubjectRight.RECTIFICATION, ref_text=ref, reason=reason, run=run)


def subject_request_erase(*, actor: User, request: SubjectRequest, ref: str, reason: str):
    def run(provider, item_ref):
        certificates = provider.erase(actor, item_ref, reason)
        return {"certificate_ids": [getattr(c, "pk", c) for c in certificates]}

    return _act(actor=actor, request=request, right=SubjectRight.ERASURE, ref_text=ref, reason=reason, run=run)


def subject_request_restrict_processing(
    *, actor: User, request: SubjectRequest, ref: str, restricted: bool, reason: str
):
    def run(provider, item_ref):
        provider.restrict(actor, item_ref, restricted, reason)
        return {"field": "restricted", "before": str(not restricted), "after": str(restricted)}

    return _act(actor=actor, request=request, right=SubjectRight.RESTRICTION, ref_text=ref, reason=reason, run=run)


def subject_request_object(*, actor: User, request: SubjectRequest, ref: str, reason: str):
    """Uphold an objection (UK GDPR Art. 21(1): "The controller shall no longer process the personal
    data unless the controller demonstrates compelling legitimate grounds for the processing which
    override the interests, rights and freedoms of the data subject ..."): the provider applies the
    effect (e.g. the image withdrawn from matching). To refuse an objection, record the compelling
    grounds with ``subject_request_refuse_right``."""

    def run(provider, item_ref):
        effect = provider.object(actor, item_ref, reason)
        return {"field": "objection", "before": "processed", "after": effect}

    return _act(actor=actor, request=request, right=SubjectRight.OBJECTION, ref_text=ref, reason=reason, run=run)


def subject_request_refuse_right(*, actor: User, request: SubjectRequest, ref: str, right: str, reason: str):
    """Record that a right is not given effect for an item, and why (e.g. an exemption applies)."""
    subject_request_check(actor, request, to="change")
    require_open(request)
    if right not in SubjectRight.values or not reason.strip():
        raise ValidationFailed("Name the right and the reason it is refused.", code="refusal_reason_required")
    return _refuse(request, right, _confirmed_ref(request, ref), actor, reason.strip())


# --- organisation policy -------------------------------------------------------------------------------


def organisation_staff_policy_set(*, actor: User, staff_names_as_roles: bool) -> Organisation:
    """The DPO sets whether the organisation's responses name staff or give their roles only."""
    if not can_receive_subject_requests(actor):
        raise PermissionRefused("Only the organisation's data protection officer sets this policy.")
    with transaction.atomic():
        organisation = lock_rows(Organisation.objects).get(pk=actor.organisation_id)
        before = organisation.staff_names_as_roles
        organisation.staff_names_as_roles = bool(staff_names_as_roles)
        organisation.save(update_fields=["staff_names_as_roles"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="organisation.staff_names_policy_set",
            actor=actor,
            target=organisation,
            details={"before": before, "after": organisation.staff_names_as_roles},
        )
    return organisation


# --- export ---------------------------------------------------------------------------------------------


def subject_request_export_start(*, actor: User, request: SubjectRequest) -> SubjectRequestExport:
    """Queue the response's export; the task builds it after commit (in-process in the embedded default)."""
    from governance.subject_access.consultation import consultation_refusal
    from governance.subject_access.tasks import subject_request_export_task

    subject_request_check(actor, request, to="export")
    refusal = consultation_refusal(actor, request)
    if refusal is not None:
        raise StateConflict(refusal[1], code=refusal[0])
    with transaction.atomic():
        request = request_locked(request)
        if request.exports.filter(status__in=[ExportStatus.QUEUED, ExportStatus.BUILDING]).exists():
            raise StateConflict("An export of this request is already being built.", code="export_in_progress")
        export = SubjectRequestExport.objects.create(
            request=request,
            requested_by=actor,
            requested_by_name=_name(actor),
            requested_at=timezone.now(),
            stage="Queued",
        )
        pk = export.pk
        transaction.on_commit(lambda: subject_request_export_task.delay(pk), robust=True)
    return export


def subject_request_export_download(*, actor: User, export: SubjectRequestExport, fmt: str) -> tuple[bytes, str]:
    """Decrypt the exported PDF or JSON for the DPO to send; every download is audited as a
    ``disclosure`` to the data subject."""
    subject_request_check(actor, export.request, to="export")
    if fmt not in ("pdf", "json"):
        raise ValidationFailed("Download the PDF or the JSON.", code="format_unknown")
    if export.status != ExportStatus.READY:
        raise StateConflict(
            "This export is not ready." if export.status != ExportStatus.ERASED else "This export has been erased.",
            code="export_not_ready",
        )
    token = export.pdf_ciphertext if fmt == "pdf" else export.json_ciphertext
    data = encryption.decrypt(bytes(token))
    with transaction.atomic():
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="subject_request.downloaded",
            actor=actor,
            target=export,
            recipient=f"The data subject of {export.request.reference} (subject access response, {fmt.upper()})",
            details={"format": fmt, "sha256": export.pdf_sha256 if fmt == "pdf" else export.json_sha256},
        )
    return data, "application/pdf" if fmt == "pdf" else "application/json"


def subject_request_export_erase(*, export: SubjectRequestExport, run_id: str | None) -> int:
    """Erase an export's files at the end of its retention (its own rule): ciphertexts blanked, a
    deletion certificate and an ``erasure`` event. Inside the caller's transaction; idempotent."""
    export = lock_rows(SubjectRequestExport.objects).select_related("request").get(pk=export.pk)
    if export.erased_at:
        return 0
    export.pdf_ciphertext = None
    export.json_ciphertext = None
    export.status = ExportStatus.ERASED
    export.erased_at = timezone.now()
    export.save(update_fields=["pdf_ciphertext", "json_ciphertext", "status", "erased_at"])
    erasure_with_certificate(
        target=export,
        subject_type="governance.subjectrequestexport",
        label=f"Subject access response files of {export.request.reference}",
        sha256=export.pdf_sha256,
        rule="subject_request_export.kept_until",
        reason=f"Kept {settings.OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS} days after it was built.",
        run_id=run_id,
        erased_at=export.erased_at,
        details={"subject_request": export.request.reference, "json_sha256": export.json_sha256},
        operator_organisation_id=export.request.organisation_id,
        event="subject_request_export.erased",
        justification="Retention of subject access response files",
        cite_certificate=True,
    )
    return 1
