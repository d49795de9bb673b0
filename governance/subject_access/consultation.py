"""Before a response releases data a police force supplied, the force is consulted and decides any
restriction (DPA 2018 s.45(4)).

s.45(4): the controller "may restrict, wholly or partly, the rights conferred by subsection (1)
[access] to the extent that and for so long as the restriction is, having regard to the fundamental
rights and legitimate interests of the data subject, a necessary and proportionate measure to
(a) avoid obstructing an official or legal inquiry, investigation or procedure; (b) avoid
prejudicing the prevention, detection, investigation or prosecution of criminal offences or the
execution of criminal penalties; (c) protect public security; (d) protect national security;
(e) protect the rights and freedoms of others". Whether that applies to a watchlist entry is the
supplying force's judgement, not the operator's: the operator asks (``subject_request_consult``);
the force's DPO decides in Oversight (``consultation_decide``); the operator sees the decision and
the provision relied on, never the force's reasoning (kept on the consultation, shown to the force
only, and never written into an audit event the operator can read).

The export of a response is refused (coded) while a force whose data it would release has not been
asked, or has not decided (``consultation_refusal``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.access import _organisation, answerable_ids
from governance.audit.describe import event_phrases_register
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.home.registry import HomePanel, home_panel_register
from governance.locks import lock_rows
from governance.organisations.models import Organisation
from governance.organisations.roles import Role
from governance.subject_access.access import can_answer_subject_requests, subject_request_check
from governance.subject_access.models import (
    ConsultationDecision,
    ItemDecision,
    RestrictionBasis,
    SubjectRequest,
    SupplierConsultation,
)
from governance.subject_access.registry import ItemRef, subject_data_provider
from governance.subject_access.request_rows import request_locked, require_open

S45_4 = (
    RestrictionBasis.S45_4_A,
    RestrictionBasis.S45_4_B,
    RestrictionBasis.S45_4_C,
    RestrictionBasis.S45_4_D,
    RestrictionBasis.S45_4_E,
)


def _name(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def supplied_items_by_force(actor: Any, request: SubjectRequest) -> dict[int, list[str]]:
    """The confirmed, not yet withheld items of ``request`` whose data a police force supplied, by
    force — other than the answering organisation's own chain (a force answering for its own data
    decides its restrictions on its own request)."""
    own = answerable_ids(request.organisation) | {request.organisation.parent_id or request.organisation_id}
    by_force: dict[int, list[str]] = defaultdict(list)
    for decision in request.items.filter(decision=ItemDecision.CONFIRMED, restricted=False).order_by("pk"):
        ref = ItemRef.parse(decision.ref)
        provider = subject_data_provider(ref.kind)
        if provider is None:
            continue
        if provider.supplied_by is not None:  # no compile: the page decrypts and shows nothing (issue 22)
            force_id = provider.supplied_by(actor, ref)
        else:
            item = provider.compile(actor, ref)
            force_id = item.supplied_by_force_id if item is not None else None
        if force_id and force_id not in own:
            by_force[force_id].append(decision.ref)
    return dict(by_force)


def consultation_refusal(actor: Any, request: SubjectRequest) -> tuple[str, str] | None:
    """Why the response may not be released yet: ``(code, message)``, or ``None``."""
    asked: dict[int, set[str]] = defaultdict(set)
    pending = set()
    for consultation in request.consultations.select_related("force"):
        asked[consultation.force_id].update(consultation.refs)
        if not consultation.decision:
            pending.add(consultation.force.name)
    for force_id, refs in supplied_items_by_force(actor, request).items():
        if not set(refs) <= asked[force_id]:
            force = Organisation.objects.get(pk=force_id)
            return (
                "supplier_not_consulted",
                f"The response would release data {force} supplied: consult {force} first (DPA 2018 s.45(4)).",
            )
    if pending:
        return (
            "supplier_decision_pending",
            f"Waiting for {', '.join(sorted(pending))} to decide whether any restriction applies (s.45(4)).",
        )
    return None


def subject_request_consult(*, actor, request: SubjectRequest, note: str = "") -> list[SupplierConsultation]:
    """Ask each force whose supplied data the response would release, for the items not yet put to
    it. One consultation per force; a ``disclosure`` event per force (it learns that a request
    concerns the items: the request's reference and the items, not the requester's details)."""
    subject_request_check(actor, request, to="change")
    with transaction.atomic():
        request = request_locked(request)
        require_open(request)
        asked: dict[int, set[str]] = defaultdict(set)
        for consultation in request.consultations.all():
            asked[consultation.force_id].update(consultation.refs)
        created = []
        for force_id, refs in supplied_items_by_force(actor, request).items():
            new = [ref for ref in refs if ref not in asked[force_id]]
            if not new:
                continue
            force = Organisation.objects.get(pk=force_id)
            consultation = SupplierConsultation.objects.create(
                request=request, force=force, refs=new, asked_at=timezone.now(), asked_by_name=_name(actor)
            )
            audit_record(
                action=AuditAction.DISCLOSURE,
                event="subject_request.supplier_consulted",
                actor=actor,
                target=consultation,
                recipient=f"{force} (data protection officer)",
                justification=note.strip() or "DPA 2018 s.45(4): the supplying force decides any restriction.",
                details={"request": request.reference, "items": new},
            )
            created.append(consultation)
        if not created:
            raise StateConflict("No supplying force is waiting to be asked.", code="nothing_to_consult")
    return created


# --- who sees what -------------------------------------------------------------------------------------


def consultations_visible_to(actor: Any) -> QuerySet[SupplierConsultation]:
    """The consulted force's DPO and the DPO of the organisation that asked; nobody else (404)."""
    organisation = _organisation(actor)
    if not can_answer_subject_requests(actor):
        return SupplierConsultation.objects.none()
    ids = answerable_ids(organisation)
    return SupplierConsultation.objects.filter(Q(force_id__in=ids) | Q(request__organisation_id__in=ids))


