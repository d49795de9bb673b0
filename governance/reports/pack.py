"""The regulator pack: the agreements register with notification dates, deployments (registered by
recognition), breaches, and a self-assessment against the 12 principles of the Surveillance Camera
Code whose evidence is filled from the records, with the DPO's commentary beside it.

Scope: a regulator reads every organisation's; a DPO the records their organisation may see.
"""

from __future__ import annotations

from collections import Counter
from statistics import median
from typing import Any

from django.db import transaction
from django.utils import timezone

from governance.access import agreements_visible_to, answerable_ids, images_visible_to, is_regulator
from governance.agreements.rules import (
    agreement_is_notified,
    agreement_rule_breaches,
    ico_missing_contents,
    retention_extension_text,
)
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.audit.transparency import audit_pack_handed_over
from governance.breaches.access import breaches_visible_to
from governance.breaches.rules import breach_commissioner_clock, breach_subjects_state
from governance.errors import PermissionRefused, ValidationFailed
from governance.reports.access import can_comment_on_self_assessment, can_read_reports
from governance.reports.figures import erasure_candidates, image_erasure_due_at
from governance.reports.models import PrincipleCommentary, PublishedReport
from governance.reports.registry import (
    EvidenceProvider,
    Figure,
    FigureProvider,
    ReportScope,
    Section,
    Table,
    figure_provider_register,
    principle_evidence,
    principle_evidence_register,
    report_sections,
)
from governance.reports.selectors import Report
from governance.watchlist.models import ImageStatus

PRINCIPLES = {
    1: "Use for a specified purpose, in pursuit of a legitimate aim and a pressing need",
    2: "Take into account the effect on individuals and their privacy; review regularly",
    3: "Transparency, including a published contact point for access and complaints",
    4: "Clear responsibility and accountability for all activities",
    5: "Clear rules, policies and procedures in place before use, communicated to all who need them",
    6: "Keep no more images and information than needed, and no longer than needed",
    7: "Restrict access to retained images and information; clear rules on disclosure",
    8: "Meet approved operational, technical and competency standards",
    9: "Keep images and information secure from unauthorised access and use",
    10: "Effective review and audit mechanisms; regular reports published",
    11: "Use in the most effective way to support public safety and law enforcement",
    12: "Reference databases used for matching are accurate and kept up to date",
}


def share_of(part: int, whole: int) -> str:
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "none to count"


def _governance_evidence(scope: ReportScope) -> dict[int, list[str]]:
    actor = scope.actor
    agreements = list(agreements_visible_to(actor))
    breaches_by = [agreement_rule_breaches(a) for a in agreements]
    count = len(agreements)
    evidence: dict[int, list[str]] = {
        1: [f"Agreements stating their purpose: {share_of(sum(1 for a in agreements if a.purpose.strip()), count)}."],
        2: _dpia_evidence(actor, agreements),
        3: [
            f"Agreements notified to the regulator: "
            f"{share_of(sum(1 for a in agreements if agreement_is_notified(a)), count)}."
        ],
        4: [
            f"Agreements approved at force level: "
            f"{share_of(sum(1 for b in breaches_by if not any(x.code == 'local_level_approval' for x in b)), count)}."
        ],
        5: [
            f"Agreements with every ICO data sharing code content stated: "
            f"{share_of(sum(1 for a in agreements if not ico_missing_contents(a)), count)}."
        ],
    }
    on_time = late = 0
    for image in erasure_candidates(images_visible_to(actor)):
        due = image_erasure_due_at(image)
        if due and image.erased_at:
            on_time += image.erased_at <= due
            late += image.erased_at > due
    evidence[6] = [f"Watchlist erasures on time against the agreements' terms: {share_of(on_time, on_time + late)}."]
    evidence[9] = [f"Breaches recorded: {breaches_visible_to(actor).count()}; image bytes are held encrypted at rest."]
    last = _published(actor).order_by("-published_at").first()
    evidence[10] = [
        f"Last published transparency report: {last.published_at:%d %b %Y} ({last.title})."
        if last
        else "No transparency report has been published."
    ]
    today = timezone.localdate()
    ages = [
        (today - taken).days
        for taken in images_visible_to(actor)
        .order_by()
        .filter(status__in=(ImageStatus.ENROLLED, ImageStatus.RECEIVED))
        .values_list("image_taken_on", flat=True)
    ]
    if ages:
        evidence[12] = [
            f"Watchlist images held: {len(ages)}; image age median {median(ages):.0f} days, oldest "
            f"{max(ages)} days; older than a year: {sum(1 for a in ages if a > 365)}."
        ]
    else:
        evidence[12] = ["No watchlist images are held."]
    return evidence


def _agreement_dpia_status(agreement) -> str:
    from governance.dpia.rules import agreement_dpia_problem

    problem = agreement_dpia_problem(agreement)
    return "Approved and in date" if problem is None else problem.message


def _dpia_evidence(actor: Any, agreements: list) -> list[str]:
    """Principle 2 from the DPIA records: which agreements an approved, in-date DPIA covers, and the
    DPIAs' states and review dates (governance.dpia)."""
    from governance.dpia.access import dpias_visible_to
    from governance.dpia.rules import agreement_dpia_problem, dpia_review_warning

    live = [a for a in agreements if a.status in ("approved", "active")]
    covered = sum(1 for a in live if agreement_dpia_problem(a) is None)
    dpias = list(dpias_visible_to(actor))
    states = Counter(d.get_status_display() for d in dpias)
    warnings = [w for d in dpias if (w := dpia_review_warning(d))]
    return [
        f"Approved or active agreements covered by an approved, in-date DPIA: {share_of(covered, len(live))}.",
        "DPIAs: " + (", ".join(f"{n} {state.lower()}" for state, n in sorted(states.items())) or "none") + ".",
        f"DPIA reviews due or overdue: {len(warnings)}.",
    ]


