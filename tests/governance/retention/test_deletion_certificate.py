"""A deletion certificate a person would accept as evidence (issue 25): the issuer (organisation and
its DPO), what was deleted, when, under which rule (name and legal source), how late, and the audit
event that recorded it. Hand count: withdrawn 3 days ago, the agreement allows 24 hours, erased now →
due 2 days ago, late by 2 days."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from governance.retention.certificate import certificate_evidence
from governance.watchlist.models import DeletionCertificate
from governance.watchlist.services import watchlist_image_erase
from tests.factories import WatchlistImageFactory

pytestmark = pytest.mark.django_db


def held_image(cast, agreement, **fields):
    """An image row with stored bytes (ciphertext stand-in): what erasure certifies."""
    from governance.watchlist.models import WatchlistImageContent

    image = WatchlistImageFactory(agreement=agreement, supplying_organisation=cast.camden, **fields)
    WatchlistImageContent.objects.create(image=image, ciphertext=b"x" * 32, key_id="test", content_type="image/jpeg")
    return image


def test_the_certificate_names_issuer_rule_source_lateness_and_audit_event(
    cast, active_agreement, client, artifacts_dir
):
    image = held_image(cast, active_agreement, subject_reference="MET-W-9")
    image.withdrawn_at = timezone.now() - timedelta(days=3)
    image.save(update_fields=["withdrawn_at"])
    certificates = watchlist_image_erase(image=image, actor=None, reason="Withdrawn by Camden.", rule="withdrawal")
    assert certificates
    evidence = certificate_evidence(certificates[0])
    assert evidence.issuer == cast.estate  # the operator held the copy and erased it
    assert evidence.rule_name == "Image withdrawn by the supplying force"
    assert "DPA 2018 s.39" in evidence.legal_source
    assert evidence.late_by == "2 days"
    event = AuditEvent.objects.get(event="watchlist_image.erased")
    assert evidence.audit_event == event

    client.force_login(cast.estate_dpo)
    pdf = client.get(reverse("deletion-certificate", args=[certificates[0].pk, "pdf"]))
    assert pdf.status_code == 200
    path = artifacts_dir / "deletion-certificate.pdf"
    path.write_bytes(pdf.content)
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(artifacts_dir / "deletion-certificate")], check=True)
    assert f"Issued by {cast.estate.name}, through its Data Protection Officer" in text
    assert "Image withdrawn by the supplying force" in text and "late by 2 days" in text
    assert f"Event no. {event.sequence} of the audit log" in text
    assert f"Certificate of deletion no. {certificates[0].pk}" in text
    # Nobody erased it by hand: the sweep did, under the rule named, never "system".
    assert "By Retention sweep under rule Image withdrawn by the supplying force" in text
    assert "system" not in text


def test_who_erased_it_is_the_person_or_the_sweep_and_its_rule_on_every_view_of_the_certificate(
    cast, active_agreement, client
):
    swept = held_image(cast, active_agreement)
    (by_sweep, *_) = watchlist_image_erase(image=swept, actor=None, reason="Agreement ended.", rule="agreement_ended")
    assert by_sweep.erased_by_name == "system"  # what the service stores; the certificate words it
    by_hand = held_image(cast, active_agreement)
    (by_person, *_) = watchlist_image_erase(image=by_hand, actor=cast.camden_dpo, reason="Erased.", rule="withdrawal")
    sweep_words = "Retention sweep under rule Watchlist images after their agreement ends"
    assert certificate_evidence(by_sweep).erased_by == sweep_words
    assert certificate_evidence(by_person).erased_by == by_person.erased_by_name != ""
    client.force_login(cast.estate_dpo)
    assert client.get(reverse("deletion-certificate", args=[by_sweep.pk, "json"])).json()["by"] == sweep_words
    person = client.get(reverse("deletion-certificate", args=[by_person.pk, "json"])).json()["by"]
    assert person == by_person.erased_by_name
    page = client.get(reverse("retention-dashboard")).content.decode()
    assert sweep_words in page and f'<td class="small">{person}</td>' in page and ">system<" not in page
    # The image's own page words its certificate the same way (its supplier's DPO reads it there; the factory's row
    # gets the supplier's read permission an upload would have given).
    assign_perm("governance.view_watchlistimage", cast.camden.access_group, swept)
    client.force_login(cast.camden_dpo)
    image_page = client.get(
        reverse("watchlist-image-detail", args=[swept.pk]), HTTP_X_OVERSIGHT_PURPOSE="Checking the image was erased."
    ).content.decode()
    assert f"by {sweep_words}" in image_page and "by system" not in image_page


def test_a_certificate_on_time_says_so(cast, active_agreement):
    image = held_image(cast, active_agreement)
    image.withdrawn_at = timezone.now() - timedelta(hours=2)
    image.save(update_fields=["withdrawn_at"])
    (certificate, *_) = watchlist_image_erase(image=image, actor=None, reason="Withdrawn.", rule="withdrawal")
    evidence = certificate_evidence(DeletionCertificate.objects.get(pk=certificate.pk))
    assert evidence.due_at is not None and evidence.late_by == ""
