"""The King's Cross scenario loads through the services into a product a newcomer can use at once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance.agreements.models import Agreement, AgreementStatus
from governance.agreements.rules import agreement_rule_breaches
from governance.audit.services import audit_chain_verify

pytestmark = [pytest.mark.faces, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_scenario_has_the_register_a_live_deployment_and_an_intact_audit_trail(settings, faces_dir):
    from governance.watchlist.models import ImageStatus, WatchlistImage
    from recognition.deployments.models import Deployment, DeploymentStatus

    settings.FACES_DIR = faces_dir
    out = io.StringIO()
    call_command("load_scenario", stdout=out)
    historical = Agreement.objects.get(reference="KX-2016-BCU")
    assert {b.code for b in agreement_rule_breaches(historical)} >= {"local_level_approval", "regulator_not_notified"}
    current = Agreement.objects.get(status=AgreementStatus.ACTIVE)
    assert agreement_rule_breaches(current) == []
    assert WatchlistImage.objects.filter(agreement=current, status=ImageStatus.ENROLLED).count() == 3
    deployment = Deployment.objects.get()
    assert deployment.status == DeploymentStatus.LIVE and deployment.cameras.count() == 1
    assert f"Deployment {deployment.reference} is live" in out.getvalue()
    # Authorised by the Met's Authorising Officer, an account with a rank (APP on LFR), before it went live.
    [authorised] = deployment.authorisations.all()
    assert authorised.is_current and authorised.officer.username == "ao.met"
    assert f"{authorised.officer_rank} {authorised.officer_name}" == "Superintendent R. Baines"
    assert authorised.decided_at <= deployment.went_live_at
    # Camden (not the estate) composed the Granary Square watchlist and reviewed it for the Met.
    entries = deployment.watchlist_entries.filter(removed_at__isnull=True)
    assert entries.count() == 3 and {e.added_by.username for e in entries} == {"dpo.camden"}
    review = deployment.watchlist_reviews.get()
    assert review.reviewed_by.username == "dpo.camden" and review.force.short_name == "met"
    assert audit_chain_verify().ok
    # Every organisation has a public contact e-mail: the transparency page's contact point names it.
    from governance.organisations.models import Organisation
    from governance.reports.controller import contact_point

    assert all(o.contact_email for o in Organisation.objects.all())
    estate = Organisation.objects.get(short_name="kx-estate")
    assert contact_point(estate).endswith(": privacy@kingscross-estate.example")
    # DPIAs (governance.dpia): the 2016 agreement had none; the current one and the live deployment do.
    from governance.dpia.models import DPIA, DPIAStatus
    from governance.dpia.rules import prior_consultation_required

    assert "dpia_missing" in {b.code for b in agreement_rule_breaches(historical)}
    covering = DPIA.objects.get(status=DPIAStatus.APPROVED)
    assert covering.version == 2 and covering.deployments.get().deployment_id == deployment.pk
    assert covering.agreements.get() == current and covering.previous_version.status == DPIAStatus.SUPERSEDED
    # The law rules (issue 21): the 2016 record keeps its custody categories as a broken rule; the Met agreement
    # uses APP categories, records the operator's own basis, and each document was approved by another person.
    assert "custody_categories_not_app" in {b.code for b in agreement_rule_breaches(historical)}
    assert set(current.permitted_custody_categories) <= {"wanted", "suspect", "missing", "vulnerable", "risk_of_harm"}
    assert current.operator_article6_basis and current.operator_schedule1_condition and current.regulator
    assert covering.approved_by.username == "dpo2.estate" and covering.dpo_advice_by.username == "dpo.estate"
    from governance.dpia.models import PolicyDocument

    assert {(p.drafted_by.username, p.approved_by.username) for p in PolicyDocument.objects.all()} == {
        ("dpo.met", "dpo2.met"),
        ("dpo.estate", "dpo2.estate"),
    }
    waiting = DPIA.objects.get(status=DPIAStatus.DRAFT)
    assert prior_consultation_required(waiting) and not waiting.consultation_recorded
    # Demo facts that must hold together (issue 25). No current watchlist image repeats a 2016 one byte for byte.
    old_digests = set(WatchlistImage.objects.filter(agreement=historical).values_list("sha256", flat=True))
    new_digests = set(WatchlistImage.objects.filter(agreement=current).values_list("sha256", flat=True))
    assert len(old_digests) == 7 and len(new_digests) == 3 and not old_digests & new_digests
    # No agreement is notified to the regulator before it was drafted.
    for agreement in Agreement.objects.filter(recorded_retrospectively=False):
        assert agreement.regulator_notified_on >= timezone.localtime(agreement.created_at).date()
    # The 2016 record cites the law of its time and lacks today's safeguards; the current one cites DPA 2018.
    from django.test import Client
    from django.urls import reverse

    from governance.organisations.models import User

    client = Client()
    client.force_login(User.objects.get(username="dpo.estate"))
    old_page = client.get(reverse("agreement-detail", args=[historical.pk])).content.decode()
    assert "Data Protection Act 1998" in old_page and 'id="no-modern-safeguards"' in old_page
    for modern in ("s.35(5) strictly necessary", "UK GDPR", "non-match data deleted immediately", "DPA 2018 s.35"):
        assert modern not in old_page.split('id="approval-checklist"')[0].split("Parties and terms")[1]
    current_page = client.get(reverse("agreement-detail", args=[current.pk])).content.decode()
    assert "s.35(5) strictly necessary" in current_page and "non-match data deleted immediately" in current_page
    # The Authorising Officer's rank is said once, wherever the authorisation is shown.
    page = client.get(reverse("deployment-detail", args=[deployment.pk])).content.decode()
    assert "Superintendent R. Baines" in page and "Superintendent Supt" not in page and "Supt. " not in page
    # The DPO's commentary on all twelve principles is in the regulator's pack.
    from governance.reports.pack import regulator_pack

    pack = regulator_pack(User.objects.get(username="regulator"))
    [assessment] = [s for s in pack.sections if s.code == "principles"]
    [table] = assessment.tables
    assert len(table.rows) == 12 and not any("No commentary yet." in str(row) for row in table.rows)
    call_command("load_scenario", stdout=out)  # idempotent
    assert "already loaded" in out.getvalue()


def test_the_scenario_waits_for_enrolment_before_the_watchlist_review(cast, active_agreement, monkeypatch):
    """With real workers, enrolment happens elsewhere: the scenario must not review (and go live on)
    a watchlist of images still being enrolled (issue 14: it reviewed 0 images)."""
    from config.celery import app
    from governance.management.commands.load_scenario import Command
    from governance.watchlist.models import ImageStatus
    from tests.factories import WatchlistImageFactory

    command = Command()
    assert command._enrolment_finished()
    monkeypatch.setattr(app.conf, "task_always_eager", False)  # as with real workers
    image = WatchlistImageFactory(
        agreement=active_agreement, supplying_organisation=cast.camden, status=ImageStatus.RECEIVED
    )
    monkeypatch.setattr(Command, "ENROLMENT_WAIT_SECONDS", 0)
    assert not command._enrolment_finished()
    image.status = ImageStatus.ENROLLED
    image.save(update_fields=["status"])
    assert command._enrolment_finished()
