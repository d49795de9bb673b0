"""The agreement and DPIA rules as the law states them (issue 21): APP watchlist categories, the complete
legal basis, bounded retention, records true to their time, and separation of duties. Each refusal is
coded and stores nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.agreements import services
from governance.agreements.models import Agreement, AgreementStatus
from governance.agreements.retention_terms import agreement_retention_extend
from governance.agreements.rules import (
    agreement_approval_missing,
    agreement_is_notified,
    agreement_rule_breaches,
    operator_legal_basis_problems,
)
from governance.audit.models import AuditEvent
from governance.dpia import policy_services
from governance.dpia import services as dpias
from governance.dpia.models import DPIA, DPIAStatus, PolicyDocument, PolicyStatus
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.reports.registry import ReportScope
from tests.conftest import (
    agreement_terms,
    approved_dpia,
    approved_policy,
    dpia_risk,
    dpia_sections,
    signed_pdf,
)

pytestmark = pytest.mark.django_db

CUSTODY_2016 = ["arrested", "charged", "cautioned", "reprimanded", "formal_warning"]


def refused_storing_nothing(error_class, code, action):
    """Run ``action``; it must be refused with ``code`` and leave no agreement, DPIA, policy or audit event."""
    counts = (
        Agreement.objects.count(),
        DPIA.objects.count(),
        PolicyDocument.objects.count(),
        AuditEvent.objects.count(),
    )
    with pytest.raises(error_class) as refusal:
        action()
    assert refusal.value.code == code, refusal.value.message
    assert counts == (
        Agreement.objects.count(),
        DPIA.objects.count(),
        PolicyDocument.objects.count(),
        AuditEvent.objects.count(),
    )
    return refusal.value


def historical_2016(cast, **overrides) -> Agreement:
    fields = agreement_terms(
        cast,
        starts_on=date(2016, 5, 1),
        ends_on=date(2018, 3, 31),
        review_on=date(2017, 5, 1),
        permitted_custody_categories=CUSTODY_2016,
        operator_article6_basis="",
        operator_article9_condition="",
        operator_schedule1_condition="",
    )
    fields.update(overrides)
    return services.agreement_record_historical(
        actor=None,
        fields=fields,
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.camden,
        approved_by_name="Camden Borough Command (local agreement)",
        historical_notes="Recorded after the fact.",
        reference="KX-2016-BCU",
    )


# --- 1. APP watchlist categories ----------------------------------------------------------------------


@pytest.mark.parametrize("category", CUSTODY_2016)
def test_a_new_agreement_with_a_2016_custody_category_is_refused_naming_the_rule(cast, category):
    refusal = refused_storing_nothing(
        ValidationFailed,
        "custody_category_not_app",
        lambda: services.agreement_draft(
            actor=cast.estate_dpo, fields=agreement_terms(cast, permitted_custody_categories=["wanted", category])
        ),
    )
    assert "College of Policing APP" in refusal.message and refusal.details == {
        "permitted_custody_categories": [category]
    }


def test_every_app_category_is_accepted_and_an_edit_back_to_custody_categories_is_refused(cast):
    agreement = services.agreement_draft(
        actor=cast.estate_dpo,
        fields=agreement_terms(
            cast, permitted_custody_categories=["wanted", "suspect", "missing", "vulnerable", "risk_of_harm"]
        ),
    )
    refused_storing_nothing(
        ValidationFailed,
        "custody_category_not_app",
        lambda: services.agreement_update(
            actor=cast.estate_dpo, agreement=agreement, fields={"permitted_custody_categories": ["charged"]}
        ),
    )
    agreement.refresh_from_db()
    assert "charged" not in agreement.permitted_custody_categories


def test_an_upload_in_a_custody_category_is_refused(cast, active_agreement):
    from governance.watchlist.errors import CategoryNotPermitted
    from governance.watchlist.models import WatchlistImage
    from governance.watchlist.services import Provenance, watchlist_image_upload

    submitter = _submitter(cast)
    before = WatchlistImage.objects.count(), AuditEvent.objects.count()
    with pytest.raises(CategoryNotPermitted) as refusal:
        watchlist_image_upload(
            actor=submitter,
            agreement_id=active_agreement.pk,
            image_bytes=b"not even read",
            provenance=Provenance(
                subject_reference="MET-W-0099",
                custody_category="cautioned",
                custody_reference="CUST/0099",
                image_taken_on=timezone.localdate() - timedelta(days=3),
            ),
        )
    assert refusal.value.code == "custody_category_not_app" and "APP" in refusal.value.message
    assert before == (WatchlistImage.objects.count(), AuditEvent.objects.count())


def test_the_historical_record_keeps_its_custody_categories_and_shows_them_as_a_broken_rule(cast):
    historical = historical_2016(cast)
    assert historical.permitted_custody_categories == CUSTODY_2016
    breach = {b.code: b for b in agreement_rule_breaches(historical)}["custody_categories_not_app"]
    assert "arrested" in breach.explanation and "College of Policing APP" in breach.explanation


def test_the_form_offers_only_app_categories(cast):
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-create")).content.decode()
    assert 'value="suspect"' in page and 'value="risk_of_harm"' in page
    assert 'value="charged"' not in page and 'value="formal_warning"' not in page


def _submitter(cast):
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create

    return user_create(
        actor=None,
        username="submitter.camden",
        organisation=cast.camden,
        roles=[Role.FORCE_SUBMITTER],
        password="correct-horse-battery-9",
    )


# --- 2. The legal basis, complete ----------------------------------------------------------------------


def _ready(cast, **overrides) -> Agreement:
    """Submitted, notified, countersigned, signed and covered by a DPIA: only the policy documents vary."""
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, **overrides))
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate(),
        reference="BSCC-7",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    agreement.refresh_from_db()
    return agreement


def test_approval_needs_the_supplying_forces_approved_policy_document(cast):
    agreement = _ready(cast)
    # The operator's own document does not stand in for the force's, nor does a draft of the force's.
    approved_policy(cast.estate_dpo)
    policy_services.policy_draft(
        actor=cast.met_dpo,
        fields={
            "title": "Met APD",
            "schedule8_conditions": ["sch8_1"],
            "compliance_procedures": "x",
            "retention_policy": "y",
            "processing_description": "z",
            "review_on": timezone.localdate() + timedelta(days=100),
        },
    )
    refusal = refused_storing_nothing(
        StateConflict,
        "supplier_policy_missing",
        lambda: services.agreement_approve(actor=cast.met_dpo, agreement=agreement),
    )
    assert "Metropolitan Police Service" in refusal.message and "s.42" in refusal.message
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SUBMITTED
    approved_policy(cast.met_dpo)
    assert agreement_approval_missing(agreement) == []
    assert services.agreement_approve(actor=cast.met_dpo, agreement=agreement).status == AgreementStatus.ACTIVE


def test_the_operators_legal_basis_problems_name_each_missing_piece(cast):
    agreement = services.agreement_draft(
        actor=cast.estate_dpo,
        fields=agreement_terms(
            cast, operator_article6_basis="", operator_article9_condition="", operator_schedule1_condition=""
        ),
    )
    problems = operator_legal_basis_problems(agreement)
    assert [p.code for p in problems] == [
        "operator_article6_missing",
        "operator_article9_missing",
        "operator_schedule1_missing",
        "operator_policy_missing",
    ]
    assert "Art. 6" in problems[0].message and "Sch. 1 Part 4" in problems[3].message
    services.agreement_update(
        actor=cast.estate_dpo,
        agreement=agreement,
        fields={
            "operator_article6_basis": "art6_1_f",
            "operator_article9_condition": "art9_2_g",
            "operator_schedule1_condition": "sch1_10",
        },
    )
    agreement.refresh_from_db()
    assert [p.code for p in operator_legal_basis_problems(agreement)] == ["operator_policy_missing"]
    approved_policy(cast.met_dpo)  # a force's document is not the operator's
    assert [p.code for p in operator_legal_basis_problems(agreement)] == ["operator_policy_missing"]
    approved_policy(cast.estate_dpo)
    assert operator_legal_basis_problems(agreement) == []


def test_the_agreement_page_shows_what_go_live_still_needs(cast):
    agreement = services.agreement_draft(
        actor=cast.estate_dpo, fields=agreement_terms(cast, operator_schedule1_condition="")
    )
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    basis = page.split('id="operator-legal-basis"')[1].split("</dd>")[0]
    assert "Art. 6(1)(f) legitimate interests" in basis
    assert "Schedule 1 condition is not recorded" in basis and "appropriate policy document" in basis


# --- 3. Bounded retention --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"match_retention_days": 3650}, "alert_retention_too_long"),
        ({"match_retention_days": 32}, "alert_retention_too_long"),
        ({"watchlist_erasure_hours": 8760}, "watchlist_erasure_too_long"),
        ({"watchlist_erasure_hours": 25}, "watchlist_erasure_too_long"),
        ({"match_retention_days": 0}, "retention_zero"),
        ({"watchlist_erasure_hours": 0}, "retention_zero"),
    ],
)
def test_retention_terms_beyond_the_bounds_or_zero_are_refused(cast, terms, code):
    refused_storing_nothing(
        ValidationFailed,
        code,
        lambda: services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, **terms)),
    )


def test_the_bounds_themselves_are_accepted(cast):
    agreement = services.agreement_draft(
        actor=cast.estate_dpo, fields=agreement_terms(cast, match_retention_days=31, watchlist_erasure_hours=24)
    )
    assert (agreement.match_retention_days, agreement.watchlist_erasure_hours) == (31, 24)


def test_only_the_supplying_forces_dpo_approves_a_longer_term_with_a_reason(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    longer = {"match_retention_days": 90, "reason": "Evidence for a trial listed in March."}
    from governance.errors import NotFound

    for actor, code in (
        (cast.estate_dpo, "not_supplying_force_dpo"),  # the operator asks, it does not approve
        (cast.camden_dpo, "not_supplying_force_dpo"),  # a unit is not its force
        (cast.btp_dpo, "agreement_not_found"),  # another force does not even see it
    ):
        refused_storing_nothing(
            NotFound if code == "agreement_not_found" else PermissionRefused,
            code,
            lambda actor=actor: agreement_retention_extend(actor=actor, agreement=agreement, **longer),
        )
    refused_storing_nothing(
        ValidationFailed,
        "reason_required",
        lambda: agreement_retention_extend(actor=cast.met_dpo, agreement=agreement, match_retention_days=90, reason=""),
    )
    refused_storing_nothing(
        ValidationFailed,
        "no_extension_needed",
        lambda: agreement_retention_extend(
            actor=cast.met_dpo, agreement=agreement, match_retention_days=20, reason="x"
        ),
    )
    agreement = agreement_retention_extend(
        actor=cast.met_dpo, agreement=agreement, watchlist_erasure_hours=48, **longer
    )
    assert (agreement.match_retention_days, agreement.watchlist_erasure_hours) == (90, 48)
    event = AuditEvent.objects.get(event="agreement.retention_extended")
    assert event.justification == longer["reason"] and event.actor_id == cast.met_dpo.pk
    # Up to what was approved, not beyond; and never 0.
    services.agreement_update(actor=cast.estate_dpo, agreement=agreement, fields={"match_retention_days": 60})
    refused_storing_nothing(
        ValidationFailed,
        "alert_retention_too_long",
        lambda: services.agreement_update(
            actor=cast.estate_dpo, agreement=agreement, fields={"match_retention_days": 91}
        ),
    )


def test_a_longer_term_is_shown_on_the_agreement_and_in_the_regulator_pack(cast):
    from governance.reports.pack import pack_figures

    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    agreement_retention_extend(
        actor=cast.met_dpo, agreement=agreement, match_retention_days=45, reason="Linked investigation OP-ALDER."
    )
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    note = page.split('id="retention-extension-note"')[1].split("</span>")[0]
    assert "alert data up to 45 days" in note and "OP-ALDER" in note and "dpo.met" in note
    register = next(s for s in pack_figures(ReportScope(actor=cast.regulator)) if s.code == "register").tables[0]
    row = next(r for r in register.rows if r[0] == agreement.reference)
    retention = row[register.columns.index("Retention")]
    assert "Alerts 45 days" in retention and "OP-ALDER" in retention


def test_the_force_dpo_approves_a_longer_term_from_the_agreement_page(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    client = Client()
    client.force_login(cast.estate_dpo)
    assert (
        'id="retention-extension"' not in client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    )
    client.force_login(cast.met_dpo)
    assert 'id="retention-extension"' in client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    client.post(
        reverse("agreement-action", args=[agreement.pk]),
        {"action": "extend_retention", "watchlist_erasure_hours": "36", "reason": "Deployment ends on a Friday night."},
    )
    agreement.refresh_from_db()
    assert agreement.watchlist_erasure_hours == 36 and agreement.retention_extension_approved_by == cast.met_dpo


# --- 4. Records true to their time ---------------------------------------------------------------------------


def test_a_dpia_approved_later_never_erases_no_dpia_while_sharing(cast):
    from governance.reports.pack import pack_figures

    historical = historical_2016(cast)
    assert "dpia_missing" in {b.code for b in agreement_rule_breaches(historical)}
    dpia = approved_dpia(cast, agreements=[historical])  # approved today, covering the 2016 agreement
    assert dpia.status == DPIAStatus.APPROVED
    breaches = {b.code: b for b in agreement_rule_breaches(historical)}
    assert "dpia_missing" in breaches and "custody_categories_not_app" in breaches
    assert "1 May 2016" in breaches["dpia_missing"].explanation
    assert "A DPIA approved later does not change" in breaches["dpia_missing"].explanation
    register = next(s for s in pack_figures(ReportScope(actor=cast.regulator)) if s.code == "register").tables[0]
    row = next(r for r in register.rows if r[0] == "KX-2016-BCU")
    assert row[register.columns.index("DPIA")] != "Approved and in date"
    assert "No DPIA" in row[register.columns.index("Rules broken")]


def test_a_dpia_approved_before_the_sharing_began_counts_for_its_time(cast, active_agreement):
    """The current agreement, approved with its DPIA, later expires: it is judged at its start, when the DPIA
    was approved and in date — even after that DPIA's own review date has passed."""
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(days=400)):
        services.agreements_apply_dates()
        active_agreement.refresh_from_db()
        assert active_agreement.status == AgreementStatus.EXPIRED
        assert not {"dpia_missing", "dpia_review_overdue"} & {b.code for b in agreement_rule_breaches(active_agreement)}


