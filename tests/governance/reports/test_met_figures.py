"""The figures the Met publishes, on the known dataset (``conftest.activity``) plus one more police
outcome, counted by hand:

- alerts 5: confirmed 2 (#1, #2), false 1 (#3), too poor 1 (#4), pending 1 (#5);
- disclosures 2: #1 arrested, #2 (recorded below) not the person, ethnic group "Black";
- engagements = arrested + not the person = 2; arrests 1; engaged but not the person 1;
- false alerts among alerts = 1 of 5 = 20%; watchlist at go-live: the 5 enrolled images;
- hours deployed: went live 3 h ago, ended 30 min ago → 2.5 h.

The published (transparency) breakdown by ethnic group suppresses cells of 1 to 4 (``governance.reports.disclosure_control``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.reports.disclosure_control import SUPPRESSED, suppress_small_cells
from governance.reports.selectors import quarter_of, report_for
from governance.reports.services import transparency_report_publish
from tests.governance.reports.conftest import figures_of, table_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def engaged(cast, people, activity):
    from recognition.deployments.models import Deployment
    from recognition.deployments.services.outcomes import disclosure_record_outcome

    disclosure_record_outcome(
        actor=people.camden_submitter,
        disclosure=activity.disclosures[2],
        outcome="wrong_person",
        notes="Stopped and spoken to: not the person sought.",
        ethnic_group="black",
    )
    now = timezone.now()
    Deployment.objects.filter(pk=activity.deployment.pk).update(
        went_live_at=now - timedelta(hours=3), ended_at=now - timedelta(minutes=30)
    )
    return activity


def test_deployment_report_has_the_mets_figures(cast, engaged):
    report = report_for(cast.estate_dpo, "deployment", engaged.deployment.pk)
    figures = figures_of(report)
    assert figures["watchlist_size"] == 5
    assert figures["hours_deployed"] == 2.5
    assert figures["false_alert_rate"] == "1 in 12,000 faces scanned"
    assert figures["false_alert_share"] == "20% (1 of 5 alerts)"
    assert figures["engagements"] == 2 and figures["arrests"] == 1 and figures["police_false_alerts"] == 1
    assert table_of(report, "outcomes") == [
        ["Arrested", 1],
        ["Not the person on the watchlist", 1],
        ["Outcome not yet reported", 0],
    ]
    # Internal report: exact counts, every group listed.
    groups = dict(table_of(report, "false_alerts.ethnic_group"))
    assert groups["Black, Black British, Caribbean or African"] == 1
    assert sum(groups.values()) == 1 and groups["Not recorded"] == 0


def test_the_force_reads_the_same_police_figures_and_a_stranger_none(cast, engaged):
    from governance.errors import NotFound

    figures = figures_of(report_for(cast.met_dpo, "deployment", engaged.deployment.pk))
    assert figures["engagements"] == 2 and figures["arrests"] == 1
    with pytest.raises(NotFound):
        report_for(cast.btp_dpo, "deployment", engaged.deployment.pk)


def test_published_report_suppresses_small_cells(cast, engaged, client):
    start, end = quarter_of(timezone.now())
    published = transparency_report_publish(actor=cast.estate_dpo, operator=cast.estate, start=start, end=end)
    figures = {f["code"]: f["value"] for s in published.content for f in s["figures"]}
    assert figures["engagements"] == 2 and figures["arrests"] == 1
    assert figures["false_alert_share"] == "20% (1 of 5 alerts)"
    assert figures["hours_deployed"] == 2.5
    tables = {t["code"]: t for s in published.content for t in s["tables"]}
    (row,) = tables["deployments"]["rows"]
    assert row[4:6] == [2.5, 5] and row[11:] == [2, 1]
    outcomes = dict(tables["outcomes"]["rows"])  # events, published exactly like the arrests figure
    assert outcomes["Arrested"] == 1 and outcomes["Not the person on the watchlist"] == 1
    assert outcomes["No action taken"] == 0 and len(outcomes) == 8
    groups = dict(tables["false_alerts.ethnic_group"]["rows"])
    assert groups["Black, Black British, Caribbean or African"] == SUPPRESSED
    # Every other group is 0, but shown alike: the outcomes table's total (1) must not give it away.
    assert set(groups.values()) == {SUPPRESSED}
    page = client.get(f"/published/{published.slug}/").content.decode()
    assert "fewer than 5" in page and "Ethnic group" in page


@pytest.mark.parametrize(
    ("counts", "published"),
    [
        ([0, 3, 7, 12], [SUPPRESSED, SUPPRESSED, 7, 12]),  # the zero is hidden with the small cell
        ([3, 7, 12], [SUPPRESSED, SUPPRESSED, 12]),  # one small cell: the next smallest goes too
        ([2, 3, 9], [SUPPRESSED, SUPPRESSED, 9]),
        ([5, 0, 40], [5, 0, 40]),
        ([1], [SUPPRESSED]),
        ([0, 0], [0, 0]),
    ],
)
def test_small_cell_rule(counts, published):
    assert suppress_small_cells(counts) == published


def test_an_unknown_ethnic_group_is_refused_with_its_code(cast, people, activity):
    from governance.errors import ValidationFailed
    from recognition.deployments.services.outcomes import disclosure_record_outcome

    with pytest.raises(ValidationFailed) as refused:
        disclosure_record_outcome(
            actor=people.camden_submitter, disclosure=activity.disclosures[2], outcome="spoken_to", ethnic_group="x"
        )
    assert refused.value.code == "invalid_ethnic_group"


def test_the_published_report_names_controller_contact_legal_basis_and_categories(cast, activity, client):
    cast.estate.contact_email = "dpo@estate.example"
    cast.estate.save(update_fields=["contact_email"])
    start, end = quarter_of(timezone.now())
    published = transparency_report_publish(actor=cast.estate_dpo, operator=cast.estate, start=start, end=end)
    assert published.content[0]["code"] == "controller"
    figures = {f["code"]: f["value"] for f in published.content[0]["figures"]}
    assert figures["controller"] == cast.estate.name
    assert figures["contact"].endswith("dpo@estate.example")
    assert figures["legal_basis"] == (
        "Art. 6(1)(f) legitimate interests; Art. 9(2)(g) substantial public interest; "
        "Sch. 1 para 10: preventing or detecting unlawful acts"
    )
    assert "s.35(5) strictly necessary" in figures["police_legal_basis"]
    assert figures["watchlist_categories"] == "Wanted by police or the courts, Suspect"
    page = client.get(f"/published/{published.slug}/").content.decode()
    assert "dpo@estate.example" in page and "Who may be on a watchlist" in page
    # Phones: each cell of the deployments table carries its column's label.
    assert 'data-label="Faces scanned"' in page


def test_the_police_record_the_ethnic_group_on_the_web_form(cast, people, activity, client):
    from django.urls import reverse

    from recognition.deployments.models import Disclosure

    client.force_login(people.camden_submitter)
    page = client.get(reverse("disclosure-list")).content.decode()
    assert 'name="ethnic_group"' in page and "Mixed or multiple ethnic groups" in page
    response = client.post(
        reverse("disclosure-outcome", args=[activity.disclosures[2].pk]),
        {"outcome": "wrong_person", "notes": "", "ethnic_group": "white", "next": "list"},
    )
    assert response.status_code == 302
    assert Disclosure.objects.get(pk=activity.disclosures[2].pk).outcome_ethnic_group == "white"


def test_the_police_record_the_ethnic_group_through_the_api(cast, people, activity):
    """The same optional field as the web form, for forces that report outcomes from their own systems."""
    from rest_framework.test import APIClient

    from governance.api.tokens import api_token_issue
    from recognition.deployments.models import Disclosure

    _, secret = api_token_issue(
        actor=None, organisation=people.camden_submitter.organisation, user=people.camden_submitter
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    pk = activity.disclosures[2].pk
    refused = client.post(
        f"/api/v1/disclosures/{pk}/outcome/", {"outcome": "spoken_to", "ethnic_group": "x"}, format="json"
    )
    assert refused.status_code == 400
    answer = client.post(
        f"/api/v1/disclosures/{pk}/outcome/", {"outcome": "wrong_person", "ethnic_group": "mixed"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["outcome_ethnic_group"] == "mixed"
    assert Disclosure.objects.get(pk=pk).outcome_ethnic_group == "mixed"
