"""Recognition's report figures, registered with governance's report registry (loaded from
``DeploymentsConfig.ready``): deployments, faces scanned, alerts, reviews, disclosures, outcomes.

Every queryset starts from the access layer (``deployments_visible_to``, ``alerts_visible_to``,
``disclosures_visible_to``). The scheduled transparency job has no actor (``scope.actor is None``)
and reads exactly one operator's records (``scope.operator_id``); nothing else runs without one.

"False alert" follows the published police figures: an alert the reviewers closed because it was
not the person (reasons ``false_alert`` and ``not_the_person``); one closed because the image was
too poor to judge is counted apart, as neither true nor false.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.reports.disclosure_control import suppress_small_cells
from governance.reports.registry import (
    Chart,
    EvidenceProvider,
    Figure,
    FigureProvider,
    RelatedLinks,
    ReportScope,
    ReportSubject,
    Section,
    Table,
    figure_provider_register,
    principle_evidence_register,
    related_links_register,
    report_subject_register,
)
from recognition.deployments.access import (
    alerts_visible_to,
    deployment_for,
    deployments_visible_to,
    disclosures_visible_to,
)
from recognition.deployments.authorisation import deployment_authorised_by
from recognition.deployments.models import (
    Alert,
    AlertStatus,
    Deployment,
    Disclosure,
    EthnicGroup,
    FaceScanCounter,
    Outcome,
    RejectionReason,
    WatchlistReview,
)
from recognition.deployments.services.planning import default_match_threshold

FALSE_ALERT_REASONS = (RejectionReason.FALSE_ALERT, RejectionReason.NOT_THE_PERSON)
NOT_RECORDED = "Not recorded: the agreement predates Oversight and no record of this was kept."


def _deployments(scope: ReportScope):
    if scope.actor is None:
        return Deployment.objects.filter(operator_id=scope.operator_id)
    queryset = deployments_visible_to(scope.actor)
    return queryset.filter(operator_id=scope.operator_id) if scope.operator_id else queryset


def _alerts(scope: ReportScope):
    if scope.actor is None:
        return Alert.objects.filter(deployment__operator_id=scope.operator_id)
    queryset = alerts_visible_to(scope.actor)
    return queryset.filter(deployment__operator_id=scope.operator_id) if scope.operator_id else queryset


def _disclosures(scope: ReportScope):
    if scope.actor is None:
        return Disclosure.objects.filter(alert__deployment__operator_id=scope.operator_id)
    queryset = disclosures_visible_to(scope.actor)
    return queryset.filter(alert__deployment__operator_id=scope.operator_id) if scope.operator_id else queryset


def _in_period(queryset, field: str, scope: ReportScope):
    if scope.period_start:
        queryset = queryset.filter(**{f"{field}__gte": scope.period_start})
    if scope.period_end:
        queryset = queryset.filter(**{f"{field}__lt": scope.period_end})
    return queryset


def false_alert_rate(faces_scanned: int, false_alerts: int) -> str:
    """The public figures' form: false alerts per faces scanned, "1 in 6,000"."""
    if not faces_scanned:
        return "—"
    if not false_alerts:
        return f"none in {faces_scanned:,} faces scanned"
    return f"1 in {round(faces_scanned / false_alerts):,} faces scanned"


def false_alert_share(counts: dict[str, int]) -> str:
    """False alerts against alerts raised, the Met's second rate: "20% (1 of 5 alerts)"."""
    if not counts["total"]:
        return "—"
    return f"{round(100 * counts['false'] / counts['total'])}% ({counts['false']} of {counts['total']} alerts)"


# An engagement: officers found and spoke to the person (whoever it turned out to be). "No action" and
# "not located" are not; "other" says nothing either way and is counted only as itself.
ENGAGED_OUTCOMES = (Outcome.SPOKEN_TO, Outcome.SAFEGUARDED, Outcome.ARRESTED, Outcome.WRONG_PERSON)