def test_a_notification_must_name_a_regulator_which_then_sees_it(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    notify = {"notified_on": timezone.localdate(), "reference": "BSCC-11", "notified_by": "Dana Okafor"}
    refused_storing_nothing(
        ValidationFailed,
        "regulator_required",
        lambda: services.agreement_record_regulator_notification(actor=cast.estate_dpo, agreement=agreement, **notify),
    )
    refused_storing_nothing(
        ValidationFailed,
        "not_a_regulator",
        lambda: services.agreement_record_regulator_notification(
            actor=cast.estate_dpo, agreement=agreement, regulator=cast.other_operator, **notify
        ),
    )
    agreement.refresh_from_db()
    assert not agreement_is_notified(agreement) and agreement.regulator_notified_on is None
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo, agreement=agreement, regulator=cast.regulator_org, **notify
    )
    agreement.refresh_from_db()
    assert agreement_is_notified(agreement)
    client = Client()
    client.force_login(cast.regulator)
    home = client.get(reverse("dashboard")).content.decode()
    assert agreement.reference in home and "BSCC-11" in home


def test_a_date_without_a_regulator_is_not_a_notification_in_the_register_or_the_pack(cast):
    from governance.reports.pack import pack_figures

    historical = historical_2016(cast)
    Agreement.objects.filter(pk=historical.pk).update(regulator_notified_on=date(2016, 6, 1))  # an old import
    historical.refresh_from_db()
    assert "regulator_not_notified" in {b.code for b in agreement_rule_breaches(historical)}
    register = next(s for s in pack_figures(ReportScope(actor=cast.regulator)) if s.code == "register")
    assert register.figures[1].value == 1  # never notified to the regulator
    row = next(r for r in register.tables[0].rows if r[0] == "KX-2016-BCU")
    assert row[register.tables[0].columns.index("Regulator notified")] == "Never notified"


