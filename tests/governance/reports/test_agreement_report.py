"""The agreement report on the known dataset (``conftest.activity`` and King's Cross 2016)."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
from django.utils import timezone

from governance.errors import NotFound, PermissionRefused
from governance.reports.figures import duration_words
from governance.reports.selectors import report_for
from governance.retention.services import retention_sweep
from governance.watchlist.models import WatchlistImage
from tests.governance.reports.conftest import figures_of, kings_cross_2016, table_of

pytestmark = pytest.mark.django_db


def test_current_agreement_figures_match_the_hand_count(cast, activity):
    report = report_for(cast.estate_dpo, "agreement", activity.agreement.pk)
    figures = figures_of(report)
    assert figures["images.shared"] == 7
    assert figures["images.enrolled"] == 6  # five held + the withdrawn one, enrolled before withdrawal
    assert figures["images.rejected"] == 1
    assert figures["images.withdrawn"] == 1
    assert figures["images.erased"] == 1
    assert figures["images.held"] == 6  # five enrolled + the rejected one (it counts against the cap)
    assert table_of(report, "images.by_category") == [["Charged", 3], ["Wanted by police or the courts", 4]]
    assert table_of(report, "images.by_supplier") == [["Met Camden BCU", 7]]
    assert table_of(report, "images.rejections") == [["No face found", 1]]
    assert figures["deployments"] == 1
    assert figures["faces_scanned"] == 12000
    assert figures["alerts"] == 5
    assert figures["confirmations"] == 2
    assert figures["rejections"] == 2
    assert table_of(report, "alerts.rejections") == [["False alert", 1], ["Image too poor to judge", 1]]
    assert figures["disclosures"] == 2
    assert figures["outcomes_missing"] == 1
    assert table_of(report, "outcomes") == [["Arrested", 1], ["Outcome not yet reported", 1]]
    # The withdrawn image: due 24 hours after withdrawal, erased a day after that.
    assert figures["erasures.on_time"] == 0 and figures["erasures.late"] == 1 and figures["erasures.overdue"] == 0
    (row,) = table_of(report, "erasures")
    assert row[0] == "MET-W-7" and row[3] == "Late" and row[4] == "1 day"
    assert "retention sweep" in row[5]
    assert figures["holds.total"] == 0


def test_kings_cross_2016_shows_what_is_known_and_what_was_never_recorded(cast, client, artifacts_dir):
    agreement = kings_cross_2016(cast)
    retention_sweep()  # the demo's first sweep, years after the terms required
    assert WatchlistImage.objects.filter(agreement=agreement, status="erased").count() == 7
    report = report_for(cast.estate_dpo, "agreement", agreement.pk)
    figures = figures_of(report)
    assert figures["images.shared"] == 7
    assert table_of(report, "images.by_category") == [
        ["Cautioned", 2],
        ["Charged", 3],
        ["Given a formal warning", 1],
        ["Reprimanded", 1],
    ]
    assert table_of(report, "images.by_supplier") == [["Met Camden BCU", 7]]
    for code in (
        "images.enrolled",
        "images.withdrawn",
        "deployments",
        "faces_scanned",
        "alerts",
        "confirmations",
        "disclosures",
        "outcomes_missing",
    ):
        assert figures[code] is None, code  # never recorded — not zero
    assert figures["agreement.regulator_notified_on"] is None
    # Terms: erase within 24 hours of the end (31 March 2018) → due 2 April 2018 00:00 London time.
    due = timezone.make_aware(datetime(2018, 4, 2, 0, 0))
    assert figures["erasures.late"] == 7 and figures["erasures.on_time"] == 0
    assert figures["erasures.on_time_share"] == "0%"
    rows = table_of(report, "erasures")
    assert len(rows) == 7
    for row in rows:
        image = WatchlistImage.objects.get(subject_reference=row[0], agreement=agreement)
        assert row[1] == due and row[2] == image.erased_at and row[3] == "Late"
        assert row[4] == duration_words(image.erased_at - due) and "year" in row[4]
        assert "retrospectively" in row[5]
    notes = " ".join(note for section in report.sections for note in section.notes)
    assert "Recorded retrospectively" in notes and "Never recorded" in notes
    client.force_login(cast.estate_dpo)
    page = client.get(f"/reports/agreement/{agreement.pk}/").content.decode()
    assert "Never recorded" in page and "retrospectively" in page
    pdf = client.get(f"/reports/agreement/{agreement.pk}/?format=pdf")
    (artifacts_dir / "agreement-report-kx2016.pdf").write_bytes(pdf.content)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            str(artifacts_dir / "agreement-report-kx2016.pdf"),
            str(artifacts_dir / "agreement-report-kx2016"),
        ],
        check=True,
    )


def test_scope_another_organisation_gets_not_found_and_the_regulator_reads_all(cast, activity, client):
    with pytest.raises(NotFound):
        report_for(cast.other_dpo, "agreement", activity.agreement.pk)
    with pytest.raises(NotFound):
        report_for(cast.btp_dpo, "agreement", activity.agreement.pk)
    with pytest.raises(PermissionRefused):
        report_for(cast.estate_reviewer, "agreement", activity.agreement.pk)
    assert figures_of(report_for(cast.regulator, "agreement", activity.agreement.pk)) == figures_of(
        report_for(cast.estate_dpo, "agreement", activity.agreement.pk)
    )
    url = f"/reports/agreement/{activity.agreement.pk}/"
    assert client.get(url).status_code == 302  # anonymous: sign in
    client.force_login(cast.other_dpo)
    assert client.get(url).status_code == 404
    assert client.get(f"/reports/deployment/{activity.deployment.pk}/").status_code == 404
    client.force_login(cast.estate_reviewer)
    assert client.get(url).status_code == 403
    client.force_login(cast.regulator)
    assert client.get(url).status_code == 200
    assert client.get(url + "?format=csv").status_code == 200


def test_legal_holds_are_counted_and_every_table_is_in_the_csv(cast, activity, client):
    from governance.retention.services import legal_hold_place

    held = activity.images[0]
    legal_hold_place(actor=cast.estate_dpo, target=f"watchlist_image:{held.pk}", reason="Needed for a prosecution")
    report = report_for(cast.estate_dpo, "agreement", activity.agreement.pk)
    figures = figures_of(report)
    assert figures["holds.total"] == 1 and figures["holds.in_force"] == 1
    assert table_of(report, "holds")[0][4] == "Needed for a prosecution"
    client.force_login(cast.estate_dpo)
    csv = client.get(f"/reports/agreement/{activity.agreement.pk}/?format=csv").content.decode()
    for section in report.sections:
        for table in section.tables:
            assert table.title in csv
    assert "Images shared,7" in csv
