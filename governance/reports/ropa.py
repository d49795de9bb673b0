"""The record of processing activities (UK GDPR Art. 30; DPA 2018 s.61) of each controller,
generated from its agreements, its deployments (through the report registry: recognition fills
``kind="ropa"``) and the retention rules, as a page, a CSV and a PDF.

``S61_CONTENTS`` quotes what s.61(2) says the record must contain; each item is one section of the
record, in the same order and with the same letter. A private operator is a controller under UK
GDPR, whose Art. 30(1) asks for the same items (name and contact details, purposes, categories of
data subjects, personal data and recipients, transfers, time limits, security measures); s.61 also
asks for profiling and the legal basis, which the record gives for every controller.

Scope: an organisation's DPO reads its own record (a police unit's is its force's); the regulator
reads every controller's. Providers read through the actor's access, like every report figure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from governance.access import is_regulator
from governance.agreements.models import Agreement
from governance.errors import NotFound
from governance.inputs import is_id
from governance.organisations.models import Organisation, OrganisationKind
from governance.reports.controller import (
    agreements_of_controller,
    contact_point,
    operator_legal_basis,
    police_legal_basis,
    watchlist_categories,
)
from governance.reports.registry import ReportScope, Section, Table, report_sections
from governance.reports.selectors import Report, require_reports

# DPA 2018 s.61(2): "The record must contain the following information—" (letters as in the Act).
S61_CONTENTS: list[tuple[str, str]] = [
    ("a", "the name and contact details of the controller"),
    ("b", "where applicable, the name and contact details of the joint controller"),
    ("c", "where applicable, the name and contact details of the data protection officer"),
    ("d", "the purposes of the processing"),
    (
        "e",
        "the categories of recipients to whom the personal data has been or will be disclosed (including "
        "recipients in third countries or international organisations)",
    ),
    ("f", "a description of the categories of— (i) data subject, and (ii) personal data"),
    ("g", "details of the use of profiling, if any"),
    (
        "h",
        "where applicable, the categories of transfers of personal data to a third country or an international organisation",
    ),
    (
        "i",
        "an indication of the legal basis for the processing operations, including transfers, for which the "
        "personal data is intended",
    ),
    ("j", "where possible, the envisaged time limits for erasure of the different categories of personal data"),
    (
        "k",
        "where possible, a general description of the technical and organisational security measures referred to in section 66",
    ),
]

CONTROLLER_KINDS = (OrganisationKind.OPERATOR, OrganisationKind.POLICE_FORCE)


def ropa_controllers_for(actor: Any):
    """The controllers whose record the actor reads: every one for a regulator, else its own (a
    police unit's force)."""
    require_reports(actor)
    if is_regulator(actor):
        return Organisation.objects.filter(kind__in=CONTROLLER_KINDS).order_by("name")
    organisation = actor.organisation
    if organisation.kind == OrganisationKind.POLICE_UNIT:
        organisation = organisation.parent
    return Organisation.objects.filter(pk=organisation.pk, kind__in=CONTROLLER_KINDS)


def ropa_controller_for(actor: Any, organisation_id: Any = None) -> Organisation:
    """One controller the actor may read (missing and forbidden alike: not found)."""
    controllers = ropa_controllers_for(actor)
    if organisation_id in (None, ""):
        if is_regulator(actor):
            raise NotFound("Choose a controller.")
        controller = controllers.first()
    else:
        controller = controllers.filter(pk=int(organisation_id)).first() if is_id(organisation_id) else None
    if controller is None:
        raise NotFound("No such controller.")
    return controller


def _agreement_rows(agreements: list[Agreement], value) -> list[list]:
    return [[a.reference, a.title, value(a)] for a in agreements]


def _sections(actor: Any, controller: Organisation, agreements: list[Agreement]) -> dict[str, Section]:
    from governance.retention.certificate import RULE_SOURCES
    from governance.retention.registry import retention_rules

    is_operator = controller.kind == OrganisationKind.OPERATOR
    others = sorted({(a.supplying_organisation if is_operator else a.receiving_organisation).name for a in agreements})
    columns = ["Agreement", "Title"]
    rules = [
        [r.title, r.description, RULE_SOURCES.get(r.code, ("", "DPA 2018 s.39 / UK GDPR Art. 5(1)(e)"))[1]]
        for r in retention_rules()
    ]
    terms = [
        [
            a.reference,
            a.title,
            f"Alert data {a.match_retention_days} days after a match; watchlist images erased within "
            f"{a.watchlist_erasure_hours} hours of withdrawal or the agreement ending; faces that match nothing "
            "deleted at once.",
        ]
        for a in agreements
    ]
    facts = {
        "a": Section(
            "a", "", notes=[f"{controller.name} ({controller.get_kind_display()}). {contact_point(controller)}."]
        ),
        "b": Section(
            "b",
            "",
            notes=[
                "No joint controller: each party to a data-sharing agreement is a separate controller of what it holds. "
                + (f"The other parties: {', '.join(others)}." if others else "")
            ],
        ),
        "c": Section("c", "", notes=[contact_point(controller) + "."]),
        "d": Section(
            "d",
            "",
            tables=[
                Table(
                    "ropa.purposes",
                    "Purposes, by agreement",
                    [*columns, "Purpose"],
                    _agreement_rows(agreements, lambda a: a.purpose),
                )
            ],
        ),
        "e": Section(
            "e",
            "",
            notes=[
                (
                    "The police force that supplied the matched image (confirmed alerts, each disclosure logged with its "
                    "recipient and justification, DPA 2018 s.62); the Information Commissioner and the Biometrics and "
                    "Surveillance Camera Commissioner on request; data subjects who ask for their data."
                    if is_operator
                    else "The operators named in its agreements (watchlist images, under each agreement's terms); the "
                    "Information Commissioner on request; data subjects who ask for their data."
                ),
                "No recipient in a third country or international organisation.",
            ],
            tables=[
                Table("ropa.recipients", "Parties to its agreements", ["Organisation"], [[name] for name in others])
            ],
        ),
        "f": Section(
            "f",
            "",
            notes=[
                "Data subjects: people on a watchlist, in the categories: "
                + (", ".join(watchlist_categories(agreements)) or "none in effect")
                + "; members of the public passing the cameras (their faces are compared and, unless they match, "
                "deleted at once); reviewers, officers and staff who use Oversight (audit records)."
            ],
            tables=[
                Table(
                    "ropa.data",
                    "Personal data, by agreement",
                    [*columns, "Data items", "Special category data"],
                    [[a.reference, a.title, a.data_items, a.special_category_data] for a in agreements],
                )
            ],
        ),
        "g": Section(
            "g",
            "",
            notes=[
                "Live facial recognition compares each face seen with the watchlist's biometric templates. No decision "
                "about a person is taken by the comparison alone: an alert is disclosed only after two human reviewers "
                "confirm it (one a police reviewer where the agreement requires). No other profiling."
            ],
        ),
        "h": Section(
            "h",
            "",
            notes=["None: no personal data is transferred to a third country or an international organisation."],
        ),
        "i": Section(
            "i",
            "",
            notes=(["Operator (UK GDPR): " + b for b in operator_legal_basis(agreements)] if is_operator else [])
            + ["Police (DPA 2018 Part 3): " + b for b in police_legal_basis(agreements)]
            or ["No agreement in effect."],
        ),
        "j": Section(
            "j",
            "",
            tables=[
                Table("ropa.terms", "Time limits agreed, by agreement", [*columns, "Time limits"], terms),
                Table(
                    "ropa.rules",
                    "Retention rules Oversight enforces",
                    ["Rule", "What it erases and when", "Legal source"],
                    rules,
                ),
            ],
        ),
        "k": Section(
            "k",
            "",
            notes=[
                "Watchlist images and alert crops encrypted at rest; access by role and organisation, every read of "
                "personal data recorded in a hash-chained, signed audit log (DPA 2018 s.62); retention enforced by "
                "scheduled sweeps with deletion certificates."
            ],
            tables=[
                Table(
                    "ropa.security",
                    "Security measures agreed, by agreement",
                    [*columns, "Security measures"],
                    _agreement_rows(agreements, lambda a: a.security_measures),
                )
            ],
        ),
    }
    return facts


def _merge(base: Section, extra: Section) -> Section:
    return replace(
        base,
        figures=[*base.figures, *extra.figures],
        tables=[*base.tables, *extra.tables],
        notes=[*base.notes, *extra.notes],
        charts=[*base.charts, *extra.charts],
    )


def ropa_report(*, actor: Any, controller: Organisation) -> Report:
    """The record, one section per s.61(2) item; other apps add to an item by returning a section
    whose ``code`` is its letter (recognition: the deployments' purposes, sites and disclosures)."""
    agreements = list(agreements_of_controller(actor, controller))
    sections = _sections(actor, controller, agreements)
    operator_id = controller.pk if controller.kind == OrganisationKind.OPERATOR else None
    for extra in report_sections("ropa", ReportScope(actor=actor, subject=controller, operator_id=operator_id)):
        if extra.code in sections:
            sections[extra.code] = _merge(sections[extra.code], extra)
    ordered = [
        replace(sections[letter], code=f"s61-{letter}", title=f"({letter}) {text[0].upper()}{text[1:]}")
        for letter, text in S61_CONTENTS
    ]
    return Report(
        kind="ropa",
        title=f"Record of processing activities — {controller.name}",
        subtitle="UK GDPR Art. 30 · DPA 2018 s.61 · generated from its agreements, deployments and retention rules",
        sections=ordered,
    )