# --- 5. Separation of duties ------------------------------------------------------------------------------------


def _dpia_in_review(cast, *, writer, **overrides) -> DPIA:
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    dpia = dpias.dpia_draft(actor=writer, fields=dpia_sections(**overrides))
    dpias.dpia_set_agreements(actor=writer, dpia=dpia, agreement_ids=[agreement.pk])
    dpias.dpia_risk_add(actor=writer, dpia=dpia, fields=dpia_risk())
    return dpias.dpia_submit(actor=writer, dpia=dpia)


def test_the_writer_of_a_dpia_cannot_approve_it(cast):
    dpia = _dpia_in_review(cast, writer=cast.estate_dpo)
    refused_storing_nothing(
        PermissionRefused, "author_cannot_approve", lambda: dpias.dpia_approve(actor=cast.estate_dpo, dpia=dpia)
    )
    dpia.refresh_from_db()
    assert dpia.status == DPIAStatus.IN_REVIEW and dpia.approved_by is None
    approved = dpias.dpia_approve(actor=cast.estate_dpo2, dpia=dpia, capacity="Head of estate security")
    assert approved.approved_by == cast.estate_dpo2 and approved.dpo_advice_by == cast.estate_dpo
    assert approved.dpo_advice_at is not None and approved.dpo_advice_at <= approved.approved_at


