"""Who may see and do what with DPIAs: the same shape as ``governance.access`` and built on its rules.

A DPIA concerns the organisations stored on it (``DPIA.concerned_organisations``: the controller,
its force, the parties of the agreements and deployments it covers); members of those
organisations' supply chains read it, regulators read every DPIA, nobody else sees it (404). Only
the controller's DPO writes, sends for review, approves or rejects — a regulator changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from governance.access import (
    RecordAccess,
    _organisation,
    controller_refusal,
    is_regulator,
    page_predicate_register,
    role_allows,
    supply_chain_ids,
)
from governance.dpia.models import DPIA
from governance.errors import PermissionRefused


def dpias_visible_to(actor: Any) -> QuerySet[DPIA]:
    if not can_read_dpias(actor):
        return DPIA.objects.none()
    queryset = DPIA.objects.select_related("controller")
    if is_regulator(actor):
        return queryset
    ids = DPIA.concerned_organisations.through.objects.filter(
        organisation_id__in=supply_chain_ids(_organisation(actor))
    ).values("dpia_id")
    return queryset.filter(pk__in=ids)


_DPIA_ACTIONS: dict[str, str] = {
    "change": "governance.change_dpia",
    "consult": "governance.change_dpia",
    "submit": "governance.submit_dpia",
    "approve": "governance.approve_dpia",
    "reject": "governance.approve_dpia",
    "revise": "governance.add_dpia",
}


def dpia_refusal(actor: Any, dpia: DPIA, to: str) -> PermissionRefused | None:
    """Why the actor may not do ``to`` to a DPIA they can see (``None``: they may). States are the
    services' concern; this is who acts: the controller's DPO, with the role's permission — and for
    the sign-off, another person than the DPIA's writer and the DPO who advised on it (Art. 35(2))."""
    refusal = controller_refusal(actor, dpia, _DPIA_ACTIONS[to], "a DPIA")
    if refusal is None and to == "approve":
        from governance.dpia.rules import dpia_sign_off_problem

        if problem := dpia_sign_off_problem(dpia, actor):
            return PermissionRefused(problem.message, code=problem.code)
    return refusal


_DPIAS = RecordAccess(dpias_visible_to, dpia_refusal, "No such DPIA.", "dpia_not_found")


# The button test, the check of a record in hand, and the lookup by id (``RecordAccess``).
can_dpia = _DPIAS.can
dpia_check = _DPIAS.check
dpia_for = _DPIAS.by_id


def can_write_dpias(actor: Any) -> bool:
    """Writing and keeping DPIAs under review (the review reminders): a controller's DPO. Which DPIA:
    ``can_dpia(actor, dpia, "change")``."""
    return role_allows(actor, "governance.change_dpia")


def can_read_dpias(actor: Any) -> bool:
    """The DPIA register (its link and its pages): DPOs of controllers and regulators."""
    return role_allows(actor, "governance.view_dpia")


def can_draft_dpia(actor: Any) -> bool:
    return role_allows(actor, "governance.add_dpia") and not is_regulator(actor)


page_predicate_register("read_dpias", can_read_dpias)
