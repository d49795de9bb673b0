"""The record of processing activities (Art. 30 / s.61) on the known dataset (``conftest.activity``):
the estate (operator) received the Camden agreement (purpose "Locate wanted people on the estate.",
categories wanted and suspect), ran one deployment, and disclosed two confirmed alerts to Camden."""

from __future__ import annotations

import subprocess

import pytest
from django.utils.html import escape

from governance.errors import NotFound, PermissionRefused
from governance.reports.ropa import S61_CONTENTS, ropa_controller_for, ropa_report
from tests.governance.reports.conftest import table_of

pytestmark = pytest.mark.django_db


def notes(report, letter) -> str:
    return " ".join(next(s.notes for s in report.sections if s.code == f"s61-{letter}"))


def test_every_s61_item_is_a_section_filled_from_the_records(cast, activity):
    report = ropa_report(actor=cast.estate_dpo, controller=cast.estate)
    assert [s.code for s in report.sections] == [f"s61-{letter}" for letter, _ in S61_CONTENTS]
    assert len(report.sections) == 11
    assert report.sections[3].title == "(d) The purposes of the processing"
    assert cast.estate.name in notes(report, "a")
    assert cast.camden.name in notes(report, "b")  # the other party, a separate controller
    purposes = table_of(report, "ropa.purposes")
    assert purposes == [[activity.agreement.reference, activity.agreement.title, "Locate wanted people on the estate."]]
    (deployment,) = table_of(report, "ropa.deployments")
    assert deployment[0] == activity.deployment.reference
    assert table_of(report, "ropa.disclosures") == [[cast.camden.name, 2]]
    assert "Wanted by police or the courts, Suspect" in notes(report, "f")
    assert "Art. 6(1)(f) legitimate interests" in notes(report, "i")
    assert "s.35(5) strictly necessary" in notes(report, "i")
    rules = {row[0] for row in table_of(report, "ropa.rules")}
    assert "Alert data after the match retention period" in rules
    (terms,) = table_of(report, "ropa.terms")
    assert "Alert data 30 days" in terms[2]
    assert table_of(report, "ropa.security")[0][2] == "Encrypted at rest."


def test_a_force_reads_its_own_record_with_its_units_agreements(cast, activity):
    controller = ropa_controller_for(cast.camden_dpo)  # a unit's record is its force's
    assert controller == cast.met
    report = ropa_report(actor=cast.camden_dpo, controller=controller)
    assert [row[0] for row in table_of(report, "ropa.purposes")] == [activity.agreement.reference]
    assert [row[0] for row in table_of(report, "ropa.deployments")] == [activity.deployment.reference]
    assert table_of(report, "ropa.disclosures") == [[cast.camden.name, 2]]
    assert "Operator (UK GDPR)" not in notes(report, "i")


def test_scope_own_record_only_the_regulator_every_one(cast, activity):
    with pytest.raises(NotFound):
        ropa_controller_for(cast.met_dpo, cast.estate.pk)
    with pytest.raises(NotFound):
        ropa_controller_for(cast.met_dpo, "99999999")
    with pytest.raises(PermissionRefused):
        ropa_controller_for(cast.estate_reviewer)
    assert ropa_controller_for(cast.regulator, cast.estate.pk) == cast.estate
    assert ropa_controller_for(cast.regulator, cast.met.pk) == cast.met
    # The BTP's DPO reads a record with none of the Camden agreement in it.
    btp = ropa_report(actor=cast.btp_dpo, controller=ropa_controller_for(cast.btp_dpo))
    assert table_of(btp, "ropa.purposes") == [] and table_of(btp, "ropa.disclosures") == []


def test_page_csv_and_pdf(cast, activity, client, artifacts_dir):
    client.force_login(cast.estate_dpo)
    page = client.get("/reports/record-of-processing/")
    assert page.status_code == 200 and "(k) Where possible, a general description" in page.content.decode()
    csv = client.get("/reports/record-of-processing/?format=csv").content.decode()
    assert "Locate wanted people on the estate." in csv
    pdf = client.get("/reports/record-of-processing/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = artifacts_dir / "record-of-processing.pdf"
    path.write_bytes(pdf.content)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "(a) The name and contact details of the controller" in text and "Page 1 of" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(artifacts_dir / "record-of-processing")], check=True)
    assert client.get(f"/reports/record-of-processing/?organisation={cast.estate.pk}").status_code == 200  # own
    client.force_login(cast.met_dpo)
    assert client.get(f"/reports/record-of-processing/?organisation={cast.estate.pk}").status_code == 404
    client.force_login(cast.regulator)
    index = client.get("/reports/record-of-processing/").content.decode()
    assert escape(cast.estate.name) in index and escape(cast.met.name) in index
    assert client.get(f"/reports/record-of-processing/?organisation={cast.estate.pk}").status_code == 200


def test_the_agreement_page_links_to_its_images_report_and_deployments_where_the_viewer_may(cast, activity, client):
    url = f"/agreements/{activity.agreement.pk}/"
    client.force_login(cast.estate_dpo)
    page = client.get(url).content.decode()
    assert f"/watchlist/?agreement={activity.agreement.pk}" in page and "Watchlist images supplied under it (7)" in page
    assert f"/reports/agreement/{activity.agreement.pk}/" in page
    assert f"/deployments/{activity.deployment.pk}/" in page
    # A reviewer reads the agreement but not reports, images or (here) this page's deployment list alike.
    client.force_login(cast.estate_reviewer)
    page = client.get(url).content.decode()
    assert "/reports/agreement/" not in page and "/watchlist/?agreement=" not in page
