"""The DPIA as a record the system obeys: states, versions, prior consultation, gates, scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.agreements import services as agreements
from governance.agreements.rules import agreement_rule_breaches
from governance.audit.models import AuditEvent
from governance.dpia import services as dpias
from governance.dpia.access import dpia_for, dpias_visible_to
from governance.dpia.models import DPIA, DPIAStatus
from governance.dpia.selectors import dpia_compare
from governance.errors import (
    NotFound,
    PermissionRefused,
    StateConflict,
    ValidationFailed,
)
from tests.conftest import (
    agreement_terms,
    approved_dpia,
    approved_policy,
    dpia_risk,
    dpia_sections,
    signed_pdf,
)

pytestmark = pytest.mark.django_db


def ready_agreement(cast):
    """A submitted agreement with everything approval needs except a DPIA."""
    agreement = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate(),
        reference="BSCC-9",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_policy(cast.met_dpo)  # the supplying force's s.42 document
    agreement.refresh_from_db()
    return agreement


def draft(cast, agreement=None, **overrides):
    dpia = dpias.dpia_draft(actor=cast.estate_dpo, fields=dpia_sections(**overrides))
    if agreement is not None:
        dpias.dpia_set_agreements(actor=cast.estate_dpo, dpia=dpia, agreement_ids=[agreement.pk])
    dpias.dpia_risk_add(actor=cast.estate_dpo, dpia=dpia, fields=dpia_risk())
    return dpia


# --- states -----------------------------------------------------------------------------------------


def test_draft_review_approve_with_audit_in_scope(cast):
    agreement = ready_agreement(cast)
    dpia = draft(cast, agreement)
    dpia = dpias.dpia_submit(actor=cast.estate_dpo, dpia=dpia)
    assert dpia.status == DPIAStatus.IN_REVIEW
    with pytest.raises(StateConflict):  # in review: sections are frozen
        dpias.dpia_update(actor=cast.estate_dpo, dpia=dpia, fields={"scope": "Smaller."})
    dpia = dpias.dpia_approve(actor=cast.estate_dpo2, dpia=dpia, capacity="Senior responsible owner")
    assert dpia.status == DPIAStatus.APPROVED and dpia.approved_by_name == "dpo2.estate"
    events = list(
        AuditEvent.objects.filter(target_type="governance.dpia", target_id=str(dpia.pk)).values_list("event", flat=True)
    )
    assert events == ["dpia.drafted", "dpia.agreements_set", "dpia.risk_added", "dpia.submitted", "dpia.approved"]
    # The events concern the parties of what the DPIA covers: Camden's DPO reads them in the audit log.
    from governance.access import audit_events_visible_to

    assert audit_events_visible_to(cast.camden_dpo).filter(event="dpia.approved").exists()
    assert not audit_events_visible_to(cast.other_dpo).filter(event="dpia.approved").exists()


def test_incomplete_dpia_cannot_go_for_review(cast):
    dpia = dpias.dpia_draft(actor=cast.estate_dpo, fields=dpia_sections(subject_views="", dpo_advice_followed=False))
    with pytest.raises(ValidationFailed) as refused:
        dpias.dpia_submit(actor=cast.estate_dpo, dpia=dpia)
    assert refused.value.code == "dpia_incomplete"
    gaps = " ".join(refused.value.details)
    assert "views of data subjects" in gaps and "why the DPO's advice was not followed" in gaps
    assert "risks" in gaps and "agreements or deployments" in gaps


def test_reject_then_revise(cast):
    dpia = draft(cast, ready_agreement(cast))
    dpias.dpia_submit(actor=cast.estate_dpo, dpia=dpia)
    with pytest.raises(ValidationFailed):
        dpias.dpia_reject(actor=cast.estate_dpo, dpia=dpia, reason=" ")
    dpia = dpias.dpia_reject(actor=cast.estate_dpo, dpia=dpia, reason="Necessity not shown for the second camera.")
    assert dpia.status == DPIAStatus.REJECTED
    with pytest.raises(StateConflict):
        dpias.dpia_approve(actor=cast.estate_dpo2, dpia=dpia)
    v2 = dpias.dpia_revise(actor=cast.estate_dpo, dpia=dpia, change_summary="Second camera dropped.")
    assert (v2.version, v2.status, v2.reference) == (2, DPIAStatus.DRAFT, dpia.reference)


# --- versions ------------------------------------------------------------------------------------------


def test_editing_an_approved_dpia_makes_a_new_version_and_the_old_one_covers_until_then(cast):
    agreement = ready_agreement(cast)
    v1 = approved_dpia(cast, agreements=[agreement])
    with pytest.raises(StateConflict):
        dpias.dpia_update(actor=cast.estate_dpo, dpia=v1, fields={"scope": "Wider."})
    v2 = dpias.dpia_revise(actor=cast.estate_dpo, dpia=v1, change_summary="A third camera on the canal steps.")
    assert list(v2.agreements.all()) == [agreement] and v2.risks.count() == v1.risks.count()
    dpias.dpia_update(actor=cast.estate_dpo, dpia=v2, fields={"scope": "Three cameras; about 9,000 people a day."})
    dpias.dpia_risk_add(
        actor=cast.estate_dpo,
        dpia=v2,
        fields=dpia_risk(title="Chilling effect on protest", likelihood=1, residual_risk="low"),
    )
    # v1 still covers the agreement while v2 is drafted.
    assert agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement).status == "active"
    with pytest.raises(StateConflict) as refused:  # one newer version at a time
        dpias.dpia_revise(actor=cast.estate_dpo, dpia=v1, change_summary="Again.")
    assert refused.value.code == "newer_version_exists"
    dpias.dpia_submit(actor=cast.estate_dpo, dpia=v2)
    dpias.dpia_approve(actor=cast.estate_dpo2, dpia=v2)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.status == DPIAStatus.SUPERSEDED

    rows = {row.key: row for row in dpia_compare(v1, v2)}
    assert rows["scope"].changed and "<ins>" in rows["scope"].right and "<del>" in rows["scope"].left
    assert not rows["purposes"].changed
    assert rows["risks"].changed and "Chilling effect on protest" in rows["risks"].right


# --- prior consultation ----------------------------------------------------------------------------------


def test_high_residual_risk_needs_prior_consultation(cast):
    dpia = draft(cast, ready_agreement(cast))
    dpias.dpia_risk_add(
        actor=cast.estate_dpo,
        dpia=dpia,
        fields=dpia_risk(title="Bias against Black subjects", likelihood=3, severity=3, residual_risk="high"),
    )
    dpias.dpia_submit(actor=cast.estate_dpo, dpia=dpia)
    with pytest.raises(StateConflict) as refused:
        dpias.dpia_approve(actor=cast.estate_dpo2, dpia=dpia)
    assert refused.value.code == "prior_consultation_required"
    with pytest.raises(ValidationFailed):
        dpias.dpia_record_prior_consultation(
            actor=cast.estate_dpo, dpia=dpia, consulted_on=timezone.localdate(), reference="ICO-PC-1", outcome=""
        )
    dpias.dpia_record_prior_consultation(
        actor=cast.estate_dpo,
        dpia=dpia,
        consulted_on=timezone.localdate() - timedelta(days=1),
        reference="ICO-PC-2026-017",
        outcome="No objection, subject to quarterly bias reports.",
    )
    assert dpias.dpia_approve(actor=cast.estate_dpo2, dpia=dpia).status == DPIAStatus.APPROVED


# --- gates -------------------------------------------------------------------------------------------------


def test_agreement_approval_refused_without_a_dpia(cast):
    agreement = ready_agreement(cast)
    with pytest.raises(StateConflict) as refused:
        agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refused.value.code == "dpia_missing"
    assert "dpia_missing" in {b.code for b in agreement_rule_breaches(agreement)}
    draft(cast, agreement)  # a draft does not count
    with pytest.raises(StateConflict):
        agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement)


def test_agreement_approval_refused_past_the_dpia_review_date(cast):
    agreement = ready_agreement(cast)
    approved_dpia(cast, agreements=[agreement], review_on=timezone.localdate() + timedelta(days=10))
    with time_machine.travel(timezone.now() + timedelta(days=11)), pytest.raises(StateConflict) as refused:
        agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refused.value.code == "dpia_review_overdue"
    assert agreements.agreement_approve(actor=cast.met_dpo, agreement=agreement).status == "active"


def test_kings_cross_style_historical_agreement_shows_no_dpia(cast):
    from governance.agreements.models import AgreementStatus

    fields = agreement_terms(
        cast,
        starts_on=timezone.localdate().replace(year=2016),
        ends_on=timezone.localdate().replace(year=2018),
        review_on=timezone.localdate().replace(year=2017),
    )
    agreement = agreements.agreement_record_historical(
        actor=None,
        fields=fields,
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.camden,
        approved_by_name="BCU commander",
        historical_notes="Recorded after the fact.",
        reference="KX-TEST",
    )
    breaches = {b.code: b for b in agreement_rule_breaches(agreement)}
    assert breaches["dpia_missing"].title == "No DPIA"


# --- scoping ---------------------------------------------------------------------------------------------


def test_scoping_another_organisations_dpia_is_404_and_regulators_read_only(cast):
    agreement = ready_agreement(cast)
    dpia = approved_dpia(cast, agreements=[agreement])
    assert dpia_for(cast.camden_dpo, dpia.pk) == dpia  # the supplying unit, a party
    assert dpia_for(cast.met_dpo, dpia.pk) == dpia  # its force
    assert dpia_for(cast.regulator, dpia.pk) == dpia
    for outsider in (cast.other_dpo, cast.btp_dpo):
        with pytest.raises(NotFound):
            dpia_for(outsider, dpia.pk)
        assert not dpias_visible_to(outsider).exists()
    with pytest.raises(NotFound):
        dpia_for(cast.estate_dpo, 999_999)
    # Parties that are not the controller, and regulators, change nothing.
    for reader in (cast.camden_dpo, cast.regulator):
        with pytest.raises(PermissionRefused):
            dpia_for(reader, dpia.pk, to="revise")
        with pytest.raises(PermissionRefused):
            dpias.dpia_revise(actor=reader, dpia=dpia, change_summary="Mine now.")
    with pytest.raises(PermissionRefused):
        dpias.dpia_draft(actor=cast.regulator, fields=dpia_sections())
    with pytest.raises(NotFound):
        dpias.dpia_revise(actor=cast.other_dpo, dpia=dpia, change_summary="x")
    assert DPIA.objects.count() == 1
