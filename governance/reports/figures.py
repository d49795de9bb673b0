"""Governance's own report figures: an agreement's images, their erasures and legal holds.

Registered from ``GovernanceConfig.ready``. Every queryset starts from the access layer
(``images_visible_to``, ``holds_visible_to``), so a report holds only what its reader may see.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from governance.access import agreement_for, can_view_retention, holds_visible_to, images_visible_to
from governance.agreements.models import ENDED_STATES, Agreement, CustodyCategory
from governance.agreements.rules import agreement_is_notified, agreement_rule_breaches, retention_extension_text
from governance.reports.registry import (
    Chart,
    Figure,
    FigureProvider,
    ReportScope,
    ReportSubject,
    Section,
    Table,
    figure_provider_register,
    report_subject_register,
)
from governance.retention.models import HoldScope
from governance.retention.rules import agreement_watchlist_erasure_due_at
from governance.watchlist.models import LIVE_STATUSES, ImageStatus, RejectionReason

NEVER_RECORDED = "Never recorded"
# The page and the PDF list this many erasures (the figures count them all; the CSV lists them all).
ERASURE_PAGE_ROWS = 100


def duration_words(delta: timedelta) -> str:
    """How late, in words a reader takes in at a glance: "8 years 246 days", "3 days 4 hours", "5 hours"."""
    hours = int(delta.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    years, days = divmod(days, 365)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours and not years:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    return " ".join(parts) or "under an hour"


def image_erasure_due_at(image) -> datetime | None:
    """When the operator had to have erased this image, from the agreement's terms: within
    ``watchlist_erasure_hours`` of its withdrawal, or of the agreement's end, whichever came first."""
    hours = timedelta(hours=image.agreement.watchlist_erasure_hours)
    candidates = [image.withdrawn_at + hours] if image.withdrawn_at else []
    ended_due = agreement_watchlist_erasure_due_at(image.agreement)
    if ended_due:
        candidates.append(ended_due)
    return min(candidates) if candidates else None


def _late_reason(image, due: datetime, held_until: datetime | None) -> str:
    if image.recorded_retrospectively and image.received_at > due:
        return (
            f"Entered into Oversight retrospectively on {image.received_at:%d %b %Y}, after its erasure was due "
            f"({due:%d %b %Y}); no erasure was recorded at the time, so it was erased by the first retention "
            "sweep after it was entered."
        )
    if held_until and held_until > due:
        return "A legal hold blocked erasure until it was released or lapsed."
    return "The retention sweep erased it after the due time (the sweep did not run, or ran late)."


def _images_section(agreement: Agreement, images) -> Section:
    """Counted in the database: an agreement may carry thousands of images."""
    categories = dict(CustodyCategory.choices)
    reasons = dict(RejectionReason.choices)
    images = images.order_by()
    by_category = dict(images.values_list("custody_category").annotate(n=Count("pk")))
    by_supplier = dict(images.values_list("supplying_organisation__name").annotate(n=Count("pk")))
    by_reason = dict(images.exclude(rejection_reason="").values_list("rejection_reason").annotate(n=Count("pk")))
    counts = images.aggregate(
        shared=Count("pk"),
        enrolled=Count("pk", filter=Q(enrolled_at__isnull=False)),
        rejected=Count("pk", filter=~Q(rejection_reason="")),
        withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False)),
        erased=Count("pk", filter=Q(status=ImageStatus.ERASED)),
        held=Count("pk", filter=Q(status__in=LIVE_STATUSES)),
    )
    figures = [
        Figure("images.shared", "Images shared", counts["shared"]),
        Figure("images.enrolled", "Enrolled", counts["enrolled"]),
        Figure("images.rejected", "Rejected at enrolment", counts["rejected"]),
        Figure("images.withdrawn", "Withdrawn by the supplier", counts["withdrawn"]),
        Figure("images.erased", "Erased", counts["erased"]),
        Figure("images.held", "Held now", counts["held"]),
    ]
    if agreement.recorded_retrospectively:
        # Historical images were entered from the public account; whether they were enrolled,
        # matched or withdrawn at the time was never recorded.
        figures[1] = Figure("images.enrolled", "Enrolled", None, "No record of enrolment was kept at the time.")
        figures[2] = Figure(
            "images.rejected", "Rejected at enrolment", None, "No record of enrolment was kept at the time."
        )
        figures[3] = Figure(
            "images.withdrawn", "Withdrawn by the supplier", None, "No record of any withdrawal was kept at the time."
        )
    return Section(
        code="images",
        title="Images shared",
        figures=figures,
        tables=[
            Table(
                "images.by_category",
                "Images by custody category",
                ["Custody category", "Images"],
                [[categories.get(c, c), n] for c, n in sorted(by_category.items())],
            ),
            Table(
                "images.by_supplier",
                "Images by supplying force or unit",
                ["Supplied by", "Images"],
                [[name, n] for name, n in sorted(by_supplier.items())],
            ),
            Table(
                "images.rejections",
                "Rejections at enrolment by reason",
                ["Reason", "Images"],
                [[reasons.get(r, r), n] for r, n in sorted(by_reason.items())],
            ),
        ],
    )