def test_the_dpo_who_recorded_the_advice_cannot_sign_off(cast):
    dpia = dpias.dpia_draft(actor=cast.estate_dpo2, fields=dpia_sections(dpo_advice=""))
    dpias.dpia_update(actor=cast.estate_dpo, dpia=dpia, fields={"dpo_advice": "Proceed with monthly bias checks."})
    dpia.refresh_from_db()
    assert dpia.dpo_advice_by == cast.estate_dpo
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    dpias.dpia_set_agreements(actor=cast.estate_dpo2, dpia=dpia, agreement_ids=[agreement.pk])
    dpias.dpia_risk_add(actor=cast.estate_dpo2, dpia=dpia, fields=dpia_risk())
    dpias.dpia_submit(actor=cast.estate_dpo2, dpia=dpia)
    for actor, code in (
        (cast.estate_dpo, "dpo_advice_giver_cannot_approve"),
        (cast.estate_dpo2, "author_cannot_approve"),
    ):
        refused_storing_nothing(PermissionRefused, code, lambda actor=actor: dpias.dpia_approve(actor=actor, dpia=dpia))
    # A third person of the controller signs off.
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create

    third = user_create(
        actor=None, username="dpo3.estate", organisation=cast.estate, roles=[Role.DPO], password="x-horse-battery-9"
    )
    assert dpias.dpia_approve(actor=third, dpia=dpia).status == DPIAStatus.APPROVED


