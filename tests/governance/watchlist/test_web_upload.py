"""A force submitter's web work on the watchlist (issue 25): upload with provenance and withdrawal with a
reason, through the services the API uses — the same refusals, shown on the page with their sentence."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance.audit.models import AuditEvent
from governance.watchlist.models import (
    DeletionCertificate,
    ImageStatus,
    TransferChannel,
    WatchlistBulkUpload,
    WatchlistImage,
)
from tests.governance.watchlist.support import provenance_fields, synthetic_jpeg

pytestmark = pytest.mark.django_db


def upload(client, agreement, *, image=None, **overrides):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fields = provenance_fields(agreement, **overrides)
    if image is not False:
        fields["image"] = SimpleUploadedFile("face.jpg", image or synthetic_jpeg(1), content_type="image/jpeg")
    return client.post(reverse("watchlist-upload"), fields)


def test_a_submitter_uploads_an_image_with_its_provenance_on_the_web(client, camden_submitter, active_agreement):
    client.force_login(camden_submitter)
    page = client.get(reverse("watchlist-ledger")).content.decode()
    assert reverse("watchlist-upload") in page
    form = client.get(reverse("watchlist-upload"))
    assert form.status_code == 200 and active_agreement.reference in form.content.decode()

    response = upload(client, active_agreement)
    image = WatchlistImage.objects.get()
    assert response.status_code == 302 and response.url == reverse("watchlist-image-detail", args=[image.pk])
    assert image.transfer_channel == TransferChannel.WEB and image.submitted_by == camden_submitter
    assert image.subject_reference == "KX-SUBJ-0001" and image.status in {ImageStatus.RECEIVED, ImageStatus.ENROLLED}
    assert AuditEvent.objects.filter(event="watchlist_image.received", actor=camden_submitter).count() == 1


@pytest.mark.parametrize(
    ("overrides", "image", "code_text"),
    [
        ({}, b"GIF89a not accepted", "GIF images are not accepted"),
        ({}, b"plain text", "not a JPEG, PNG or WebP"),
        ({"custody_category": "victim"}, None, "Select a valid choice"),
        ({"image_taken_on": "2999-01-01"}, None, "cannot have been taken"),
        ({"subject_reference": ""}, None, "This field is required"),
        ({}, False, "This field is required"),
    ],
)
def test_the_web_form_shows_the_services_refusals(
    client, camden_submitter, active_agreement, overrides, image, code_text
):
    client.force_login(camden_submitter)
    response = upload(client, active_agreement, image=image, **overrides)
    body = response.content.decode()
    # The form's own errors are 400; the service's refusals keep the API's status (422 for a refused image).
    assert response.status_code in (400, 422) and code_text in body, re.findall(
        r"errorlist.{0,200}|alert error.{0,200}", body
    )
    assert not WatchlistImage.objects.exists()


def test_a_duplicate_is_refused_on_the_form(client, camden_submitter, active_agreement):
    client.force_login(camden_submitter)
    upload(client, active_agreement)
    again = upload(client, active_agreement, subject_reference="KX-SUBJ-0002")
    assert again.status_code == 409 and "already held" in again.content.decode()


def test_the_upload_page_is_for_submitters_only(client, cast, active_agreement):
    client.force_login(cast.estate_dpo)  # the operator's DPO reads the ledger but uploads nothing
    assert client.get(reverse("watchlist-upload")).status_code == 403
    assert upload(client, active_agreement).status_code == 403
    client.force_login(cast.regulator)
    assert client.get(reverse("watchlist-upload")).status_code == 403


def test_another_forces_agreement_is_not_offered_and_not_accepted(client, btp_submitter, active_agreement):
    client.force_login(btp_submitter)
    assert active_agreement.reference not in client.get(reverse("watchlist-upload")).content.decode()
    response = upload(client, active_agreement)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not WatchlistImage.objects.exists()


def test_a_submitter_withdraws_an_image_with_a_reason(client, camden_submitter, btp_submitter, active_agreement):
    client.force_login(camden_submitter)
    upload(client, active_agreement)
    image = WatchlistImage.objects.get()
    detail = reverse("watchlist-image-detail", args=[image.pk])
    withdraw = reverse("watchlist-image-withdraw", args=[image.pk])
    assert withdraw in client.get(detail).content.decode()

    refused = client.post(withdraw, {"reason": "  "}, follow=True)
    assert "Give a reason for the withdrawal" in refused.content.decode()
    image.refresh_from_db()
    assert image.status != ImageStatus.ERASED

    client.force_login(btp_submitter)  # another force: the image does not exist for it
    assert client.post(withdraw, {"reason": "Not ours to withdraw."}).status_code == 404

    client.force_login(camden_submitter)
    done = client.post(withdraw, {"reason": "Warrant executed; no longer wanted."}, follow=True)
    image.refresh_from_db()
    assert image.status == ImageStatus.ERASED and image.withdrawal_reason == "Warrant executed; no longer wanted."
    page = done.content.decode()
    assert "withdrawn" in page and withdraw not in page  # no second withdrawal offered
    assert DeletionCertificate.objects.filter(details__watchlist_image=image.pk).exists()
    again = client.post(withdraw, {"reason": "Warrant executed; no longer wanted."}, follow=True)
    assert "already been withdrawn" in again.content.decode()


def test_the_operator_sees_the_image_but_is_not_offered_withdrawal(client, cast, camden_submitter, active_agreement):
    client.force_login(camden_submitter)
    upload(client, active_agreement)
    image = WatchlistImage.objects.get()
    client.force_login(cast.estate_dpo)
    asked = client.get(reverse("watchlist-image-detail", args=[image.pk]))  # another party's image: says why first
    page = client.post(asked["Location"], {"purpose": "Checking provenance for the DPIA review"}, follow=True)
    assert page.status_code == 200 and "withdraw-form" not in page.content.decode()
    assert client.post(reverse("watchlist-image-withdraw", args=[image.pk]), {"reason": "Not ours."}).status_code == 403


def test_a_submitter_uploads_several_images_and_gets_a_result_per_file(client, camden_submitter, active_agreement):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(camden_submitter)
    assert client.get(reverse("watchlist-bulk-upload")).status_code == 200
    fields = provenance_fields(active_agreement)
    del fields["subject_reference"], fields["custody_reference"]
    fields["images"] = [
        SimpleUploadedFile("one.jpg", synthetic_jpeg(11), content_type="image/jpeg"),
        SimpleUploadedFile("two.gif", b"GIF89a not accepted", content_type="image/gif"),
        SimpleUploadedFile("three.jpg", synthetic_jpeg(13), content_type="image/jpeg"),
        SimpleUploadedFile("four.jpg", synthetic_jpeg(14), content_type="image/jpeg"),
    ]
    fields["manifest"] = (
        "one.jpg, KX-SUBJ-0101, CUST/1/101\ntwo.gif, KX-SUBJ-0102, CUST/1/102\nthree.jpg, KX-SUBJ-0103, CUST/1/103\n"
    )
    response = client.post(reverse("watchlist-bulk-upload"), fields)
    bulk = WatchlistBulkUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse("watchlist-bulk-upload-detail", args=[bulk.pk])
    body = client.get(response.url).content.decode()
    assert "2 received, 2 refused, 2 still checking" in body
    assert "GIF images are not accepted" in body and "No manifest line names four.jpg" in body
    images = WatchlistImage.objects.order_by("subject_reference")
    assert [(i.subject_reference, i.custody_reference, i.transfer_channel) for i in images] == [
        ("KX-SUBJ-0101", "CUST/1/101", TransferChannel.WEB),
        ("KX-SUBJ-0103", "CUST/1/103", TransferChannel.WEB),
    ]
    for image in images:
        assert reverse("watchlist-image-detail", args=[image.pk]) in body

    fields["manifest"] = "one.jpg; KX-SUBJ-0101"
    bad = client.post(reverse("watchlist-bulk-upload"), fields)
    assert bad.status_code == 400 and "Line 1: give the file name" in bad.content.decode()
