"""Who is responsible, from the agreements: the controller, its contact point, the legal basis of
each party and the watchlist categories. Read by the public transparency report (its first section)
and by the record of processing activities (``governance.reports.ropa``).

Registered from ``GovernanceConfig.ready`` (through ``governance.reports.figures``).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from governance.access import agreements_visible_to
from governance.agreements.models import ENDED_STATES, SHARING_STATES, Agreement
from governance.organisations.models import Organisation, OrganisationKind
from governance.reports.registry import Figure, FigureProvider, ReportScope, Section, figure_provider_register

IN_EFFECT_STATES = SHARING_STATES | ENDED_STATES


def agreements_of_controller(actor, organisation: Organisation, start: date | None = None, end: date | None = None):
    """Agreements the organisation is party to that took effect (sharing now, or ended), overlapping
    [start, end] when given; read through the actor's access (``actor is None``: the scheduled job)."""
    queryset = Agreement.objects.all() if actor is None else agreements_visible_to(actor)
    party = (
        Q(receiving_organisation=organisation)
        if organisation.kind == OrganisationKind.OPERATOR
        else Q(supplying_organisation=organisation) | Q(supplying_organisation__parent=organisation)
    )
    queryset = queryset.filter(party, status__in=IN_EFFECT_STATES)
    if start:
        queryset = queryset.filter(ends_on__gte=start)
    if end:
        queryset = queryset.filter(starts_on__lte=end)
    return queryset.select_related("supplying_organisation", "receiving_organisation").order_by("starts_on", "pk")


def contact_point(organisation: Organisation) -> str:
    if organisation.contact_email:
        return f"Data Protection Officer, {organisation.name}: {organisation.contact_email}"
    return f"Data Protection Officer, {organisation.name} (no public contact address recorded)"


def _distinct(values) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def operator_legal_basis(agreements) -> list[str]:
    """The operator's own UK GDPR basis for scanning faces (Art. 6, Art. 9, DPA 2018 Sch. 1)."""
    return _distinct(
        "; ".join(
            x
            for x in (
                a.get_operator_article6_basis_display(),
                a.get_operator_article9_condition_display(),
                a.get_operator_schedule1_condition_display(),
            )
            if x
        )
        for a in agreements
    )


def police_legal_basis(agreements) -> list[str]:
    """The supplying force's basis for sensitive processing (DPA 2018 s.35(5) and a Sch. 8 condition)."""
    return _distinct(
        f"{a.supplying_organisation.name}: DPA 2018 Part 3, {a.get_lawful_basis_display()}; "
        f"{a.get_schedule8_condition_display()}"
        for a in agreements
    )


def watchlist_categories(agreements) -> list[str]:
    return _distinct(label for a in agreements for label in a.custody_category_labels())


def transparency_controller(scope: ReportScope) -> list[Section]:
    operator = Organisation.objects.get(pk=scope.operator_id)
    start = scope.period_start.date() if scope.period_start else None
    end = scope.period_end.date() if scope.period_end else None
    agreements = list(agreements_of_controller(scope.actor, operator, start, end))
    none = "No agreement in effect in this period."
    return [
        Section(
            code="controller",
            title="Who is responsible",
            figures=[
                Figure("controller", "Controller", operator.name),
                Figure("contact", "Contact point (access requests and complaints)", contact_point(operator)),
                Figure(
                    "legal_basis", "Legal basis of the operator", "; ".join(operator_legal_basis(agreements)) or none
                ),
                Figure(
                    "police_legal_basis",
                    "Legal basis of the police supplying images",
                    " · ".join(police_legal_basis(agreements)) or none,
                ),
                Figure(
                    "watchlist_categories",
                    "Who may be on a watchlist",
                    ", ".join(watchlist_categories(agreements)) or none,
                ),
            ],
            notes=[
                "You may ask the contact point for the data held about you, or complain to it, and you may complain "
                "to the Information Commissioner (ico.org.uk)."
            ],
        )
    ]


figure_provider_register(
    FigureProvider(code="governance.transparency", kind="transparency", compute=transparency_controller, order=10)
)
