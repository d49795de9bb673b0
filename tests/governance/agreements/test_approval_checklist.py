"""The approval checklist: every prerequisite of force-level approval and its state at once, from
the same rule ``agreement_approve`` enforces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from governance.agreements import services
from governance.agreements.rules import agreement_approval_prerequisites
from governance.errors import StateConflict
from tests.conftest import agreement_terms, approved_dpia, approved_policy, signed_pdf

pytestmark = pytest.mark.django_db


def states(agreement) -> dict[str, bool]:
    return {p.code: p.met for p in agreement_approval_prerequisites(agreement)}


def test_a_bare_submission_lists_every_missing_prerequisite_and_approval_names_them_all(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    assert states(agreement) == {
        "regulator_not_notified": False,
        "not_countersigned": False,
        "no_signed_document": False,
        "dpia_missing": False,
        "supplier_policy_missing": False,
    }
    with pytest.raises(StateConflict) as refusal:
        services.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refusal.value.code == "regulator_not_notified"
    assert refusal.value.details == {
        "missing": [
            "regulator_not_notified",
            "not_countersigned",
            "no_signed_document",
            "dpia_missing",
            "supplier_policy_missing",
        ]
    }
    for words in (
        "regulator notified",
        "countersigned by the operator",
        "signed document",
        "dpia",
        "appropriate policy document",
    ):
        assert words in refusal.value.message.lower()


def test_the_checklist_follows_each_step_until_approval_passes(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate() - timedelta(days=1),
        reference="BSCC-9",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    agreement.refresh_from_db()
    assert [code for code, met in states(agreement).items() if not met] == [
        "not_countersigned",
        "dpia_missing",
        "supplier_policy_missing",
    ]
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.met_dpo)
    agreement.refresh_from_db()
    assert all(states(agreement).values())
    assert services.agreement_approve(actor=cast.met_dpo, agreement=agreement).status == "active"


def test_the_agreement_page_shows_all_missing_items_and_offers_the_pdf(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    checklist = page.split('id="approval-checklist"')[1].split("</ul>")[0]
    assert checklist.count('class="missing"') == 5 and checklist.count('class="met"') == 0
    response = client.get(reverse("agreement-pdf", args=[agreement.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"{agreement.reference}-v1-for-signature.pdf" in response["Content-Disposition"]
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert agreement.reference in text and "For signature" in text
    # Another organisation's agreement: not found.
    other = Client()
    other.force_login(cast.other_dpo)
    assert other.get(reverse("agreement-pdf", args=[agreement.pk])).status_code == 404


def test_a_signed_document_stops_counting_once_the_terms_change_until_re_signed(cast):
    agreement = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreement.refresh_from_db()
    assert agreement.signed_terms_digest and states(agreement)["no_signed_document"] is True
    services.agreement_update(actor=cast.estate_dpo, agreement=agreement, fields={"purpose": agreement.purpose})
    agreement.refresh_from_db()
    assert states(agreement)["no_signed_document"] is True  # saved unchanged: still the signed terms
    services.agreement_update(actor=cast.estate_dpo, agreement=agreement, fields={"max_images": 7})
    agreement.refresh_from_db()
    [signed] = [p for p in agreement_approval_prerequisites(agreement) if p.code == "no_signed_document"]
    assert signed.met is False and "re-sign needed" in signed.detail
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    assert "Signed against earlier terms — re-sign needed" in page
    # The approval gate refuses it like a missing signature.
    services.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=agreement,
        notified_on=timezone.localdate() - timedelta(days=1),
        reference="BSCC-10",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    services.agreement_submit(actor=cast.estate_dpo, agreement=agreement)
    services.agreement_countersign(actor=cast.estate_dpo, agreement=agreement)
    approved_dpia(cast, agreements=[agreement])
    approved_policy(cast.met_dpo)
    with pytest.raises(StateConflict) as refusal:
        services.agreement_approve(actor=cast.met_dpo, agreement=agreement)
    assert refusal.value.details == {"missing": ["no_signed_document"]}
    # Re-signed against the current terms: valid again, and approval passes.
    services.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=agreement, document=signed_pdf())
    agreement.refresh_from_db()
    assert "re-sign needed" not in client.get(reverse("agreement-detail", args=[agreement.pk])).content.decode()
    assert services.agreement_approve(actor=cast.met_dpo, agreement=agreement).status == "active"
