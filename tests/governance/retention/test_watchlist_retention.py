"""Watchlist images go within the agreement's hours after it ends; a legal hold blocks that until it
lapses; every erasure leaves a certificate and no orphan template, content or gallery entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from governance.agreements.services import agreement_terminate
from governance.audit.services import audit_chain_verify
from governance.retention.models import HoldScope
from governance.retention.services import legal_hold_place, retention_sweep
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent
from recognition import gallery_cache, selectors
from recognition.models import FaceTemplate
from recognition.selectors import template_vector
from tests.governance.watchlist.support import camden_api, camden_submitter, upload  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.faces, pytest.mark.slow]
RULE = "watchlist_image.agreement_ended"
FACES = ["Kofi_Annan/Kofi_Annan_0001.jpg", "Salma_Hayek/Salma_Hayek_0001.jpg", "Vladimir_Putin/Vladimir_Putin_0001.jpg"]


@pytest.fixture(autouse=True)
def _fresh_galleries():
    from django.core.cache import cache

    gallery_cache.gallery_cache_clear()
    cache.delete(gallery_cache.GALLERY_VERSION_KEY)
    yield
    gallery_cache.gallery_cache_clear()


def test_images_go_within_the_set_hours_after_termination_and_holds_block_until_they_lapse(
    faces_dir,
    camden_api,
    active_agreement,
    cast,
    client,
    django_capture_on_commit_callbacks,
):
    images = []
    for index, name in enumerate(FACES):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(
                camden_api,
                active_agreement,
                (faces_dir / "dev" / name).read_bytes(),
                subject_reference=f"KX-SUBJ-{index:04d}",
            )
        assert response.status_code == 202, response.content
        images.append(WatchlistImage.objects.get(pk=response.json()["id"]))
    assert all(i.status == ImageStatus.ENROLLED for i in WatchlistImage.objects.filter(pk__in=[i.pk for i in images]))
    vectors = {t.image_id: template_vector(t) for t in FaceTemplate.objects.filter(image__in=images)}
    assert len(vectors) == 3

    agreement_terminate(actor=cast.met_dpo, agreement=active_agreement, reason="Operator ceased LFR")
    terminated_at = timezone.now()
    held_image = images[0]
    legal_hold_place(
        actor=cast.estate_dpo,
        target=f"{HoldScope.WATCHLIST_IMAGE.value}:{held_image.pk}",
        reason="Needed for a prosecution",
        until=terminated_at + timedelta(hours=48),
    )

    with time_machine.travel(terminated_at + timedelta(hours=23), tick=False):
        run = retention_sweep()
    assert run.erased_counts[RULE] == 0
    assert WatchlistImage.objects.filter(status=ImageStatus.ERASED).count() == 0

    with time_machine.travel(terminated_at + timedelta(hours=25), tick=False):
        run = retention_sweep()
    assert run.held_counts[RULE] == 1
    erased = [i for i in images if i.pk != held_image.pk]
    for image in erased:
        image.refresh_from_db()
        assert image.status == ImageStatus.ERASED
        certificates = DeletionCertificate.objects.filter(details__watchlist_image=image.pk, run_id=str(run.run_id))
        assert {c.subject_type for c in certificates} >= {"governance.watchlistimagecontent"}
        assert all(c.rule == "agreement_ended" and len(c.sha256) == 64 for c in certificates)
    assert not WatchlistImageContent.objects.filter(image__in=erased).exists()
    assert not FaceTemplate.objects.filter(image__in=erased).exists()
    held_image.refresh_from_db()
    assert held_image.status == ImageStatus.ENROLLED

    # Certificates per item and per run, as JSON and PDF.
    assert client.login(username="dpo.estate", password=cast.password)
    certificate = DeletionCertificate.objects.filter(run_id=str(run.run_id)).first()
    body = client.get(reverse("deletion-certificate", args=[certificate.pk, "json"])).json()
    assert body["what"]["sha256"] == certificate.sha256 and body["run"] == str(run.run_id)
    pdf = client.get(reverse("deletion-certificate", args=[certificate.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF-") and pdf["Content-Type"] == "application/pdf"
    # The extension is the type: a certificate "as .csv" is not served as a PDF under that name.
    assert client.get(reverse("deletion-certificate", args=[certificate.pk, "csv"])).status_code == 404
    assert client.get(reverse("retention-run-certificates", args=[run.run_id, "txt"])).status_code == 404
    run_json = client.get(reverse("retention-run-certificates", args=[run.run_id, "json"])).json()
    assert len(run_json["certificates"]) == DeletionCertificate.objects.filter(run_id=str(run.run_id)).count() >= 2
    assert client.get(reverse("retention-run-certificates", args=[run.run_id, "pdf"])).content.startswith(b"%PDF-")

    # The hold lapses: the next sweep takes the image, and nothing is erased twice.
    with time_machine.travel(terminated_at + timedelta(hours=49), tick=False):
        later = retention_sweep()
        again = retention_sweep()
    assert later.erased_counts[RULE] >= 1 and again.erased_counts[RULE] == 0
    held_image.refresh_from_db()
    assert held_image.status == ImageStatus.ERASED
    assert not FaceTemplate.objects.exists()
    # No gallery keeps an erased template.
    gallery = selectors.gallery_for_agreements([active_agreement.pk])
    for vector in vectors.values():
        ids, _ = gallery.search(vector[None, :], k=3)
        assert not set(ids.ravel().tolist()) & {i.pk for i in images}
    assert audit_chain_verify().ok