def _published(actor: Any):
    if is_regulator(actor):
        return PublishedReport.objects.all()
    return PublishedReport.objects.filter(organisation_id__in=answerable_ids(actor.organisation))


def _commentaries(actor: Any):
    queryset = PrincipleCommentary.objects.select_related("organisation")
    return queryset if is_regulator(actor) else queryset.filter(organisation_id=actor.organisation_id)


def pack_figures(scope: ReportScope) -> list[Section]:
    actor = scope.actor
    agreements = list(agreements_visible_to(actor).order_by("reference", "version"))
    register_rows = [
        [
            a.reference,
            a.version,
            a.title,
            a.supplying_organisation.name,
            a.receiving_organisation.name,
            a.get_status_display(),
            a.starts_on,
            a.ends_on,
            f"{a.regulator_notified_on} to {a.regulator}" if agreement_is_notified(a) else "Never notified",
            a.regulator_notification_reference,
            _agreement_dpia_status(a),
            ", ".join(b.title for b in agreement_rule_breaches(a)) or "—",
            f"Alerts {a.match_retention_days} days; watchlist erased within {a.watchlist_erasure_hours} hours"
            + (f". {retention_extension_text(a)}" if retention_extension_text(a) else ""),
        ]
        for a in agreements
    ]
    breaches = list(breaches_visible_to(actor))
    breach_rows = [
        [
            b.reference,
            b.organisation.name,
            b.title,
            b.discovered_at,
            b.get_risk_display(),
            b.people_affected,
            breach_commissioner_clock(b).text,
            breach_subjects_state(b),
        ]
        for b in breaches
    ]
    return [
        Section(
            code="register",
            title="Agreements register",
            figures=[
                Figure("agreements", "Agreements", len(agreements)),
                Figure(
                    "agreements.unnotified",
                    "Never notified to the regulator",
                    sum(1 for a in agreements if not agreement_is_notified(a)),
                ),
            ],
            tables=[
                Table(
                    "register",
                    "Agreements and regulator notification",
                    [
                        "Reference",
                        "Version",
                        "Title",
                        "Supplier",
                        "Operator",
                        "Status",
                        "From",
                        "To",
                        "Regulator notified",
                        "Notification ref.",
                        "DPIA",
                        "Rules broken",
                        "Retention",
                    ],
                    register_rows,
                )
            ],
        ),
        Section(
            code="breaches",
            title="Personal data breaches",
            figures=[
                Figure("breaches", "Breaches recorded", len(breaches)),
                Figure(
                    "breaches.overdue",
                    "Commissioner notification overdue",
                    sum(1 for b in breaches if breach_commissioner_clock(b).code == "overdue"),
                ),
            ],
            tables=[
                Table(
                    "breaches",
                    "Breach register",
                    [
                        "Reference",
                        "Organisation",
                        "Title",
                        "Found",
                        "Risk",
                        "People affected",
                        "Commissioner",
                        "People told",
                    ],
                    breach_rows,
                )
            ],
        ),
    ]


def self_assessment_section(scope: ReportScope) -> Section:
    evidence = principle_evidence(scope)
    commentary: dict[int, list[str]] = {}
    regulator = is_regulator(scope.actor)
    for c in _commentaries(scope.actor):
        commentary.setdefault(c.principle, []).append(f"{c.organisation.name}: {c.text}" if regulator else c.text)
    rows = [
        [
            number,
            title,
            " ".join(evidence.get(number, [])) or "No record-based evidence.",
            " / ".join(commentary.get(number, [])) or "No commentary yet.",
        ]
        for number, title in PRINCIPLES.items()
    ]
    return Section(
        code="principles",
        title="Self-assessment: the 12 Surveillance Camera Code principles",
        tables=[
            Table(
                "principles",
                "Principles, evidence from the records, and the DPO's commentary",
                ["No.", "Principle", "Evidence from the records", "DPO's commentary"],
                rows,
            )
        ],
    )


def regulator_pack(actor: Any) -> Report:
    if not can_read_reports(actor):
        raise PermissionRefused("Your role cannot read accountability reports.")
    scope = ReportScope(actor=actor)
    sections = report_sections("regulator_pack", scope) + [self_assessment_section(scope)]
    # The head handed over in this pack: the reader's next pack proves from it (audit/transparency.py).
    audit_pack_handed_over(organisation=actor.organisation, sections=sections)
    whose = "every organisation" if is_regulator(actor) else str(actor.organisation)
    return Report(kind="regulator_pack", title="Regulator pack", subtitle=f"Records of {whose}", sections=sections)


def principle_commentary_set(*, actor: Any, principle: int, text: str) -> PrincipleCommentary:
    """The DPO writes their organisation's commentary on one principle. Audited as an ``alteration``."""
    if not can_comment_on_self_assessment(actor):
        raise PermissionRefused("Only a data protection officer comments on the self-assessment.")
    if principle not in PRINCIPLES or not text.strip():
        raise ValidationFailed("Choose a principle (1-12) and write the commentary.")
    with transaction.atomic():
        commentary, _ = PrincipleCommentary.objects.update_or_create(
            organisation=actor.organisation,
            principle=principle,
            defaults={
                "text": text.strip(),
                "updated_at": timezone.now(),
                "updated_by_name": actor.get_full_name() or actor.username,
            },
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="report.principle_commentary",
            actor=actor,
            target=commentary,
            details={"principle": principle},
        )
    return commentary


figure_provider_register(
    FigureProvider(code="governance.regulator_pack", kind="regulator_pack", compute=pack_figures, order=10)
)
principle_evidence_register(EvidenceProvider(code="governance", compute=_governance_evidence))