def watchlist_size(deployment: Deployment) -> int | None:
    """Images on the watchlist the deployment went live with (its go-live review), else the latest
    review's count; ``None`` when no watchlist was ever reviewed."""
    review = deployment.matched_review or deployment.watchlist_reviews.order_by("-reviewed_at").first()
    return review.image_count if review else None


def hours_deployed(deployment: Deployment, start=None, end=None) -> float:
    """Hours live: from going live to ending (or now, or the planned end, whichever is first),
    within [start, end) when given. Never live: 0."""
    if not deployment.went_live_at:
        return 0.0
    live_from = max(deployment.went_live_at, start) if start else deployment.went_live_at
    live_to = deployment.ended_at or min(timezone.now(), deployment.ends_at)
    if end:
        live_to = min(live_to, end)
    return round(max((live_to - live_from).total_seconds(), 0) / 3600, 1)


def police_counts(disclosures) -> dict[str, int]:
    return disclosures.aggregate(
        engagements=Count("pk", filter=Q(outcome__in=ENGAGED_OUTCOMES)),
        arrests=Count("pk", filter=Q(outcome=Outcome.ARRESTED)),
        wrong_person=Count("pk", filter=Q(outcome=Outcome.WRONG_PERSON)),
    )


def _ethnic_group_table(disclosures, *, published: bool) -> Table:
    """False alerts the police found on engaging (outcome "not the person") by the ethnic group the
    officer recorded, in the ONS high-level groups only; small cells suppressed when published."""
    counts = Counter(
        dict(
            disclosures.filter(outcome=Outcome.WRONG_PERSON)
            .order_by()
            .values_list("outcome_ethnic_group")
            .annotate(n=Count("pk"))
        )
    )
    groups = [value for value, _ in EthnicGroup.choices if value] + [EthnicGroup.NOT_RECORDED]
    cells = [counts.get(value, 0) for value in groups]
    if published:
        cells = suppress_small_cells(cells)
    labels = dict(EthnicGroup.choices)
    return Table(
        "false_alerts.ethnic_group",
        "People engaged who were not the person sought, by ethnic group (as the officer recorded it)",
        ["Ethnic group", "People"],
        [[labels[value], n] for value, n in zip(groups, cells, strict=True)],
    )


def alert_counts(alerts) -> dict[str, int]:
    counts = alerts.aggregate(
        total=Count("pk"),
        confirmed=Count("pk", filter=Q(status=AlertStatus.CONFIRMED)),
        false=Count("pk", filter=Q(status=AlertStatus.FALSE_ALERT, close_reason__in=FALSE_ALERT_REASONS)),
        unjudged=Count("pk", filter=Q(status=AlertStatus.FALSE_ALERT) & ~Q(close_reason__in=FALSE_ALERT_REASONS)),
        pending=Count("pk", filter=Q(status=AlertStatus.PENDING)),
    )
    return counts


def true_alert_rate(counts: dict[str, int]) -> str:
    judged = counts["confirmed"] + counts["false"]
    return f"{round(100 * counts['confirmed'] / judged)}% ({counts['confirmed']} of {judged})" if judged else "—"


def _outcome_chart(outcomes: Table) -> Chart | None:
    """The outcome table as a bar chart (the same picture in the page and the PDF)."""
    if not any(n for _, n in outcomes.rows):
        return None
    return Chart(
        "outcomes",
        "Police outcomes of disclosures",
        "bar",
        [label for label, _ in outcomes.rows],
        {"Disclosures": [n for _, n in outcomes.rows]},
        y_label="Disclosures",
    )


