"""Counts follow the viewer (issue 26): on a deployment shared by two forces, BTP's DPO and reviewer
saw "4 alerts" and "5 enrolled images" (the Met's included) while the list showed their 2, and the
deployment report's hourly counts included the other force's alerts."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.reports.registry import ReportScope
from recognition.deployments.models import FaceScanCounter
from recognition.deployments.report_figures import deployment_figures
from tests.recognition.deployments.test_supply_scope import btp_agreement, two  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(two):  # noqa: F811
    """The door's counters as the worker writes them: both alerts raised this hour."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    camera = two.deployment.cameras.first()
    FaceScanCounter.objects.update_or_create(
        camera=camera, hour=hour, defaults={"faces_scanned": 100, "alerts_raised": 2}
    )
    return two


def _page(user, deployment) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("deployment-detail", args=[deployment.pk]))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_supplying_force_counts_its_own_alerts_and_images_on_the_deployment_page(cast, counted):
    for user in (cast.btp_dpo, counted.btp_reviewer):
        page = _page(user, counted.deployment)
        assert "1 alert" in page and "2 alerts" not in page
        assert "1 matchable image on the watchlist" in page
    operator = _page(cast.estate_dpo, counted.deployment)
    assert "2 alerts" in operator and "2 matchable images on the watchlist" in operator


def _hourly_alerts(user, deployment) -> int:
    sections = deployment_figures(ReportScope(actor=user, subject=deployment))
    tables = [t for s in sections for t in s.tables if t.code == "faces_per_hour"]
    return sum(row[2] for row in tables[0].rows)


def test_the_deployment_reports_hourly_alerts_follow_the_viewer(cast, counted):
    assert _hourly_alerts(cast.estate_dpo, counted.deployment) == 2
    assert _hourly_alerts(cast.btp_dpo, counted.deployment) == 1