def _erasures_section(agreement: Agreement, images, holds) -> Section:
    now = timezone.now()
    held_until: dict[int, datetime] = {}
    by_pk = {str(image.pk): image for image in images}
    by_agreement: dict[str, list] = {}
    for image in images:
        by_agreement.setdefault(str(image.agreement_id), []).append(image)
    for hold in holds:
        if hold.scope in (HoldScope.AGREEMENT, HoldScope.WATCHLIST_IMAGE):
            end = hold.released_at or hold.until or now
            key = hold.target_id
            for image in (
                by_agreement.get(key, [])
                if hold.scope == HoldScope.AGREEMENT
                else ([by_pk[key]] if key in by_pk else [])
            ):
                held_until[image.pk] = max(held_until.get(image.pk, end), end)
    rows, on_time, late, overdue = [], 0, 0, 0
    for image in images:
        due = image_erasure_due_at(image)
        if due is None:
            continue
        if image.erased_at:
            if image.erased_at <= due:
                on_time += 1
                rows.append([image.subject_reference, due, image.erased_at, "On time", "", ""])
            else:
                late += 1
                rows.append(
                    [
                        image.subject_reference,
                        due,
                        image.erased_at,
                        "Late",
                        duration_words(image.erased_at - due),
                        _late_reason(image, due, held_until.get(image.pk)),
                    ]
                )
        elif due <= now:
            overdue += 1
            rows.append(
                [
                    image.subject_reference,
                    due,
                    None,
                    "Overdue: not yet erased",
                    duration_words(now - due),
                    "A legal hold blocks erasure." if image.pk in held_until else "Awaiting the retention sweep.",
                ]
            )
    done = on_time + late
    share = f"{round(100 * on_time / done)}%" if done else "—"
    return Section(
        code="erasures",
        title="Erasures against the agreement's terms",
        figures=[
            Figure("erasures.on_time", "Erased on time", on_time),
            Figure("erasures.late", "Erased late", late),
            Figure("erasures.overdue", "Due and not yet erased", overdue),
            Figure("erasures.on_time_share", "Share of erasures on time", share),
        ],
        tables=[
            Table(
                "erasures",
                "Erasures (due time from the agreement's terms)",
                ["Image", "Due by", "Erased at", "Verdict", "How late", "Why"],
                # What needs attention first: overdue, then late, then on time.
                sorted(rows, key=lambda row: 2 if row[3] == "On time" else 1 if row[3] == "Late" else 0),
                page_rows=ERASURE_PAGE_ROWS,
            )
        ],
        charts=[
            Chart(
                "erasures.chart",
                "Erasures on time and late",
                "bar",
                ["On time", "Late", "Overdue"],
                {"Images": [on_time, late, overdue]},
                y_label="Images",
            )
        ]
        if rows
        else [],
        notes=[
            f"Terms: watchlist data erased within {agreement.watchlist_erasure_hours} hours of withdrawal or of "
            "the agreement's end."
        ],
    )


