"""The regulator pack on the known dataset plus King's Cross 2016, with the DPO's commentary."""

from __future__ import annotations

import subprocess

import pytest
from django.utils import timezone

from governance.errors import PermissionRefused
from governance.reports.pack import principle_commentary_set, regulator_pack
from governance.reports.selectors import quarter_of
from governance.reports.services import transparency_report_publish
from governance.retention.services import retention_sweep
from tests.governance.reports.conftest import figures_of, kings_cross_2016, table_of

pytestmark = pytest.mark.django_db


def principles(report) -> dict[int, list]:
    return {row[0]: row for row in table_of(report, "principles")}


def test_the_pack_fills_the_principles_from_the_records(cast, activity, client, artifacts_dir):
    kings_cross_2016(cast)
    retention_sweep()
    start, end = quarter_of(timezone.now())
    published = transparency_report_publish(actor=cast.estate_dpo, operator=cast.estate, start=start, end=end)
    principle_commentary_set(
        actor=cast.estate_dpo,
        principle=6,
        text="The 2016 images were erased only when entered; the sweep now runs every 15 minutes.",
    )

    report = regulator_pack(cast.regulator)
    figures = figures_of(report)
    assert figures["agreements"] == 2 and figures["agreements.unnotified"] == 1
    register = {row[0]: row for row in table_of(report, "register")}
    assert register["KX-2016-BCU"][8] == "Never notified"
    assert "Approved at local level" in register["KX-2016-BCU"][11]
    # DPIA status per agreement, and principle 2 filled from the DPIA records.
    (current,) = [row for ref, row in register.items() if ref != "KX-2016-BCU"]
    assert current[10] == "Approved and in date"
    assert register["KX-2016-BCU"][10] != "Approved and in date"
    assert figures["deployments"] == 1
    (deployment,) = table_of(report, "deployments")
    assert deployment[9:] == [12000, 5, 1]
    rows = principles(report)
    assert len(rows) == 12
    # Principle 6: 8 erasures (7 King's Cross, 1 withdrawn image), none on time.
    assert "0 of 8 (0%)" in rows[6][2]
    assert "King's Cross Estate Operator: The 2016 images" in rows[6][3]
    assert f"{published.published_at:%d %b %Y}" in rows[10][2]
    assert "Watchlist reviews used for a go-live: 1" in rows[12][2]
    assert "Watchlist images held: 5" in rows[12][2]
    assert "67% (2 of 3)" in rows[11][2] and "arrests reported: 1" in rows[11][2]
    assert "1 of 2 (50%)" in rows[3][2]  # agreements notified to the regulator
    assert "covered by an approved, in-date DPIA: 1 of 1 (100%)" in rows[2][2]

    client.force_login(cast.regulator)
    assert client.get("/reports/regulator-pack/").status_code == 200
    pdf = client.get("/reports/regulator-pack/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (artifacts_dir / "regulator-pack.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            str(artifacts_dir / "regulator-pack.pdf"),
            str(artifacts_dir / "regulator-pack"),
        ],
        check=True,
    )


def test_scope_a_dpo_sees_only_its_own_records_and_reviewers_none(cast, activity):
    kings_cross_2016(cast)
    other = regulator_pack(cast.other_dpo)
    assert figures_of(other)["agreements"] == 0 and figures_of(other)["deployments"] == 0
    assert figures_of(regulator_pack(cast.estate_dpo))["agreements"] == 2
    with pytest.raises(PermissionRefused):
        regulator_pack(cast.estate_reviewer)
    with pytest.raises(PermissionRefused):
        principle_commentary_set(actor=cast.regulator, principle=1, text="Not theirs to write.")
    principle_commentary_set(actor=cast.other_dpo, principle=1, text="Other Mall's view.")
    assert principles(regulator_pack(cast.estate_dpo))[1][3] == "No commentary yet."
