"""The deployment and transparency reports on the known dataset (``conftest.activity``)."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.reports.models import PublishedReport
from governance.reports.selectors import quarter_of, report_for
from governance.reports.services import transparency_report_publish, transparency_reports_publish_quarterly
from tests.governance.reports.conftest import figures_of, table_of

pytestmark = pytest.mark.django_db


def test_deployment_figures_match_the_hand_count(cast, activity):
    report = report_for(cast.estate_dpo, "deployment", activity.deployment.pk)
    figures = figures_of(report)
    assert figures["cameras"] == 1
    assert figures["threshold"] == f"{activity.deployment.match_threshold:.2f}"
    assert figures["faces_scanned"] == 12000
    assert figures["alerts"] == 5
    assert figures["confirmed"] == 2
    assert figures["false_alerts"] == 1
    assert figures["unjudged"] == 1
    assert figures["pending"] == 1
    assert figures["false_alert_rate"] == "1 in 12,000 faces scanned"
    assert figures["true_alert_rate"] == "67% (2 of 3)"
    assert figures["disclosures"] == 2 and figures["outcomes_missing"] == 1
    assert table_of(report, "outcomes") == [["Arrested", 1], ["Outcome not yet reported", 1]]
    (review,) = table_of(report, "watchlist_reviews")
    assert review[2] == 5 and review[3] is not None  # five enrolled images at go-live
    assert [row[1:] for row in table_of(report, "faces_per_hour")] == [[6000, 0], [6000, 0]]
    assert table_of(report, "cameras")[0][3] == 12000
    assert {chart.code for section in report.sections for chart in section.charts} == {
        "faces.per_hour",
        "alerts.over_time",
        "outcomes",
    }
    outcomes = next(c for s in report.sections for c in s.charts if c.code == "outcomes")
    assert outcomes.labels == ["Arrested", "Outcome not yet reported"] and outcomes.series == {"Disclosures": [1, 1]}


def test_a_police_force_reads_only_the_alerts_on_images_its_supply_chain_supplied(cast, activity):
    # Camden supplied every matched image: the Met (its force) sees the same counts; BTP is no party.
    assert figures_of(report_for(cast.met_dpo, "deployment", activity.deployment.pk))["alerts"] == 5
    from governance.errors import NotFound

    with pytest.raises(NotFound):
        report_for(cast.btp_dpo, "deployment", activity.deployment.pk)


PERSONAL = [
    "MET-W-",
    "reviewer.estate",
    "reviewer2.estate",
    "reviewer.camden",
    "dpo.estate",
    "api.camden",
    "Subject is wanted",
    "lfr.camden@met.cjsm.net",
    "CUST/",
    "A. Example",
    "image/jpeg",
    "/9j/",
]


def test_transparency_report_is_published_at_a_public_address_with_no_personal_data(
    cast, activity, client, artifacts_dir
):
    start, end = quarter_of(timezone.now())
    published = transparency_report_publish(actor=cast.estate_dpo, operator=cast.estate, start=start, end=end)
    assert transparency_report_publish(actor=cast.estate_dpo, operator=cast.estate, start=start, end=end) == published
    figures = {f["code"]: f["value"] for s in published.content if s["code"] == "transparency" for f in s["figures"]}
    assert figures == {
        "deployments": 1,
        "faces_scanned": 12000,
        "alerts": 5,
        "confirmed": 2,
        "false_alerts": 1,
        "false_alert_rate": "1 in 12,000 faces scanned",
        "false_alert_share": "20% (1 of 5 alerts)",
        "hours_deployed": figures["hours_deployed"],  # went live during the test: a few seconds
        "engagements": 1,
        "arrests": 1,
    }
    assert figures["hours_deployed"] < 0.1
    assert len(published.slug) >= 20

    url = f"/published/{published.slug}/"
    page = client.get(url)  # no sign-in
    assert page.status_code == 200
    pdf = client.get(url + "?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    csv = client.get(url + "?format=csv")
    assert csv.status_code == 200
    pdf_path = artifacts_dir / "transparency-report.pdf"
    pdf_path.write_bytes(pdf.content)
    pdf_text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    pdf_text = " ".join(pdf_text.split())
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf_path),
            str(artifacts_dir / "transparency-report"),
        ],
        check=True,
    )
    html, text = page.content.decode(), csv.content.decode()
    assert "12000" in text and "1 in 12,000 faces scanned" in pdf_text and "Arrests" in html
    for document in (html, pdf_text, text, str(published.content)):
        for marker in PERSONAL:
            assert marker not in document, marker
    assert client.get("/published/not-a-real-slug/").status_code == 404


def test_only_the_operator_dpo_publishes(cast, activity, client):
    from governance.errors import PermissionRefused

    start, end = quarter_of(timezone.now())
    for actor in (cast.met_dpo, cast.regulator, cast.estate_reviewer):
        with pytest.raises(PermissionRefused):
            transparency_report_publish(actor=actor, operator=cast.estate, start=start, end=end)
    client.force_login(cast.estate_dpo)
    response = client.post("/reports/transparency/publish/")
    assert response.status_code == 302
    assert PublishedReport.objects.get().organisation == cast.estate


def test_the_quarterly_job_publishes_last_quarter_once_for_operators_that_ran_deployments(cast, activity):
    _, end = quarter_of(timezone.now())
    assert transparency_reports_publish_quarterly(at=end + timedelta(days=1)) == 1
    assert transparency_reports_publish_quarterly(at=end + timedelta(days=1)) == 0  # rerun: nothing twice
    published = PublishedReport.objects.get()
    assert published.organisation == cast.estate and published.published_by_name == "scheduled job"
    from django.conf import settings

    assert (
        settings.CELERY_BEAT_SCHEDULE["reports-transparency-quarterly"]["task"]
        == "governance.reports.tasks.transparency_reports_quarterly"
    )


def test_report_page_pdf_and_chart_render(cast, activity, client, artifacts_dir):
    """Pictures to look at: the deployment report page's PDF and one chart."""
    from governance.pdf import render_pdf
    from governance.reports.charts import chart_data_uri, chart_svg

    client.force_login(cast.estate_dpo)
    url = f"/reports/deployment/{activity.deployment.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "1 in 12,000 faces scanned" in page.content.decode()
    assert "data:image/svg+xml;base64," in page.content.decode()
    pdf = client.get(url + "?format=pdf")
    (artifacts_dir / "deployment-report.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            str(artifacts_dir / "deployment-report.pdf"),
            str(artifacts_dir / "deployment-report"),
        ],
        check=True,
    )
    report = report_for(cast.estate_dpo, "deployment", activity.deployment.pk)
    chart = next(c for s in report.sections for c in s.charts if c.code == "faces.per_hour")
    svg = chart_svg(chart)
    (artifacts_dir / "chart-faces-per-hour.svg").write_text(svg)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # The chart exactly as the PDF embeds it, rasterised for the eye.
    chart_pdf = artifacts_dir / "chart-faces-per-hour.pdf"
    chart_pdf.write_bytes(render_pdf(f'<img style="width:100%" src="{chart_data_uri(chart)}">'))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(chart_pdf), str(artifacts_dir / "chart-faces-per-hour")],
        check=True,
    )
    csv = client.get(url + "?format=csv").content.decode()
    assert "Faces scanned per hour" in csv and "Watchlist reviews and go-lives" in csv


def test_the_regulator_reaches_each_operators_preview_and_its_downloads_name_the_operator(cast, client):
    """The regulator's home links the preview with no operator: it is sent to the reports page, which lists
    them; an operator's preview offers PDF and CSV of that operator (found walking the demo: both were 404)."""
    client.force_login(cast.regulator)
    assert client.get("/reports/transparency/")["Location"] == "/reports/"
    page = client.get(f"/reports/transparency/?organisation={cast.estate.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    for fmt in ("pdf", "csv"):
        link = f"/reports/transparency/?organisation={cast.estate.pk}&amp;format={fmt}"
        assert link in body
        assert client.get(link.replace("&amp;", "&")).status_code == 200