def _holds_section(holds) -> Section:
    in_force = [hold for hold in holds if hold.in_force]
    return Section(
        code="holds",
        title="Legal holds",
        figures=[
            Figure("holds.total", "Legal holds placed", len(holds)),
            Figure("holds.in_force", "In force now", len(in_force)),
        ],
        tables=[
            Table(
                "holds",
                "Legal holds",
                ["On", "Placed", "Until", "Released", "Reason"],
                [
                    [hold.target_label or hold.target_id, hold.placed_at, hold.until, hold.released_at, hold.reason]
                    for hold in holds
                ],
            )
        ],
    )


def _record_section(agreement: Agreement) -> Section:
    figures = [
        Figure(
            "agreement.regulator_notified_on",
            "Notified to the regulator",
            f"{agreement.regulator_notified_on} to {agreement.regulator}" if agreement_is_notified(agreement) else None,
            "" if agreement_is_notified(agreement) else "Never notified to a named regulator.",
        ),
        Figure(
            "agreement.approved_by",
            "Approved by",
            agreement.approved_by_name
            or (agreement.approving_organisation.name if agreement.approving_organisation else None),
        ),
        Figure("agreement.window", "In force", f"{agreement.starts_on:%d %b %Y} – {agreement.ends_on:%d %b %Y}"),
        Figure("agreement.status", "Status", agreement.get_status_display()),
    ]
    notes = [f"Rule broken: {breach.title}. {breach.explanation}" for breach in agreement_rule_breaches(agreement)]
    if retention_extension_text(agreement):
        notes.append(retention_extension_text(agreement))
    if agreement.recorded_retrospectively:
        notes.insert(
            0,
            "Recorded retrospectively: this agreement was made outside Oversight. Figures shown as "
            f"“{NEVER_RECORDED}” were not kept at the time and cannot be reconstructed. " + agreement.historical_notes,
        )
    return Section(code="agreement", title="The agreement", figures=figures, notes=notes)


def erasure_candidates(images):
    """The images that can have an erasure due time (withdrawn, or under an ended agreement), loaded
    with only what ``image_erasure_due_at`` and the erasure table read."""
    return list(
        images.filter(Q(withdrawn_at__isnull=False) | Q(agreement__status__in=ENDED_STATES))
        .select_related(None)
        .select_related("agreement")
        .only(
            "pk",
            "subject_reference",
            "withdrawn_at",
            "erased_at",
            "received_at",
            "recorded_retrospectively",
            "agreement__status",
            "agreement__ended_at",
            "agreement__ends_on",
            "agreement__watchlist_erasure_hours",
        )
        .order_by("received_at", "pk")
    )


def agreement_figures(scope: ReportScope) -> list[Section]:
    agreement: Agreement = scope.subject
    images = images_visible_to(scope.actor).filter(agreement__reference=agreement.reference)
    candidates = erasure_candidates(images)
    holds = []
    if can_view_retention(scope.actor):
        version_ids = [
            str(pk) for pk in Agreement.objects.filter(reference=agreement.reference).values_list("pk", flat=True)
        ]
        holds = list(
            holds_visible_to(scope.actor)
            .filter(scope__in=[HoldScope.AGREEMENT, HoldScope.WATCHLIST_IMAGE])
            .order_by("placed_at")
        )
        held_images = [
            int(h.target_id) for h in holds if h.scope == HoldScope.WATCHLIST_IMAGE and h.target_id.isdigit()
        ]
        image_ids = {str(pk) for pk in images.filter(pk__in=held_images).values_list("pk", flat=True)}
        holds = [
            h
            for h in holds
            if (h.scope == HoldScope.AGREEMENT and h.target_id in version_ids)
            or (h.scope == HoldScope.WATCHLIST_IMAGE and h.target_id in image_ids)
        ]
    return [
        _record_section(agreement),
        _images_section(agreement, images),
        _erasures_section(agreement, candidates, holds),
        _holds_section(holds),
    ]


figure_provider_register(
    FigureProvider(code="governance.agreement", kind="agreement", compute=agreement_figures, order=10)
)
report_subject_register(
    ReportSubject(
        kind="agreement",
        title="Agreement report",
        lookup=lambda actor, pk: agreement_for(actor, pk),
        label=lambda a: f"{a.reference} v{a.version} — {a.title}",
    )
)