def _outcome_table(disclosures, *, every_category: bool = False) -> tuple[Table, int]:
    labels = dict(Outcome.choices)
    counts = Counter(dict(disclosures.order_by().values_list("outcome").annotate(n=Count("pk"))))
    missing = counts.pop("", 0)
    if every_category:  # the published report lists each category, zero or not
        rows = [[label, counts.get(value, 0)] for value, label in Outcome.choices]
    else:
        rows = [[labels.get(value, value), n] for value, n in sorted(counts.items())]
    rows.append(["Outcome not yet reported", missing])
    return Table("outcomes", "Police outcomes of disclosures", ["Outcome", "Disclosures"], rows), missing


def _alerts_over_time(alerts) -> Chart | None:
    per_day = (
        alerts.annotate(day=TruncDate("first_seen_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            false=Count("pk", filter=Q(status=AlertStatus.FALSE_ALERT, close_reason__in=FALSE_ALERT_REASONS)),
        )
        .order_by("day")
    )
    per_day = list(per_day)
    if not per_day:
        return None
    return Chart(
        "alerts.over_time",
        "Alerts and false alerts by day",
        "bar",
        [f"{row['day']:%d %b %Y}" for row in per_day],
        {"Alerts": [row["total"] for row in per_day], "False alerts": [row["false"] for row in per_day]},
        y_label="Alerts",
    )


def _faces_scanned(deployments) -> int:
    return (
        FaceScanCounter.objects.filter(camera__deployment__in=deployments).aggregate(n=Sum("faces_scanned"))["n"] or 0
    )


# Hour by hour while a deployment is short; day by day (average and peak hour) beyond three days,
# so a three-month deployment's page and PDF stay a few pages long and its chart readable.
HOURLY_UP_TO = 72


def _faces_by_day(per_hour) -> list[dict]:
    days: dict = {}
    for row in per_hour:
        day = timezone.localtime(row["h"]).date()
        entry = days.setdefault(day, {"day": day, "hours": 0, "faces": 0, "alerts": 0, "peak": 0})
        entry["hours"] += 1
        entry["faces"] += row["faces"]
        entry["alerts"] += row["alerts"]
        entry["peak"] = max(entry["peak"], row["faces"])
    return list(days.values())


def _faces_chart(per_hour) -> Chart:
    if len(per_hour) <= HOURLY_UP_TO:
        return Chart(
            "faces.per_hour",
            "Faces scanned per hour",
            "bar",
            [f"{timezone.localtime(r['h']):%d %b %H:00}" for r in per_hour],
            {"Faces scanned": [r["faces"] for r in per_hour]},
            y_label="Faces",
        )
    days = _faces_by_day(per_hour)
    return Chart(
        "faces.per_hour",
        "Faces scanned per hour (average and peak hour, by day)",
        "line",
        [f"{d['day']:%d %b}" for d in days],
        {"Average per hour": [round(d["faces"] / d["hours"]) for d in days], "Peak hour": [d["peak"] for d in days]},
        y_label="Faces per hour",
    )


def _faces_table(per_hour) -> Table:
    if len(per_hour) <= HOURLY_UP_TO:
        return Table(
            "faces_per_hour",
            "Faces scanned per hour",
            ["Hour", "Faces scanned", "Alerts raised"],
            [[r["h"], r["faces"], r["alerts"]] for r in per_hour],
        )
    return Table(
        "faces_per_hour",
        "Faces scanned per hour, by day",
        ["Day", "Hours counted", "Faces scanned", "Average per hour", "Peak hour", "Alerts raised"],
        [
            [d["day"], d["hours"], d["faces"], round(d["faces"] / d["hours"]), d["peak"], d["alerts"]]
            for d in _faces_by_day(per_hour)
        ],
    )


# --- the agreement report: what recognition did with the agreement's images ------------------------


def agreement_figures(scope: ReportScope) -> list[Section]:
    agreement = scope.subject
    deployments = _deployments(scope).filter(agreements__reference=agreement.reference).distinct()
    alerts = _alerts(scope).filter(agreement__reference=agreement.reference)
    disclosures = _disclosures(scope).filter(alert__agreement__reference=agreement.reference)
    counts = alert_counts(alerts)
    outcomes, missing = _outcome_table(disclosures)
    reasons = dict(RejectionReason.choices)
    rejections = Counter(
        dict(
            alerts.filter(status=AlertStatus.FALSE_ALERT).order_by().values_list("close_reason").annotate(n=Count("pk"))
        )
    )
    deployment_rows = [
        [d.reference, d.name, d.site, d.starts_at, d.ends_at, d.get_status_display()]
        for d in deployments.order_by("starts_at")
    ]
    unknown = agreement.recorded_retrospectively and not deployment_rows

    def figure(code, label, value):
        return Figure(code, label, None, NOT_RECORDED) if unknown else Figure(code, label, value)

    chart = _alerts_over_time(alerts)
    return [
        Section(
            code="use",
            title="What was done with the images",
            figures=[
                figure("deployments", "Deployments that used them", len(deployment_rows)),
                figure("faces_scanned", "Faces scanned by those deployments", _faces_scanned(deployments)),
                figure("alerts", "Alerts on its images", counts["total"]),
                figure("confirmations", "Confirmed by two reviewers", counts["confirmed"]),
                figure("rejections", "Rejected by reviewers", counts["false"] + counts["unjudged"]),
                figure("disclosures", "Disclosed to police", disclosures.count()),
                figure("outcomes_missing", "Police outcomes not yet reported", missing),
            ],
            tables=[
                Table(
                    "deployments",
                    "Deployments that used its images",
                    ["Reference", "Name", "Site", "From", "To", "Status"],
                    deployment_rows,
                ),
                Table(
                    "alerts.rejections",
                    "Alerts rejected by reason",
                    ["Reason", "Alerts"],
                    [[reasons.get(r, r or "—"), n] for r, n in sorted(rejections.items())],
                ),
                outcomes,
            ],
            charts=[c for c in (chart, _outcome_chart(outcomes)) if c],
            notes=[
                "Faces scanned counts every face the deployments' cameras checked against their whole watchlist, "
                "which may hold images of other agreements."
            ]
            if deployment_rows
            else [],
        )
    ]


# --- the deployment report -----------------------------------------------------------------------


def deployment_figures(scope: ReportScope) -> list[Section]:
    deployment: Deployment = scope.subject
    alerts = _alerts(scope).filter(deployment=deployment)
    disclosures = _disclosures(scope).filter(alert__deployment=deployment)
    counters = FaceScanCounter.objects.filter(camera__deployment=deployment)
    faces = counters.aggregate(n=Sum("faces_scanned"))["n"] or 0
    counts = alert_counts(alerts)
    police = police_counts(disclosures)
    outcomes, missing = _outcome_table(disclosures)
    per_hour = list(
        counters.annotate(h=TruncHour("hour"))
        .values("h")
        .annotate(faces=Sum("faces_scanned"), alerts=Sum("alerts_raised"))
        .order_by("h")
    )
    if alerts.count() != Alert.objects.filter(deployment=deployment).count():  # counts follow the viewer (issue 26)
        seen = alerts.annotate(h=TruncHour("first_seen_at")).values("h").annotate(n=Count("pk")).order_by()
        visible = {row["h"]: row["n"] for row in seen}
        per_hour = [{**row, "alerts": visible.get(row["h"], 0)} for row in per_hour]
    reviews = deployment.watchlist_reviews.order_by("reviewed_at")
    cameras = deployment.cameras.order_by("name")
    charts = []
    if per_hour:
        charts.append(_faces_chart(per_hour))
    chart = _alerts_over_time(alerts)
    if chart:
        charts.append(chart)
    by_camera = defaultdict(int)
    for camera_name, n in counters.values_list("camera__name").annotate(n=Sum("faces_scanned")):
        by_camera[camera_name] = n
    return [
        Section(
            code="deployment",
            title="The deployment",
            figures=[
                Figure(
                    "window", "Window", f"{deployment.starts_at:%d %b %Y %H:%M} – {deployment.ends_at:%d %b %Y %H:%M}"
                ),
                Figure("status", "Status", deployment.get_status_display()),
                Figure("cameras", "Cameras", cameras.count()),
                Figure("threshold", "Match threshold", f"{deployment.match_threshold:.2f}"),
                Figure("faces_scanned", "Faces scanned", faces),
                Figure("alerts", "Alerts", counts["total"]),
                Figure("confirmed", "Confirmed (true alerts)", counts["confirmed"]),
                Figure("false_alerts", "False alerts", counts["false"]),
                Figure("unjudged", "Closed as too poor to judge", counts["unjudged"]),
                Figure("pending", "Awaiting review", counts["pending"]),
                Figure("false_alert_rate", "False-alert rate", false_alert_rate(faces, counts["false"])),
                Figure("false_alert_share", "False alerts among alerts", false_alert_share(counts)),
                Figure("true_alert_rate", "True alerts among reviewed alerts", true_alert_rate(counts)),
                Figure("watchlist_size", "Watchlist size (images)", watchlist_size(deployment)),
                Figure("hours_deployed", "Hours deployed", hours_deployed(deployment)),
                Figure("disclosures", "Disclosed to police", disclosures.count()),
                Figure("engagements", "Engagements by officers", police["engagements"]),
                Figure("arrests", "Arrests", police["arrests"]),
                Figure("police_false_alerts", "Engaged but not the person sought", police["wrong_person"]),
                Figure("outcomes_missing", "Police outcomes not yet reported", missing),
            ],
            tables=[
                Table(
                    "cameras",
                    "Cameras",
                    ["Camera", "Location", "Facing", "Faces scanned"],
                    [[c.name, c.location, c.direction, by_camera.get(c.name, 0)] for c in cameras],
                ),
                Table(
                    "watchlist_reviews",
                    "Watchlist reviews and go-lives",
                    ["Reviewed at", "Reviewed by", "Images on the watchlist", "Used for go-live at"],
                    [[r.reviewed_at, r.reviewed_by_name, r.image_count, r.used_for_go_live_at] for r in reviews],
                ),
                _faces_table(per_hour),
                outcomes,
                _ethnic_group_table(disclosures, published=False),
                *_police_decision_tables(deployment, scope.actor),
            ],
            charts=[*charts, *filter(None, [_outcome_chart(outcomes)])],
        )
    ]


def _police_decision_tables(deployment: Deployment, actor) -> list[Table]:
    """APP on LFR: each force's Authorising Officer's decisions, and the post-deployment reviews
    (for a police reader, its own supply chain's only)."""
    from recognition.deployments.authorisation import authorisations_visible_rows, post_deployment_review_due_on

    _rows, visible = authorisations_visible_rows(actor, deployment)
    forces = {a.force_id for a in visible} | {row["force"].pk for row in _rows}

    decisions = [
        [
            a.force.name,
            a.get_decision_display() + ("" if a.verified else " (unverified: typed by the operator, no account)"),
            f"{a.officer_rank} {a.officer_name}".strip(),
            a.decided_at,
            f"Void: {a.void_reason}" if a.voided_at else "In force",
        ]
        for a in reversed(visible)
    ]
    due = post_deployment_review_due_on(deployment)
    reviews = [
        [
            r.force.name,
            f"{r.reviewed_by_rank} {r.reviewed_by_name}".strip(),
            r.reviewed_at,
            r.outcomes,
            r.false_alerts,
            r.issues,
            r.get_continue_decision_display(),
        ]
        for r in deployment.post_deployment_reviews.select_related("force")
        if r.force_id in forces
    ]
    if not reviews and due:
        reviews = [["—", "Not reviewed yet", f"due by {due:%d %b %Y}", "", "", "", ""]]
    return [
        Table(
            "authorisations",
            "Authorisation by each supplying force's Authorising Officer",
            ["Force", "Decision", "Officer", "Decided", "Status"],
            decisions,
        ),
        Table(
            "post_deployment_reviews",
            "Post-deployment review",
            ["Force", "Reviewed by", "Reviewed", "Outcomes", "False alerts", "Issues", "Continue?"],
            reviews,
        ),
    ]


# --- the transparency report: no personal data, only counts per deployment -----------------------


def transparency_figures(scope: ReportScope) -> list[Section]:
    deployments = _deployments(scope)
    if scope.period_start:
        deployments = deployments.filter(ends_at__gt=scope.period_start)
    if scope.period_end:
        deployments = deployments.filter(starts_at__lt=scope.period_end)
    deployments = list(deployments.filter(went_live_at__isnull=False).order_by("starts_at"))
    alerts = _in_period(_alerts(scope), "first_seen_at", scope)
    disclosures = _in_period(_disclosures(scope), "alert__first_seen_at", scope)
    counters = _in_period(FaceScanCounter.objects.filter(camera__deployment__in=deployments), "hour", scope)
    rows, totals = [], Counter()
    for deployment in deployments:
        faces = counters.filter(camera__deployment=deployment).aggregate(n=Sum("faces_scanned"))["n"] or 0
        counts = alert_counts(alerts.filter(deployment=deployment))
        police = police_counts(disclosures.filter(alert__deployment=deployment))
        hours = hours_deployed(deployment, scope.period_start, scope.period_end)
        rows.append(
            [
                deployment.reference,
                deployment.site,
                deployment.starts_at.date(),
                deployment.ends_at.date(),
                hours,
                watchlist_size(deployment),
                f"{deployment.match_threshold:.2f}",
                faces,
                counts["total"],
                counts["confirmed"],
                counts["false"],
                police["engagements"],
                police["arrests"],
            ]
        )
        totals.update(
            faces=faces,
            alerts=counts["total"],
            confirmed=counts["confirmed"],
            false=counts["false"],
            engagements=police["engagements"],
            arrests=police["arrests"],
        )
        totals["hours"] += hours
    outcomes, _missing = _outcome_table(disclosures.filter(alert__deployment__in=deployments), every_category=True)
    charts = []
    if rows:
        charts.append(
            Chart(
                "transparency.alerts",
                "Alerts and false alerts by deployment",
                "bar",
                [r[0] for r in rows],
                {"Alerts": [r[8] for r in rows], "False alerts": [r[10] for r in rows]},
                y_label="Alerts",
            )
        )
    return [
        Section(
            code="transparency",
            title="Live facial recognition in this period",
            figures=[
                Figure("deployments", "Deployments", len(rows)),
                Figure("faces_scanned", "Faces scanned", totals["faces"]),
                Figure("alerts", "Alerts", totals["alerts"]),
                Figure("confirmed", "Confirmed alerts", totals["confirmed"]),
                Figure("false_alerts", "False alerts", totals["false"]),
                Figure("false_alert_rate", "False-alert rate", false_alert_rate(totals["faces"], totals["false"])),
                Figure(
                    "false_alert_share",
                    "False alerts among alerts",
                    false_alert_share({"total": totals["alerts"], "false": totals["false"]}),
                ),
                Figure("hours_deployed", "Hours deployed", round(totals["hours"], 1)),
                Figure("engagements", "Engagements by officers", totals["engagements"]),
                Figure("arrests", "Arrests reported by police", totals["arrests"]),
            ],
            tables=[
                Table(
                    "deployments",
                    "Deployments",
                    [
                        "Deployment",
                        "Site",
                        "From",
                        "To",
                        "Hours deployed",
                        "Watchlist size",
                        "Threshold",
                        "Faces scanned",
                        "Alerts",
                        "Confirmed",
                        "False alerts",
                        "Engagements",
                        "Arrests",
                    ],
                    rows,
                ),
                outcomes,
                _ethnic_group_table(disclosures.filter(alert__deployment__in=deployments), published=True),
            ],
            charts=charts,
            notes=[
                "Faces that raised no alert were deleted immediately; only hourly counts remain. No person on a "
                "watchlist, reviewer or officer is named in this report.",
                "A false alert is an alert the reviewers found was not the person. An engagement is officers "
                "speaking to the person alerted on (spoken to, safeguarded, arrested, or found not to be the "
                "person). Ethnic group is recorded by the officer, only in the five ONS high-level groups, and "
                "only for people engaged; in that breakdown counts of 1 to 4 are shown as 'fewer than 5'.",
            ],
        )
    ]


figure_provider_register(
    FigureProvider(code="recognition.agreement", kind="agreement", compute=agreement_figures, order=50)
)
figure_provider_register(FigureProvider(code="recognition.deployment", kind="deployment", compute=deployment_figures))
figure_provider_register(
    FigureProvider(code="recognition.transparency", kind="transparency", compute=transparency_figures)
)
report_subject_register(
    ReportSubject(
        kind="deployment",
        title="Deployment report",
        lookup=lambda actor, pk: deployment_for(actor, pk),
        label=lambda d: f"{d.reference} — {d.name}",
    )
)


# --- the regulator pack: deployments, and evidence for the Surveillance Camera Code --------------


def regulator_pack_figures(scope: ReportScope) -> list[Section]:
    deployments = _deployments(scope).order_by("starts_at")
    rows = []
    for d in deployments:
        counts = alert_counts(_alerts(scope).filter(deployment=d))
        rows.append(
            [
                d.reference,
                d.operator.name,
                d.site,
                d.starts_at,
                d.ends_at,
                d.get_status_display(),
                f"{d.match_threshold:.2f}",
                deployment_authorised_by(d),
                d.public_notice_given_on,
                _faces_scanned([d]),
                counts["total"],
                counts["false"],
            ]
        )
    return [
        Section(
            code="deployments",
            title="Deployments",
            figures=[Figure("deployments", "Deployments", len(rows))],
            tables=[
                Table(
                    "deployments",
                    "Deployments",
                    [
                        "Reference",
                        "Operator",
                        "Site",
                        "From",
                        "To",
                        "Status",
                        "Threshold",
                        "Authorised by",
                        "Public notice",
                        "Faces scanned",
                        "Alerts",
                        "False alerts",
                    ],
                    rows,
                )
            ],
        )
    ]


def _evidence(scope: ReportScope) -> dict[int, list[str]]:
    from governance.reports.pack import share_of

    deployments = list(_deployments(scope))
    went_live = [d for d in deployments if d.went_live_at]
    ended = [d for d in deployments if d.status == "ended"]
    noticed = sum(1 for d in went_live if d.public_notice_given_on <= d.went_live_at.date())
    # A threshold below the engine's calibrated default is a documented, authorised decision (NPL 2023:
    # lower thresholds raise more false alerts, falling disproportionately on Black subjects).
    default = default_match_threshold()
    lowered = [d for d in deployments if d.match_threshold < default]
    # Documented (a justification) and authorised (an Authorising Officer's decision in force saw it).
    documented = sum(
        1
        for d in lowered
        if d.threshold_justification
        and any(a.is_current and a.terms.get("threshold") == d.match_threshold for a in d.authorisations.all())
    )
    counts = alert_counts(_alerts(scope))
    disclosures = _disclosures(scope)
    arrests = disclosures.filter(outcome=Outcome.ARRESTED).count()
    reviews = WatchlistReview.objects.filter(deployment__in=deployments, used_for_go_live_at__isnull=False).count()
    return {
        3: [f"Deployments with public notice given before going live: {share_of(noticed, len(went_live))}."],
        4: [
            "Deployments authorised in Oversight by the Authorising Officer of every supplying force: "
            f"{share_of(sum(1 for d in deployments if _authorised_by_every_force(d)), len(deployments))}; "
            f"with only an unverified, operator-typed name: "
            f"{sum(1 for d in deployments if d.authorisations.filter(verified=False).exists())}.",
            f"Ended deployments with a post-deployment review: "
            f"{share_of(sum(1 for d in ended if d.post_deployment_reviews.exists()), len(ended))}.",
        ],
        7: [
            f"Disclosures to police, each logged with recipient and justification: {disclosures.count()}; "
            f"outcomes not yet reported: {disclosures.filter(outcome='').count()}."
        ],
        8: [
            f"Deployments with a threshold below the engine default ({default:.2f}): {len(lowered)}, of which "
            f"documented and authorised by the police: "
            f"{documented}."
        ],
        11: [
            f"Alerts: {counts['total']}; true alerts among reviewed: {true_alert_rate(counts)}; "
            f"arrests reported: {arrests}."
        ],
        12: [f"Watchlist reviews used for a go-live: {reviews} (deployments that went live: {len(went_live)})."],
    }


def _authorised_by_every_force(deployment: Deployment) -> bool:
    from recognition.deployments.authorisation import deployment_authorisation_status

    rows = deployment_authorisation_status(deployment)
    return bool(rows) and all(row["current"] for row in rows)


figure_provider_register(
    FigureProvider(code="recognition.regulator_pack", kind="regulator_pack", compute=regulator_pack_figures, order=50)
)
principle_evidence_register(EvidenceProvider(code="recognition", compute=_evidence))


# --- the record of processing activities (governance.reports.ropa): items (d) and (e) --------------


def ropa_figures(scope: ReportScope) -> list[Section]:
    """The controller's deployments (purposes, places, times) and to whom their alerts were
    disclosed: an operator's own; a force's, those using images its agreements supplied."""
    controller = scope.subject
    if scope.operator_id:
        deployments, disclosures = _deployments(scope), _disclosures(scope)
    else:
        chain = Q(supplying_organisation=controller) | Q(supplying_organisation__parent=controller)
        deployments = (
            deployments_visible_to(scope.actor).filter(agreements__in=Agreement.objects.filter(chain)).distinct()
        )
        disclosures = disclosures_visible_to(scope.actor).filter(
            Q(recipient_organisation=controller) | Q(recipient_organisation__parent=controller)
        )
    rows = [
        [d.reference, d.site, d.purpose, d.starts_at, d.ends_at, d.get_status_display()]
        for d in deployments.order_by("starts_at")
    ]
    recipients = (
        disclosures.order_by().values_list("recipient_organisation__name").annotate(n=Count("pk")).order_by("-n")
    )
    return [
        Section(
            code="d",
            title="",
            tables=[
                Table(
                    "ropa.deployments", "Deployments", ["Deployment", "Site", "Purpose", "From", "To", "Status"], rows
                )
            ],
        ),
        Section(
            code="e",
            title="",
            tables=[
                Table(
                    "ropa.disclosures",
                    "Disclosures of confirmed alerts, by recipient",
                    ["Recipient", "Disclosures"],
                    [list(r) for r in recipients],
                )
            ],
        ),
    ]


figure_provider_register(FigureProvider(code="recognition.ropa", kind="ropa", compute=ropa_figures))


def _agreement_deployment_links(actor, agreement) -> list[tuple[str, str]]:
    from django.urls import reverse

    deployments = deployments_visible_to(actor).filter(agreements__reference=agreement.reference).distinct()
    return [
        (f"Deployment {d.reference} — {d.name}", reverse("deployment-detail", args=[d.pk]))
        for d in deployments.order_by("starts_at")
    ]


related_links_register(
    RelatedLinks(code="recognition.deployments", kind="agreement", compute=_agreement_deployment_links)
)
