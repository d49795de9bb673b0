"""Each role's home shows what that role must act on, scoped like every list (issue 16): the
reviewer's alerts waiting (and the count beside "Review queue"), the police's disclosures awaiting
their outcome, the operator DPO's confirmed alerts to disclose — and nothing of another supplier's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.organisations.roles import Role
from governance.organisations.services import user_create
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.outcomes import disclosure_record_outcome
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert
from tests.recognition.deployments.review_helpers import confirm

pytestmark = pytest.mark.django_db


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_reviewer_lands_on_the_alerts_waiting_for_them_and_the_count_follows_their_decisions(
    client, cast, people, live_deployment, active_agreement
):
    alerts = [
        raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden, subject=f"KX-SUBJ-00{n}"))
        for n in (41, 42)
    ]
    page = home(client, people.reviewer_a)
    assert 'id="panel-alerts-waiting"' in page
    assert all(f"Alert #{a.pk}" in page for a in alerts)
    assert 'id="review-count">2<' in page
    confirm(people.reviewer_a, alerts[0])
    page = home(client, people.reviewer_a)
    assert f"Alert #{alerts[0].pk}" not in page and f"Alert #{alerts[1].pk}" in page
    assert 'id="review-count">1<' in page
    # The other reviewer has decided nothing: both still wait for them.
    assert 'id="review-count">2<' in home(client, people.reviewer_b)
    # The police reviewer of the supplying unit sees them; one of another force sees none.
    assert 'id="review-count">2<' in home(client, people.police_reviewer)
    btp_reviewer = user_create(
        actor=None, username="reviewer.btp", organisation=cast.btp, roles=[Role.POLICE_REVIEWER], password=cast.password
    )
    page = home(client, btp_reviewer)
    assert "review-count" not in page and "KX-SUBJ-0041" not in page
    assert "No alert is waiting for your decision." in page


def test_the_police_see_disclosures_awaiting_their_outcome_and_the_operator_what_to_disclose(
    client, cast, people, live_deployment, active_agreement
):
    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0077"))
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert)
    page = home(client, cast.estate_dpo)
    assert 'id="panel-alerts-to-disclose"' in page and f"Alert #{alert.pk}" in page
    alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant.",
    )
    assert "No confirmed alert is waiting to be disclosed." in home(client, cast.estate_dpo)
    page = home(client, people.camden_submitter)
    assert 'id="panel-disclosures-awaiting-outcome"' in page and "KX-SUBJ-0077" in page
    assert 'id="panel-our-images"' in page
    # The Met (Camden's force) sees it too; BTP, another supplier of the same deployment, does not.
    assert "KX-SUBJ-0077" in home(client, cast.met_dpo)
    assert "KX-SUBJ-0077" not in home(client, people.btp_submitter)
    disclosure = alert.disclosures.get()
    disclosure_record_outcome(
        actor=people.camden_submitter, disclosure=disclosure, outcome="arrested", notes="Dealt with on the warrant."
    )
    assert "Every disclosure to you has its outcome." in home(client, people.camden_submitter)


def test_the_regulator_home_is_the_registers_and_what_was_notified(client, cast, submitted_agreement):
    page = home(client, cast.regulator)
    for panel in ("registers", "notifications", "reports"):
        assert f'id="panel-{panel}"' in page
    assert 'id="panel-alerts-waiting"' not in page and 'id="panel-agreements-awaiting"' not in page


def test_a_dpo_sees_the_agreements_waiting_for_their_signature_or_approval(client, cast, submitted_agreement):
    """The fixture's agreement is countersigned and submitted: it waits for the Met (the supplying
    force), not for the operator, nor for Camden (a unit cannot approve), nor for BTP."""
    met = home(client, cast.met_dpo)
    assert "approve (force level)" in met and submitted_agreement.reference in met
    for dpo in (cast.estate_dpo, cast.camden_dpo, cast.btp_dpo):
        assert "No agreement is waiting for your countersignature or approval." in home(client, dpo)


def test_the_homes_never_import_recognition():
    """Governance's homes, audit words and web views get recognition's panels and words through
    registries (``governance.home.registry``, ``governance.audit.describe``), never by import."""
    import ast
    from pathlib import Path

    from django.conf import settings

    governance = Path(settings.BASE_DIR, "governance")
    paths = [
        *(governance / "home").rglob("*.py"),
        *(governance / "web").rglob("*.py"),
        governance / "audit" / "describe.py",
    ]
    paths += [governance / "context_processors.py", *(governance / "templatetags").rglob("*.py")]
    for path in paths:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "recognition" or n.startswith("recognition.") for n in names), path
    for folder in ("governance", "home"):
        for path in Path(settings.BASE_DIR, "templates", folder).rglob("*.html"):
            assert "deployments_panels" not in path.read_text(), path


def test_the_polices_images_count_the_historical_record_apart_from_what_awaits_enrolment(
    client, cast, people, active_agreement, faces_dir
):
    """Images entered after the fact from the historical register were never sent for enrolment: the police home
    never counts them as awaiting it."""
    from datetime import timedelta

    from django.utils import timezone

    from governance.watchlist.services import Provenance, watchlist_image_record_historical, watchlist_image_upload

    def provenance(subject: str) -> Provenance:
        return Provenance(
            subject_reference=subject,
            custody_category="wanted",
            custody_reference="CUST/9/2",
            image_taken_on=timezone.localdate() - timedelta(days=20),
        )

    for n in range(2):
        watchlist_image_record_historical(
            actor=cast.met_dpo,
            agreement=active_agreement,
            supplying_organisation=cast.camden,
            provenance=provenance(f"KX-HIST-00{n}"),
            note_without_bytes="Shared by email in 2017; the file was not kept.",
        )
    # Uploaded: its enrolment waits for the transaction to commit, which this test's never does.
    watchlist_image_upload(
        actor=people.camden_submitter,
        agreement_id=active_agreement.pk,
        image_bytes=(faces_dir / "dev" / "Kofi_Annan" / "Kofi_Annan_0001.jpg").read_bytes(),
        provenance=provenance("KX-SUBJ-0090"),
    )
    page = home(client, people.camden_submitter)
    assert "Received (awaiting enrolment): <strong>1</strong>" in page
    assert "Historical record (never enrolled): <strong>2</strong>" in page
