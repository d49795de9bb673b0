"""Who may see and do what with appropriate policy documents (DPA 2018 s.42), in the house shape.

A policy document is the controller's own: the controller's supply chain (a force and its units)
reads it, regulators read every one, nobody else sees it (404). Only the controller's DPO writes,
approves, revises or records the end of the processing — a regulator changes nothing (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from governance.access import (
    RecordAccess,
    _organisation,
    controller_refusal,
    is_regulator,
    role_allows,
    supply_chain_ids,
)
from governance.dpia.models import PolicyDocument
from governance.errors import PermissionRefused


def policies_visible_to(actor: Any) -> QuerySet[PolicyDocument]:
    organisation = _organisation(actor)
    if not can_read_policies(actor):
        return PolicyDocument.objects.none()
    queryset = PolicyDocument.objects.select_related("controller", "controller__parent")
    if is_regulator(actor):
        return queryset
    return queryset.filter(controller_id__in=supply_chain_ids(organisation))


_POLICY_ACTIONS: dict[str, str] = {
    "change": "governance.change_policydocument",
    "approve": "governance.approve_policydocument",
    "end": "governance.change_policydocument",
}


def policy_refusal(actor: Any, policy: PolicyDocument, to: str) -> PermissionRefused | None:
    """Why the actor may not do ``to`` to a policy they can see (``None``: they may). Approval is
    another person's than the writer's (``governance.dpia.rules.policy_sign_off_problem``)."""
    refusal = controller_refusal(actor, policy, _POLICY_ACTIONS[to], "an appropriate policy document")
    if refusal is None and to == "approve":
        from governance.dpia.rules import policy_sign_off_problem

        if problem := policy_sign_off_problem(policy, actor):
            return PermissionRefused(problem.message, code=problem.code)
    return refusal


_POLICIES = RecordAccess(policies_visible_to, policy_refusal, "No such policy document.", "policy_not_found")


# The button test, the check of a record in hand, and the lookup by id (``RecordAccess``).
can_policy = _POLICIES.can
policy_check = _POLICIES.check
policy_for = _POLICIES.by_id


def can_read_policies(actor: Any) -> bool:
    """The appropriate policy documents (their link on the DPIA register and their pages): DPOs and regulators."""
    return role_allows(actor, "governance.view_policydocument")


def can_draft_policy(actor: Any) -> bool:
    return role_allows(actor, "governance.add_policydocument") and not is_regulator(actor)