def test_the_safeguards_section_is_required(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    dpia = dpias.dpia_draft(actor=cast.estate_dpo, fields=dpia_sections(safeguards="  "))
    dpias.dpia_set_agreements(actor=cast.estate_dpo, dpia=dpia, agreement_ids=[agreement.pk])
    dpias.dpia_risk_add(actor=cast.estate_dpo, dpia=dpia, fields=dpia_risk())
    refusal = refused_storing_nothing(
        ValidationFailed, "dpia_incomplete", lambda: dpias.dpia_submit(actor=cast.estate_dpo, dpia=dpia)
    )
    assert "s.64(3)(d)" in refusal.message
    dpia.refresh_from_db()
    assert dpia.status == DPIAStatus.DRAFT


def test_the_writer_of_a_policy_document_cannot_approve_it_nor_see_the_button(cast):
    policy = policy_services.policy_draft(
        actor=cast.met_dpo,
        fields={
            "title": "Met APD",
            "schedule8_conditions": ["sch8_1"],
            "compliance_procedures": "x",
            "retention_policy": "y",
            "processing_description": "z",
            "review_on": timezone.localdate() + timedelta(days=100),
        },
    )
    refused_storing_nothing(
        PermissionRefused,
        "author_cannot_approve",
        lambda: policy_services.policy_approve(actor=cast.met_dpo, policy=policy),
    )
    client = Client()
    client.force_login(cast.met_dpo)
    assert "approve-policy" not in client.get(reverse("policy-detail", args=[policy.pk])).content.decode()
    client.force_login(cast.met_dpo2)
    assert "approve-policy" in client.get(reverse("policy-detail", args=[policy.pk])).content.decode()
    assert policy_services.policy_approve(actor=cast.met_dpo2, policy=policy).status == PolicyStatus.APPROVED


# --- the same rules in the web form ---------------------------------------------------------------------------


def test_the_form_refuses_unbounded_retention_and_custody_categories_as_field_errors(client, cast):
    from tests.governance.web.test_agreement_form import _field_errors, _post_data

    client.force_login(cast.estate_dpo)
    data = _post_data(cast)
    data.update(match_retention_days=3650, watchlist_erasure_hours=0, permitted_custody_categories=["charged"])
    response = client.post("/agreements/new/", data)
    assert response.status_code == 200 and not Agreement.objects.exists()
    errors = _field_errors(response)
    assert "at most 31 days" in errors["match_retention_days"][0]
    assert errors["watchlist_erasure_hours"] == ["Watchlist erasure must allow at least 1 hour."]
    assert "charged" in errors["permitted_custody_categories"][0]  # not one of the choices offered
    data.update(match_retention_days=31, watchlist_erasure_hours=24, permitted_custody_categories=["suspect"])
    assert client.post("/agreements/new/", data).status_code == 302
    assert Agreement.objects.get().operator_article6_basis == "art6_1_f"
