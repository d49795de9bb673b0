"""Shared test fixtures.

Services a test needs (PostgreSQL, a Redis broker, the shared face set, Chromium) may be absent on
a developer's machine: the test then skips with the reason. Under CI (``CI=true``) a missing
service is a failure, never a skip.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

UNDER_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail under CI, when a service a test needs is missing."""
    if condition:
        return
    if UNDER_CI:
        pytest.fail(f"Required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    if UNDER_CI:
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            raise pytest.UsageError("CI=true but DATABASE_URL does not point at PostgreSQL.")
        if not settings.CELERY_BROKER_URL:
            raise pytest.UsageError("CI=true but CELERY_BROKER_URL is not set.")


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Tests run tasks in-process unless marked ``broker`` (then a real worker takes them)."""
    from config.celery import app

    eager = "broker" not in request.keywords
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def faces_dir() -> Path:
    path = Path(settings.FACES_DIR)
    require((path / "dev").is_dir(), f"the shared face set is not at {path} (set OVERSIGHT_FACES_DIR)")
    return path


@pytest.fixture
def postgres():
    require(
        settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        "needs PostgreSQL: set DATABASE_URL=postgres://...",
    )


@pytest.fixture
def broker_url() -> str:
    require(bool(settings.CELERY_BROKER_URL), "needs a Redis broker: set CELERY_BROKER_URL=redis://...")
    return settings.CELERY_BROKER_URL


# --- the cast ---------------------------------------------------------------------------------------


class Cast:
    """Organisations and users of the King's Cross story, created through the services."""

    def __init__(self):
        from governance.organisations.models import OrganisationKind
        from governance.organisations.roles import Role
        from governance.organisations.services import organisation_create, user_create

        self.met = organisation_create(
            actor=None, name="Metropolitan Police Service", short_name="met", kind=OrganisationKind.POLICE_FORCE
        )
        self.camden = organisation_create(
            actor=None,
            name="Met Camden BCU",
            short_name="met-camden",
            kind=OrganisationKind.POLICE_UNIT,
            parent=self.met,
        )
        self.btp = organisation_create(
            actor=None, name="British Transport Police", short_name="btp", kind=OrganisationKind.POLICE_FORCE
        )
        self.estate = organisation_create(
            actor=None, name="King's Cross Estate Operator", short_name="kx-estate", kind=OrganisationKind.OPERATOR
        )
        self.other_operator = organisation_create(
            actor=None, name="Other Mall Ltd", short_name="other-mall", kind=OrganisationKind.OPERATOR
        )
        self.regulator_org = organisation_create(
            actor=None, name="Biometrics Commissioner", short_name="bscc", kind=OrganisationKind.REGULATOR
        )

        def user(name, org, *roles):
            return user_create(
                actor=None, username=name, organisation=org, roles=list(roles), password="correct-horse-battery-9"
            )

        self.estate_dpo = user("dpo.estate", self.estate, Role.DPO)
        self.met_dpo = user("dpo.met", self.met, Role.DPO)
        # Second DPOs: the person who writes a DPIA or a policy document cannot approve it.
        self.estate_dpo2 = user("dpo2.estate", self.estate, Role.DPO)
        self.met_dpo2 = user("dpo2.met", self.met, Role.DPO)
        self.camden_dpo = user("dpo.camden", self.camden, Role.DPO)
        self.btp_dpo = user("dpo.btp", self.btp, Role.DPO)
        self.other_dpo = user("dpo.other", self.other_operator, Role.DPO)
        self.estate_reviewer = user("reviewer.estate", self.estate, Role.REVIEWER)
        self.regulator = user("regulator", self.regulator_org, Role.REGULATOR)
        # The Met's Authorising Officer (APP: superintendent or above) authorises its deployments.
        self.met_ao = user_create(
            actor=None,
            username="ao.met",
            organisation=self.met,
            roles=[Role.AUTHORISING_OFFICER],
            password="correct-horse-battery-9",
            first_name="R.",
            last_name="Baines",
            rank="superintendent",
        )
        self.password = "correct-horse-battery-9"


@pytest.fixture
def cast(db) -> Cast:
    return Cast()


def agreement_terms(cast: Cast, **overrides) -> dict:
    today = timezone.localdate()
    terms = {
        "title": "Estate LFR watchlist sharing",
        "supplying_organisation": cast.camden,
        "receiving_organisation": cast.estate,
        "purpose": "Locate wanted people on the estate.",
        "data_items": "Facial image, pseudonymous reference, custody category.",
        "schedule8_condition": "sch8_1",
        "special_category_data": "Biometric data.",
        "permitted_custody_categories": ["wanted", "suspect"],
        "max_images": 20,
        "starts_on": today - timedelta(days=1),
        "ends_on": today + timedelta(days=365),
        "review_on": today + timedelta(days=180),
        "individual_rights": "Through the operator's DPO.",
        "security_measures": "Encrypted at rest.",
        "breach_handling": "Notify within 24 hours.",
        "termination_terms": "30 days' notice.",
        "sanctions": "Suspension.",
        # The operator's reviewers see the enrolled image beside the crop, so they can confirm (issue 21).
        "operator_reviewers_see_image": True,
        "operator_article6_basis": "art6_1_f",
        "operator_article9_condition": "art9_2_g",
        "operator_schedule1_condition": "sch1_10",
    }
    terms.update(overrides)
    return terms


def second_dpo(actor):
    """Another DPO of the actor's organisation (created once): the one who approves what ``actor`` wrote."""
    from governance.organisations.models import User
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create

    organisation = actor.organisation
    username = f"dpo2.{organisation.short_name}"
    existing = User.objects.filter(username=username).first()
    if existing is not None and existing.pk != actor.pk:
        return existing
    if existing is not None:  # the actor is the second DPO: the first approves
        username = f"dpo.{organisation.short_name}"
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            return existing
    return user_create(
        actor=None, username=username, organisation=organisation, roles=[Role.DPO], password="correct-horse-battery-9"
    )


def approved_policy(actor, *, agreements=(), **overrides):
    """An approved appropriate policy document of the actor's organisation, written by ``actor`` and
    approved by another DPO of it (DPA 2018 s.42 for a force; Sch. 1 Part 4 for an operator)."""
    from governance.dpia import policy_services

    fields = {
        "title": f"{actor.organisation} appropriate policy document",
        "schedule8_conditions": ["sch8_1"],
        "compliance_procedures": "Principles secured by role-based access, logging and annual audit.",
        "retention_policy": "Alerts 31 days; watchlist erased within 24 hours after each deployment.",
        "processing_description": "Biometric matching against a police watchlist.",
        "review_on": timezone.localdate() + timedelta(days=365),
    }
    fields.update(overrides)
    policy = policy_services.policy_draft(actor=actor, fields=fields, agreement_ids=[a.pk for a in agreements])
    return policy_services.policy_approve(actor=second_dpo(actor), policy=policy)


def signed_pdf():
    """A real (one blank A4 page) PDF: the service opens the signed document with a PDF reader."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "Signed test agreement"})
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("signed.pdf", out.getvalue(), content_type="application/pdf")


@pytest.fixture
def submitted_agreement(cast):
    """A complete agreement, notified and countersigned, waiting for force approval."""
    from governance.agreements import services

    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=date.today() - timedelta(days=3),
        reference="BSCC-1",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])  # the DPIA gate on approval (governance.dpia)
    approved_policy(cast.met_dpo)  # the supplying force's s.42 document, needed for approval
    approved_policy(cast.estate_dpo, agreements=[agreement])  # the operator's own (Sch. 1 Part 4), for go-live
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def active_agreement(cast, submitted_agreement):
    from governance.agreements import services

    return services.agreement_approve(actor=cast.met_dpo, agreement=submitted_agreement)


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


# --- DPIAs (governance.dpia): agreement approval and go-live need an approved one covering them ----


def dpia_sections(**overrides) -> dict:
    today = timezone.localdate()
    fields = {
        "title": "Live facial recognition on the estate",
        "nature": "Faces seen by two overt cameras are compared with a watchlist supplied by police.",
        "scope": "Everyone passing the cameras: several thousand people a day; watchlist of at most 20 images.",
        "context": "A public-facing private estate; people do not expect to be identified there.",
        "purposes": "Locate people wanted by the courts for serious offences.",
        "necessity": "Officers on foot could not find wanted people in crowds of this size.",
        "proportionality": "Overt, time-limited, threshold at the engine default, two-person review.",
        "safeguards": "Non-matches deleted at once; alert data kept 30 days; access logged.",
        "dpo_advice": "Proceed only with the threshold at 0.58 or above and monthly bias monitoring.",
        "dpo_advice_by_name": "Dana Okafor",
        "dpo_advice_followed": True,
        "subject_views": "Residents' association consulted; concerns about signage addressed.",
        "review_on": today + timedelta(days=360),  # after the agreements' own review date (180 days)
    }
    fields.update(overrides)
    return fields


def dpia_risk(**overrides) -> dict:
    risk = {
        "title": "Misidentification",
        "description": "A passer-by is wrongly stopped.",
        "likelihood": 2,
        "severity": 3,
        "measures": "Two-person review before any disclosure.",
        "residual_risk": "medium",
    }
    risk.update(overrides)
    return risk


def approved_dpia(cast, *, agreements=(), deployments=(), actor=None, **overrides):
    """An approved DPIA covering the agreements and deployments, written through the services."""
    from governance.dpia import services as dpias

    actor = actor or cast.estate_dpo
    dpia = dpias.dpia_draft(actor=actor, fields=dpia_sections(**overrides))
    if agreements:
        dpias.dpia_set_agreements(actor=actor, dpia=dpia, agreement_ids=[a.pk for a in agreements])
    for deployment in deployments:
        dpias.dpia_cover_deployment(
            actor=actor,
            dpia=dpia,
            deployment_id=deployment.pk,
            demographic_evidence="NPL 2023: no significant demographic difference at 0.6.",
            monitoring_plan="Monthly review of false alerts by apparent sex and ethnicity.",
        )
    dpias.dpia_risk_add(actor=actor, dpia=dpia, fields=dpia_risk())
    dpias.dpia_submit(actor=actor, dpia=dpia)
    return dpias.dpia_approve(actor=second_dpo(actor), dpia=dpia, capacity="Controller's senior responsible owner")
