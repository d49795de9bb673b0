"""The DPIA pages and the PDF a DPO signs: written, reviewed, approved and compared through the web."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from django.urls import reverse

from governance.dpia import services as dpias
from governance.dpia.documents import dpia_render_pdf
from governance.dpia.models import DPIA, DPIAStatus
from tests.conftest import approved_dpia, dpia_risk, dpia_sections

pytestmark = pytest.mark.django_db


def post_action(client, dpia, action, **data):
    return client.post(reverse("dpia-action", args=[dpia.pk]), {"action": action, **data})


def test_a_dpo_writes_sends_for_review_approves_and_compares_in_the_browser_pages(client, cast, submitted_agreement):
    client.force_login(cast.estate_dpo)
    fields = dpia_sections(review_on="2099-01-01", dpo_advice_followed="yes")
    response = client.post(reverse("dpia-create"), fields)
    dpia = DPIA.objects.exclude(agreements=submitted_agreement).get()
    assert response.status_code == 302 and response["Location"] == reverse("dpia-detail", args=[dpia.pk])
    post_action(client, dpia, "agreements", agreements=[submitted_agreement.pk])
    post_action(client, dpia, "risk_add", **dpia_risk(title="Wrongful stop", likelihood=3, severity=2))
    post_action(
        client, dpia, "risk_add", **dpia_risk(title="Function creep", likelihood=1, severity=3, residual_risk="low")
    )
    page = client.get(reverse("dpia-detail", args=[dpia.pk])).content.decode()
    # The matrix: each risk placed in its likelihood × severity cell.
    assert re.search(r'data-likelihood="3" data-severity="2">\s*<span class="rm-risk" title="Wrongful stop">R1', page)
    assert re.search(r'data-likelihood="1" data-severity="3">\s*<span class="rm-risk" title="Function creep">R2', page)
    assert submitted_agreement.data_items in page  # the data, computed from the agreement
    post_action(client, dpia, "submit")
    client.force_login(cast.estate_dpo2)  # the writer cannot sign it off (Art. 35(2))
    post_action(client, dpia, "approve", capacity="Head of estate security")
    dpia.refresh_from_db()
    assert dpia.status == DPIAStatus.APPROVED and dpia.approved_by_capacity == "Head of estate security"

    post_action(client, dpia, "revise", change_summary="Risk of wrongful stops re-assessed after the pilot.")
    v2 = DPIA.objects.get(reference=dpia.reference, version=2)
    response = client.post(
        reverse("dpia-edit", args=[v2.pk]), {**fields, "scope": "Two cameras, about 6,000 people a day."}
    )
    assert response.status_code == 302
    compare = client.get(reverse("dpia-compare", args=[v2.pk])).content.decode()
    assert '<tr class="changed" data-section="scope">' in compare
    assert "<ins>" in compare and "<del>" in compare
    assert '<tr class="" data-section="purposes">' in compare
    # The alert page's side-by-side faces are a flex row (.compare): on this table it laid every cell out in one
    # row, 36,285 px tall at 390 px. The table has a class of its own.
    assert '<table class="version-compare"' in compare and 'class="compare"' not in compare


def test_other_organisations_get_404_regulators_read_and_change_nothing(client, cast, submitted_agreement):
    dpia = DPIA.objects.get(agreements=submitted_agreement)
    urls = [reverse(name, args=[dpia.pk]) for name in ("dpia-detail", "dpia-compare", "dpia-pdf", "dpia-edit")]
    client.force_login(cast.other_dpo)
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert post_action(client, dpia, "revise", change_summary="x").status_code == 404
    client.force_login(cast.regulator)
    assert client.get(urls[0]).status_code == 200
    assert client.get(urls[2])["Content-Type"] == "application/pdf"
    assert client.get(urls[3]).status_code == 403
    assert post_action(client, dpia, "revise", change_summary="x").status_code == 403
    assert DPIA.objects.filter(reference=dpia.reference).count() == 1  # nothing changed
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to sign-in


def test_the_pdf_reads_as_a_signed_document(cast, planned_deployment, artifacts_dir):
    from pypdf import PdfReader

    v1 = approved_dpia(cast, deployments=[planned_deployment], title="Granary Square live facial recognition")
    v2 = dpias.dpia_revise(actor=cast.estate_dpo, dpia=v1, change_summary="Bias monitoring made monthly.")
    dpias.dpia_risk_add(
        actor=cast.estate_dpo,
        dpia=v2,
        fields=dpia_risk(
            title="Disproportionate false alerts on Black subjects", likelihood=2, severity=3, residual_risk="high"
        ),
    )
    dpias.dpia_submit(actor=cast.estate_dpo, dpia=v2)
    dpias.dpia_record_prior_consultation(
        actor=cast.estate_dpo,
        dpia=v2,
        consulted_on=v1.approved_at.date(),
        reference="ICO-PC-77",
        outcome="Proceed with monthly bias reports.",
    )
    v2 = dpias.dpia_approve(actor=cast.estate_dpo2, dpia=v2, capacity="Controller's senior responsible owner")

    pdf = dpia_render_pdf(dpia=v2)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for heading in (
        "Contents",
        "1. Description of the processing",
        "2. Necessity and proportionality",
        "3. The data and its lifecycle",
        "4. Risks to rights and freedoms",
        "5. DPO's advice, data subjects' views, prior consultation",
        "6. Versions and sign-offs",
    ):
        assert heading in flat, heading
    assert "Misidentification" in flat and "Disproportionate false alerts on Black subjects" in flat
    assert "ICO-PC-77" in flat and planned_deployment.reference in flat
    assert "639/8,276,346" in flat and "0/70" in flat  # the live engine's (SFace) measured figures at 0.42
    assert "Approved for King's Cross Estate Operator by dpo2.estate, Controller's senior responsible owner" in flat
    assert "Bias monitoring made monthly." in flat and "Superseded" in flat  # versions and their sign-offs
    assert f"Page 1 of {len(reader.pages)}" not in flat  # the cover carries no page number
    assert f"Page 2 of {len(reader.pages)}" in flat
    (artifacts_dir / "dpia.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        for page in (1, 5):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    str(page),
                    "-l",
                    str(page),
                    "-singlefile",
                    str(artifacts_dir / "dpia.pdf"),
                    str(artifacts_dir / f"dpia-page-{page}"),
                ],
                check=True,
            )


def test_a_review_date_warns_on_the_dashboard_and_on_what_the_dpia_covers(
    client, cast, active_agreement, planned_deployment
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    dpia = approved_dpia(cast, deployments=[planned_deployment], review_on=timezone.localdate() + timedelta(days=45))
    client.force_login(cast.estate_dpo)
    deployment_page = reverse("deployment-detail", args=[planned_deployment.pk])
    assert "dpia-warning" not in client.get(reverse("dashboard")).content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        client.force_login(cast.estate_dpo)  # sessions expire; sign in again at the later date
        dashboard = client.get(reverse("dashboard")).content.decode()
        assert f"{dpia.reference} v1 is due for review on" in dashboard
        assert f"{dpia.reference} v1 is due for review on" in client.get(deployment_page).content.decode()
    covering_agreement = DPIA.objects.get(agreements=active_agreement)
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        client.force_login(cast.estate_dpo)
        page = client.get(reverse("agreement-detail", args=[active_agreement.pk])).content.decode()
        assert f"{covering_agreement.reference} v1 was due for review on" in page
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        client.force_login(cast.other_dpo)  # another organisation's DPIAs raise no warning on its dashboard
        assert dpia.reference not in client.get(reverse("dashboard")).content.decode()
