"""Organisation scoping of the audit log, retention and agreement parties (issue 10, findings 3-6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.access import agreement_for, audit_events_visible_to, certificates_visible_to, holds_visible_to
from governance.agreements import services as agreements
from governance.agreements.models import Agreement, AgreementStatus
from governance.audit.services import audit_chain_verify
from governance.errors import NotFound, PermissionRefused, ValidationFailed
from governance.retention.models import HoldScope
from governance.retention.services import legal_hold_place, legal_hold_release
from governance.watchlist.models import ImageStatus
from tests.conftest import agreement_terms, signed_pdf
from tests.factories import WatchlistImageFactory

pytestmark = pytest.mark.django_db


def _image(agreement, supplier, subject, category="wanted"):
    return WatchlistImageFactory(
        agreement=agreement, supplying_organisation=supplier, subject_reference=subject, custody_category=category
    )


# --- finding 3: the audit log ------------------------------------------------------------------


def test_a_dpo_reads_events_about_their_organisation_only_and_the_regulator_reads_all(client, cast, active_agreement):
    about_agreement = audit_events_visible_to(cast.estate_dpo).filter(
        target_id=str(active_agreement.pk), target_type="governance.agreement"
    )
    assert about_agreement.filter(event="agreement.approved").exists()
    assert audit_events_visible_to(cast.met_dpo).filter(pk__in=about_agreement).count() == about_agreement.count()
    assert not audit_events_visible_to(cast.other_dpo).filter(target_type="governance.agreement").exists()
    assert not audit_events_visible_to(cast.btp_dpo).filter(target_id=str(active_agreement.pk)).exists()
    from governance.audit.models import AuditEvent

    assert audit_events_visible_to(cast.regulator).count() == AuditEvent.objects.count()

    # Through the page and the CSV export too.
    client.force_login(cast.other_dpo)
    page = client.post(reverse("audit-log"), {"text": "agreement", "justification": "Monthly self-monitoring check"})
    assert "agreement.approved" not in page.content.decode()
    assert "No events match" in page.content.decode()
    csv = b"".join(
        client.post(
            reverse("audit-log"), {"justification": "Monthly self-monitoring check", "format": "csv"}
        ).streaming_content
    ).decode()
    assert "user.created" in csv and "agreement.approved" not in csv
    client.force_login(cast.estate_dpo)
    csv = b"".join(
        client.post(
            reverse("audit-log"), {"justification": "Monthly self-monitoring check", "format": "csv"}
        ).streaming_content
    ).decode()
    assert "agreement.approved" in csv
    assert audit_chain_verify().ok


# --- finding 4: retention -----------------------------------------------------------------------


def test_holds_only_on_existing_records_the_organisation_is_party_to(cast, active_agreement):
    with pytest.raises(NotFound):  # not party
        legal_hold_place(
            actor=cast.other_dpo, target=f"{HoldScope.AGREEMENT.value}:{active_agreement.pk}", reason="Litigation"
        )
    with pytest.raises(NotFound):  # does not exist
        legal_hold_place(actor=cast.estate_dpo, target=f"{HoldScope.AGREEMENT.value}:999999", reason="Litigation")
    hold = legal_hold_place(
        actor=cast.estate_dpo, target=f"{HoldScope.AGREEMENT.value}:{active_agreement.pk}", reason="Civil claim pending"
    )
    assert hold.target_label.startswith(active_agreement.reference)
    assert list(holds_visible_to(cast.camden_dpo)) == [hold]  # the other side of what is held sees it
    assert list(holds_visible_to(cast.met_dpo)) == [hold]
    assert list(holds_visible_to(cast.other_dpo)) == []
    with pytest.raises(NotFound):
        legal_hold_release(actor=cast.other_dpo, hold=hold, reason="Not mine")
    with pytest.raises(PermissionRefused):  # only the side that placed it releases it
        legal_hold_release(actor=cast.camden_dpo, hold=hold, reason="We disagree")
    legal_hold_release(actor=cast.estate_dpo, hold=hold, reason="Claim settled")


def test_the_hold_picker_offers_only_records_the_organisation_is_party_to(client, cast, active_agreement):
    client.force_login(cast.other_dpo)
    page = client.get(reverse("retention-dashboard")).content.decode()
    assert active_agreement.reference not in page
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("retention-dashboard")).content.decode()
    assert f'value="agreement:{active_agreement.pk}"' in page
    response = client.post(
        reverse("legal-hold-create"), {"target": f"agreement:{active_agreement.pk}", "reason": "Civil claim pending"}
    )
    assert response.status_code == 302
    client.force_login(cast.other_dpo)
    response = client.post(
        reverse("legal-hold-create"), {"target": f"agreement:{active_agreement.pk}", "reason": "Snooping"}
    )
    assert response.status_code == 302  # refused with a message: the choice is not offered to them
    assert holds_visible_to(cast.estate_dpo).count() == 1


def test_deletion_certificates_are_read_by_the_parties_only(client, cast, active_agreement):
    from governance import encryption
    from governance.watchlist.models import WatchlistImageContent
    from governance.watchlist.services import watchlist_image_erase

    image = _image(active_agreement, cast.camden, "MET-W-0007")
    WatchlistImageContent.objects.create(
        image=image,
        ciphertext=encryption.encrypt(b"\xff\xd8\xff stand-in"),
        key_id=encryption.key_fingerprint(),
        content_type="image/jpeg",
    )
    [certificate] = watchlist_image_erase(image=image, actor=None, reason="Test erasure", rule="withdrawal")
    assert certificates_visible_to(cast.estate_dpo).filter(pk=certificate.pk).exists()
    assert certificates_visible_to(cast.camden_dpo).filter(pk=certificate.pk).exists()
    assert not certificates_visible_to(cast.other_dpo).filter(pk=certificate.pk).exists()
    client.force_login(cast.other_dpo)
    assert client.get(reverse("deletion-certificate", args=[certificate.pk, "json"])).status_code == 404


# --- finding 5: agreement parties ---------------------------------------------------------------


def test_an_amendment_keeps_its_parties(cast, active_agreement):
    amendment = agreements.agreement_amend(actor=cast.estate_dpo, agreement=active_agreement, summary="New cap")
    with pytest.raises(ValidationFailed) as refused:
        agreements.agreement_update(
            actor=cast.estate_dpo, agreement=amendment, fields={"supplying_organisation": cast.btp}
        )
    assert refused.value.code == "amendment_keeps_parties"
    amendment.refresh_from_db()
    assert amendment.supplying_organisation == cast.camden
    with pytest.raises(NotFound):
        agreement_for(cast.btp_dpo, amendment.pk)


def test_changing_a_drafts_supplier_revokes_the_old_partys_access_at_once(cast):
    draft = agreements.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    assert agreement_for(cast.camden_dpo, draft.pk) == draft
    agreements.agreement_update(actor=cast.estate_dpo, agreement=draft, fields={"supplying_organisation": cast.btp})
    for gone in (cast.camden_dpo, cast.met_dpo):
        with pytest.raises(NotFound):
            agreement_for(gone, draft.pk)
    assert agreement_for(cast.btp_dpo, draft.pk).pk == draft.pk
    assert agreement_for(cast.regulator, draft.pk).pk == draft.pk


# --- finding 6: images under a superseded agreement ----------------------------------------------


def test_an_approved_amendment_carries_images_over_and_what_it_does_not_permit_is_erased(cast, active_agreement):
    from governance.retention.services import retention_sweep

    kept = _image(active_agreement, cast.camden, "MET-W-0010", category="wanted")
    dropped = _image(active_agreement, cast.camden, "MET-W-0011", category="charged")
    amendment = agreements.agreement_amend(
        actor=cast.estate_dpo, agreement=active_agreement, summary="Wanted people only"
    )
    agreements.agreement_update(
        actor=cast.estate_dpo, agreement=amendment, fields={"permitted_custody_categories": ["wanted"]}
    )
    agreements.agreement_record_regulator_notification(
        actor=cast.estate_dpo,
        agreement=amendment,
        notified_on=timezone.localdate(),
        reference="BSCC-A",
        notified_by="Dana Okafor",
        regulator=cast.regulator_org,
    )
    agreements.agreement_attach_signed_document(actor=cast.estate_dpo, agreement=amendment, document=signed_pdf())
    agreements.agreement_submit(actor=cast.estate_dpo, agreement=amendment)
    agreements.agreement_countersign(actor=cast.estate_dpo, agreement=amendment)
    agreements.agreement_approve(actor=cast.met_dpo, agreement=amendment)
    active_agreement.refresh_from_db()
    assert active_agreement.status == AgreementStatus.SUPERSEDED
    kept.refresh_from_db()
    dropped.refresh_from_db()
    assert kept.agreement_id == amendment.pk and dropped.agreement_id == active_agreement.pk

    from governance.watchlist.selectors import watchlist_images_matchable

    chosen = Agreement.objects.filter(pk=active_agreement.pk)  # a deployment chose the old version
    assert list(watchlist_images_matchable(chosen)) == [kept]
    # The agreement-end rule: what the amendment does not permit is due with the superseded version; what it
    # carried over is not (the per-deployment rule, recognition's, decides when the operator's copy goes).
    from governance.retention.rules import _watchlist_images_due

    later = timezone.now() + timedelta(hours=25)
    assert set(_watchlist_images_due(later)) == {dropped}
    with __import__("time_machine").travel(later, tick=False):
        retention_sweep()
    dropped.refresh_from_db()
    assert dropped.status == ImageStatus.ERASED


def test_every_agreement_state_has_a_retention_outcome():
    from governance.retention.rules import WATCHLIST_RETENTION_BY_STATE

    assert set(WATCHLIST_RETENTION_BY_STATE) == set(AgreementStatus.values)
