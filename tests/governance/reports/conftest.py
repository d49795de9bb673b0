"""A known dataset for the reports: the King's Cross 2016 agreement (recorded retrospectively, its
seven images erased by the first sweep) and a current agreement with a live deployment whose
activity is counted by hand in each test module's docstring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.conftest import agreement_terms
from tests.recognition.deployments.conftest import People, deployment_fields, go_live, raise_alert
from tests.recognition.deployments.review_helpers import confirm


def kings_cross_2016(cast):
    """The 2016-2018 borough-level agreement and its seven images, entered as the scenario does."""
    from governance.agreements.models import AgreementStatus
    from governance.agreements.services import agreement_record_historical
    from governance.watchlist.scenario import load_kings_cross_images

    fields = agreement_terms(
        cast,
        title="King's Cross estate face recognition — Camden borough image sharing (2016-2018)",
        starts_on=date(2016, 5, 1),
        ends_on=date(2018, 3, 31),
        review_on=date(2017, 5, 1),
        max_images=7,
        permitted_custody_categories=["arrested", "charged", "cautioned", "reprimanded", "formal_warning"],
        police_reviewer_required=False,
        breach_handling="",
        termination_terms="",
        sanctions="",
    )
    agreement = agreement_record_historical(
        actor=None,
        fields=fields,
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.camden,
        approved_by_name="Camden Borough Command (local agreement)",
        reference="KX-2016-BCU",
        historical_notes="Made at borough level. The Met kept no record of use, matches or police action.",
    )
    load_kings_cross_images(agreement=agreement, supplier=cast.camden, faces_dir="/nonexistent")
    return agreement


@dataclass
class Activity:
    agreement: object
    deployment: object
    images: list
    alerts: dict
    disclosures: dict


@pytest.fixture
def people(cast) -> People:
    return People(cast)


@pytest.fixture
def activity(cast, people, active_agreement) -> Activity:
    """Under the current Camden agreement:

    images: 5 enrolled (wanted ×3, charged ×2), 1 rejected (no face, charged), 1 withdrawn 3 days ago
    and erased 1 day ago (wanted; due 24 h after withdrawal → 1 day late); 7 in all.
    deployment: one camera, go-live with the 5 enrolled images; 6,000 faces in each of two hours.
    alerts: #1 confirmed → disclosed → arrested; #2 confirmed → disclosed, outcome missing;
    #3 rejected as a false alert; #4 rejected, image too poor; #5 pending.
    """
    from governance.watchlist.models import WatchlistImage
    from governance.watchlist.services import _grant_image_access
    from recognition.deployments.services.cameras import camera_add
    from recognition.deployments.services.disclosure import alert_disclose
    from recognition.deployments.services.frames import counters_add
    from recognition.deployments.services.outcomes import disclosure_record_outcome
    from recognition.deployments.services.planning import deployment_plan
    from recognition.deployments.services.review import alert_review
    from tests.factories import WatchlistImageFactory

    wanted = [
        WatchlistImageFactory(
            agreement=active_agreement,
            supplying_organisation=cast.camden,
            custody_category="wanted",
            subject_reference=f"MET-W-{n}",
        )
        for n in range(1, 4)
    ]
    charged = [
        WatchlistImageFactory(
            agreement=active_agreement,
            supplying_organisation=cast.camden,
            custody_category="charged",
            subject_reference=f"MET-W-{n}",
        )
        for n in range(4, 6)
    ]
    WatchlistImageFactory(
        agreement=active_agreement,
        supplying_organisation=cast.camden,
        custody_category="charged",
        subject_reference="MET-W-6",
        status="rejected",
        rejection_reason="no_face",
        rejected_at=timezone.now(),
        enrolled_at=None,
    )
    now = timezone.now()
    WatchlistImageFactory(
        agreement=active_agreement,
        supplying_organisation=cast.camden,
        custody_category="wanted",
        subject_reference="MET-W-7",
        status="erased",
        enrolled_at=now - timedelta(days=5),
        withdrawn_at=now - timedelta(days=3),
        erased_at=now - timedelta(days=1),
        withdrawal_reason="Person arrested elsewhere.",
    )
    for image in wanted + charged:
        image.enrolled_at = now - timedelta(days=5)
        image.save(update_fields=["enrolled_at"])
    for image in WatchlistImage.objects.filter(agreement=active_agreement):
        _grant_image_access(image)  # what the upload service grants: the factory makes rows only

    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    camera = camera_add(
        actor=cast.estate_dpo,
        deployment=deployment,
        name="GS-1",
        location="Granary Square, north steps",
        direction="South towards the canal",
    )
    deployment = go_live(cast, deployment)
    hour = now.replace(minute=0, second=0, microsecond=0)
    counters_add(camera_id=camera.pk, at=hour - timedelta(hours=1), faces_scanned=6000)
    counters_add(camera_id=camera.pk, at=hour, faces_scanned=6000)

    images = wanted + charged
    alerts = {n: raise_alert(deployment, images[n - 1]) for n in range(1, 6)}
    for n in (1, 2):
        confirm(people.reviewer_a, alerts[n])
        confirm(people.police_reviewer, alerts[n])
    alert_review(actor=people.reviewer_a, alert=alerts[3], decision="reject", reason="false_alert")
    alert_review(actor=people.reviewer_a, alert=alerts[4], decision="reject", reason="poor_image")
    disclosures = {}
    for n in (1, 2):
        alerts[n].refresh_from_db()
        disclosures[n] = alert_disclose(
            actor=cast.estate_dpo,
            alert=alerts[n],
            recipient_organisation=cast.camden,
            recipient="LFR desk, lfr.camden@met.cjsm.net",
            channel="cjsm_email",
            justification="Subject is wanted on warrant; location and time needed to arrest.",
        )
    disclosure_record_outcome(actor=people.camden_submitter, disclosure=disclosures[1], outcome="arrested")
    return Activity(
        agreement=active_agreement, deployment=deployment, images=images, alerts=alerts, disclosures=disclosures
    )


def figures_of(report) -> dict:
    return {figure.code: figure.value for section in report.sections for figure in section.figures}


def table_of(report, code) -> list[list]:
    return next(table.rows for section in report.sections for table in section.tables if table.code == code)