def can_decide_consultation(actor: Any, consultation: SupplierConsultation) -> bool:
    """The consulted force itself decides (its DPO): never the organisation that asked."""
    organisation = _organisation(actor)
    return bool(organisation and organisation.pk == consultation.force_id and can_answer_subject_requests(actor))


def consultation_for(actor: Any, pk: Any, *, to: str = "view") -> SupplierConsultation:
    try:
        consultation = consultations_visible_to(actor).select_related("request__organisation", "force").get(pk=pk)
    except (SupplierConsultation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such consultation.", code="consultation_not_found") from None
    if to == "decide" and not can_decide_consultation(actor, consultation):
        raise PermissionRefused("The supplying force decides.", code="not_the_supplying_force")
    return consultation


def consultation_decide(
    *,
    actor,
    consultation: SupplierConsultation,
    decision: str,
    basis: str = "",
    reasoning: str = "",
    neither_confirm_nor_deny: bool = False,
) -> SupplierConsultation:
    """The force decides: release, or restrict under one of s.45(4)(a)-(e) with its reasons. A
    restriction withholds the items from the asking organisation's response, recorded as the force's
    decision under the provision it relied on; the reasons stay with the force."""
    consultation = consultation_for(actor, consultation.pk, to="decide")
    if decision not in ConsultationDecision.values:
        raise ValidationFailed("Release or restrict.", code="consultation_decision_invalid")
    if decision == ConsultationDecision.RESTRICT:
        if basis not in S45_4:
            raise ValidationFailed(
                "Choose the ground in DPA 2018 s.45(4)(a)-(e) the restriction relies on.",
                code="restriction_basis_required",
            )
        if len(reasoning.strip()) < 10:
            raise ValidationFailed(
                "Record why the restriction is necessary and proportionate (kept by the force).",
                code="restriction_reason_required",
            )
    with transaction.atomic():
        consultation = lock_rows(SupplierConsultation.objects).get(pk=consultation.pk)
        if consultation.decision:
            raise StateConflict("Already decided.", code="consultation_decided")
        consultation.decision = decision
        consultation.basis = basis if decision == ConsultationDecision.RESTRICT else ""
        consultation.neither_confirm_nor_deny = bool(neither_confirm_nor_deny and decision == "restrict")
        consultation.reasoning = reasoning.strip()
        consultation.decided_at = timezone.now()
        consultation.decided_by_name = _name(actor)
        consultation.save()
        if decision == ConsultationDecision.RESTRICT:
            consultation.request.items.filter(ref__in=consultation.refs, decision=ItemDecision.CONFIRMED).update(
                restricted=True,
                restriction_basis=consultation.basis,
                restriction_reason=f"Restricted by {consultation.force}, the police force that supplied it.",
                neither_confirm_nor_deny=consultation.neither_confirm_nor_deny,
            )
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.supplier_decided",
            actor=actor,
            target=consultation,
            # The force's reasoning is not written here: the asking organisation reads this event.
            details={
                "request": consultation.request.reference,
                "decision": decision,
                "basis": consultation.basis,
                "items": consultation.refs,
            },
        )
    return consultation


# --- home panel -----------------------------------------------------------------------------------------


def consultations_waiting(actor: Any) -> dict | None:
    """The force's task: subject requests at other organisations waiting for its s.45(4) decision."""
    organisation = _organisation(actor)
    if organisation is None or not organisation.is_police or not can_answer_subject_requests(actor):
        return None
    rows = list(
        consultations_visible_to(actor)
        .filter(force_id=organisation.pk, decision="")
        .select_related("request__organisation")
        .order_by("asked_at")[:50]
    )
    return {"rows": rows, "count": len(rows)}


event_phrases_register(
    {
        "subject_request.supplier_consulted": "Supplying force consulted before release",
        "subject_request.supplier_decided": "Supplying force decided on release",
    }
)
home_panel_register(
    HomePanel(
        "rights-consultations",
        "Subject requests waiting for your decision (s.45(4))",
        frozenset({Role.DPO.value}),
        consultations_waiting,
        "home/rights_consultations.html",
        24,
    )
)
