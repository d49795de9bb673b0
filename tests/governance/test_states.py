"""A change refused because of the record's state (``governance.states.locked_in_state``): the same sentence and code
for an agreement and a DPIA, naming the action, the state it is in and the states that allow it; nothing changes."""

from __future__ import annotations

import pytest

from governance.agreements import services as agreements
from governance.agreements.models import AgreementStatus
from governance.dpia import services as dpias
from governance.dpia.models import DPIA, DPIAStatus
from governance.errors import StateConflict
from tests.conftest import agreement_terms, dpia_risk, dpia_sections

pytestmark = pytest.mark.django_db


def test_a_submitted_agreement_refuses_an_edit_with_its_state_and_the_one_needed(cast):
    agreement = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    agreement.status = AgreementStatus.SUBMITTED
    agreement.save(update_fields=["status"])
    with pytest.raises(StateConflict) as refused:
        agreements.agreement_update(actor=cast.estate_dpo, agreement=agreement, fields={"title": "Another title"})
    assert (refused.value.code, refused.value.message) == (
        "invalid_state",
        "Cannot edit the agreement: the agreement is submitted for approval, it must be draft.",
    )
    agreement.refresh_from_db()
    assert agreement.title != "Another title"


def test_a_draft_dpia_names_every_state_that_allows_the_action(cast):
    dpia = dpias.dpia_draft(actor=cast.estate_dpo, fields=dpia_sections())
    dpias.dpia_risk_add(actor=cast.estate_dpo, dpia=dpia, fields=dpia_risk())
    with pytest.raises(StateConflict) as refused:
        dpias.dpia_revise(actor=cast.estate_dpo, dpia=dpia, change_summary="A new camera.")
    assert (refused.value.code, refused.value.message) == (
        "invalid_state",
        "Cannot revise the DPIA: the DPIA is draft, it must be approved or rejected.",
    )
    assert DPIA.objects.get(pk=dpia.pk).status == DPIAStatus.DRAFT and DPIA.objects.count() == 1
