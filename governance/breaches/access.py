"""Who reads and records breaches (the shape of ``governance.access``): an organisation's DPO its
own breaches and its units', and breaches another organisation recorded that involve data shared
with it under an agreement (``BreachParty``); regulators every organisation's; anyone else nothing.
Only the recorder changes a breach."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from governance.access import answerable_ids, is_regulator, page_predicate_register, role_allows
from governance.breaches.models import Breach
from governance.errors import NotFound, PermissionRefused


def can_read_breaches(actor: Any) -> bool:
    """The breach register (its link, its page, its CSV and the dashboard's clock panel): DPOs and regulators."""
    return role_allows(actor, "governance.view_breach")


def can_record_breach(actor: Any) -> bool:
    """Recording a breach for the actor's own organisation: its DPO."""
    return role_allows(actor, "governance.add_breach")


def breaches_visible_to(actor: Any) -> QuerySet[Breach]:
    if not can_read_breaches(actor):
        return Breach.objects.none()
    if is_regulator(actor):
        return Breach.objects.select_related("organisation")
    ids = answerable_ids(actor.organisation)
    shared = Breach.objects.filter(parties__organisation_id__in=ids).values("pk")
    return Breach.objects.filter(Q(organisation_id__in=ids) | Q(pk__in=shared)).select_related("organisation")


def can_change_breach(actor: Any, breach: Breach) -> bool:
    return role_allows(actor, "governance.change_breach") and actor.organisation_id == breach.organisation_id


def breach_for(actor: Any, pk: Any, *, to: str = "view") -> Breach:
    try:
        breach = breaches_visible_to(actor).get(pk=pk)
    except (Breach.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such breach.") from None
    if to == "change" and not can_change_breach(actor, breach):
        raise PermissionRefused("Only the organisation that recorded the breach updates it.")
    return breach


page_predicate_register("read_breaches", can_read_breaches)
