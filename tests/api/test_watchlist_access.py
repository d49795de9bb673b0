"""Who sees what: own images, force over its units, other forces 404, operator and regulator metadata only;
reading bytes needs a justification and is audited; withdrawal erases and certifies."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from rest_framework.test import APIClient

from governance.audit.models import AuditEvent
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent
from tests.governance.watchlist.support import (
    error_code,
    provenance_fields,
    synthetic_jpeg,
    token_client,
    upload,
    worker_check,
)

pytestmark = pytest.mark.django_db

JUSTIFY = {"HTTP_X_JUSTIFICATION": "Verifying the image before the deployment briefing."}


@pytest.fixture
def image_id(camden_api, active_agreement):
    response = upload(camden_api, active_agreement, seed=21)
    assert response.status_code == 202
    assert worker_check(response.json()["id"]) == "clean"  # the worker's decode (the test's transaction never commits)
    return response.json()["id"]


def _session(user) -> APIClient:
    """Signed in as an operator's or the regulator's user, reading a force's images: they say why (s.62)."""
    api = APIClient(HTTP_X_OVERSIGHT_PURPOSE="Oversight of the watchlist")
    api.force_authenticate(user)
    return api


def test_own_list_and_detail(camden_api, image_id):
    listing = camden_api.get("/api/v1/watchlist-images/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [image_id]
    detail = camden_api.get(f"/api/v1/watchlist-images/{image_id}/")
    assert detail.status_code == 200 and detail.json()["deletion_certificates"] == []


def test_another_forces_image_is_404(btp_api, image_id):
    assert btp_api.get("/api/v1/watchlist-images/").json()["results"] == []
    for response in (
        btp_api.get(f"/api/v1/watchlist-images/{image_id}/"),
        btp_api.get(f"/api/v1/watchlist-images/{image_id}/image/", **JUSTIFY),
        btp_api.delete(f"/api/v1/watchlist-images/{image_id}/", HTTP_X_REASON="not ours"),
    ):
        assert response.status_code == 404, response.content
    assert WatchlistImage.objects.get(pk=image_id).status == ImageStatus.RECEIVED


def test_force_sees_and_manages_its_units_images(met_api, image_id):
    assert [r["id"] for r in met_api.get("/api/v1/watchlist-images/").json()["results"]] == [image_id]
    assert met_api.get(f"/api/v1/watchlist-images/{image_id}/image/", **JUSTIFY).status_code == 200
    assert met_api.delete(f"/api/v1/watchlist-images/{image_id}/", HTTP_X_REASON="Force review").status_code == 200


def test_unit_does_not_see_a_sibling_units_images(cast, image_id):
    from governance.organisations.models import OrganisationKind
    from governance.organisations.services import organisation_create
    from tests.governance.watchlist.support import make_submitter

    hackney = organisation_create(
        actor=None, name="Met Hackney BCU", short_name="met-hackney", kind=OrganisationKind.POLICE_UNIT, parent=cast.met
    )
    sibling = token_client(make_submitter(cast, hackney, "api.hackney"))
    assert sibling.get("/api/v1/watchlist-images/").json()["results"] == []
    assert sibling.get(f"/api/v1/watchlist-images/{image_id}/").status_code == 404


@pytest.mark.parametrize("who", ["estate_dpo", "regulator"])
def test_operator_and_regulator_see_metadata_never_bytes(cast, image_id, who):
    api = _session(getattr(cast, who))
    assert api.get(f"/api/v1/watchlist-images/{image_id}/").status_code == 200
    response = api.get(f"/api/v1/watchlist-images/{image_id}/image/", **JUSTIFY)
    assert response.status_code == 403 and error_code(response) == "bytes_not_permitted"
    withdraw = api.delete(f"/api/v1/watchlist-images/{image_id}/", HTTP_X_REASON="nope")
    assert withdraw.status_code == 403


def test_other_operator_sees_nothing(cast, image_id):
    api = _session(cast.other_dpo)
    assert api.get(f"/api/v1/watchlist-images/{image_id}/").status_code == 404


def test_reading_bytes_requires_justification_and_is_audited(camden_api, image_id):
    refused = camden_api.get(f"/api/v1/watchlist-images/{image_id}/image/")
    assert refused.status_code == 400 and error_code(refused) == "justification_required"
    assert not AuditEvent.objects.filter(event="watchlist_image.bytes_read").exists()
    response = camden_api.get(
        f"/api/v1/watchlist-images/{image_id}/image/", HTTP_X_JUSTIFICATION="Briefing for operation Kestrel"
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(event="watchlist_image.bytes_read")
    assert event.action == "consultation" and event.justification == "Briefing for operation Kestrel"
    assert event.target_id == str(image_id) and event.actor_username == "api.camden"


def test_withdrawal_erases_bytes_with_certificate_and_audit(camden_api, image_id):
    missing_reason = camden_api.delete(f"/api/v1/watchlist-images/{image_id}/")
    assert missing_reason.status_code == 400 and error_code(missing_reason) == "reason_required"
    image = WatchlistImage.objects.get(pk=image_id)
    response = camden_api.delete(
        f"/api/v1/watchlist-images/{image_id}/", {"reason": "Subject no longer wanted"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "erased" and body["withdrawal_reason"] == "Subject no longer wanted"
    assert not WatchlistImageContent.objects.filter(image_id=image_id).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {WatchlistImageContent._meta.db_table} WHERE image_id = %s", [image_id])
        assert cursor.fetchone()[0] == 0
    certificate = DeletionCertificate.objects.get(subject_type="governance.watchlistimagecontent")
    assert certificate.sha256 == image.stored_sha256 and certificate.rule == "withdrawal"
    assert certificate.erased_by_name == "api.camden" and certificate.reason == "Subject no longer wanted"
    assert body["deletion_certificates"][0]["sha256"] == image.stored_sha256
    events = list(
        AuditEvent.objects.filter(target_type="governance.watchlistimage", target_id=str(image_id)).values_list(
            "action", "event"
        )
    )
    assert events == [
        ("collection", "watchlist_image.received"),
        ("disclosure", "watchlist_image.disclosed_to_operator"),  # the force's side of the supply
        ("alteration", "watchlist_image.cleaned"),  # the worker's decode: the bytes as sent replaced by clean ones
        ("alteration", "watchlist_image.withdrawn"),
        ("erasure", "watchlist_image.erased"),
    ]
    gone = camden_api.get(f"/api/v1/watchlist-images/{image_id}/image/", **JUSTIFY)
    assert gone.status_code == 410 and error_code(gone) == "image_erased"
    again = camden_api.delete(f"/api/v1/watchlist-images/{image_id}/", HTTP_X_REASON="again")
    assert again.status_code == 409 and error_code(again) == "already_withdrawn"


def test_list_filters(camden_api, active_agreement, image_id):
    assert camden_api.get("/api/v1/watchlist-images/?status=erased").json()["results"] == []
    assert (
        len(
            camden_api.get(f"/api/v1/watchlist-images/?agreement={active_agreement.pk}&status=received").json()[
                "results"
            ]
        )
        == 1
    )
    assert camden_api.get("/api/v1/watchlist-images/?status=bogus").status_code == 400


# --- idempotency -----------------------------------------------------------------------------------


def test_idempotent_retry_returns_the_same_result_once(camden_api, active_agreement):
    key = {"HTTP_IDEMPOTENCY_KEY": "upload-2026-0001"}
    first = upload(camden_api, active_agreement, seed=31, headers=key)
    second = upload(camden_api, active_agreement, seed=31, headers=key)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert WatchlistImage.objects.count() == 1
    assert AuditEvent.objects.filter(event="watchlist_image.received").count() == 1


def test_same_key_different_body_refused(camden_api, active_agreement):
    key = {"HTTP_IDEMPOTENCY_KEY": "upload-2026-0002"}
    assert upload(camden_api, active_agreement, seed=32, headers=key).status_code == 202
    other_image = upload(camden_api, active_agreement, seed=33, headers=key)
    assert other_image.status_code == 422 and error_code(other_image) == "idempotency_key_reused"
    other_field = upload(camden_api, active_agreement, seed=32, headers=key, subject_reference="DIFFERENT")
    assert other_field.status_code == 422
    assert WatchlistImage.objects.count() == 1


def test_refusal_is_not_stored_so_a_fixed_retry_succeeds(camden_api, active_agreement):
    key = {"HTTP_IDEMPOTENCY_KEY": "upload-2026-0003"}
    assert upload(camden_api, active_agreement, seed=34, headers=key, custody_category="missing").status_code == 422
    assert upload(camden_api, active_agreement, seed=34, headers=key).status_code == 202


def test_keys_are_scoped_to_the_token(cast, camden_submitter, camden_api, active_agreement):
    other_token = token_client(camden_submitter)
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    assert upload(camden_api, active_agreement, seed=35, headers=key).status_code == 202
    response = upload(other_token, active_agreement, seed=36, headers=key)
    assert response.status_code == 202 and "Idempotent-Replayed" not in response


# --- bulk ------------------------------------------------------------------------------------------


def _item(agreement, seed, **overrides):
    item = provenance_fields(agreement, subject_reference=f"BULK-{seed}", **overrides)
    item["image_base64"] = base64.b64encode(synthetic_jpeg(seed)).decode()
    return item


def test_bulk_each_item_on_its_own(camden_api, active_agreement):
    items = [
        _item(active_agreement, 41),
        _item(active_agreement, 42, custody_category="missing"),
        {**_item(active_agreement, 43), "image_base64": base64.b64encode(b"not an image").decode()},
        _item(active_agreement, 41),  # duplicate of the first
        {"agreement": active_agreement.pk},
        _item(active_agreement, 44),
    ]
    response = camden_api.post("/api/v1/watchlist-images/bulk/", {"items": items}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 2 and body["refused"] == 4
    codes = [r["error"]["code"] if r["error"] else None for r in body["results"]]
    assert codes == [None, "category_not_permitted", "not_an_image", "duplicate_image", "missing_provenance", None]
    assert WatchlistImage.objects.count() == 2


def test_bulk_idempotent(camden_api, active_agreement):
    key = {"HTTP_IDEMPOTENCY_KEY": "bulk-1"}
    payload = {"items": [_item(active_agreement, 51), _item(active_agreement, 52)]}
    first = camden_api.post("/api/v1/watchlist-images/bulk/", payload, format="json", **key)
    second = camden_api.post("/api/v1/watchlist-images/bulk/", payload, format="json", **key)
    assert first.json() == second.json() and WatchlistImage.objects.count() == 2


def test_bulk_limits(camden_api, active_agreement, settings):
    settings.OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS = 1
    payload = {"items": [_item(active_agreement, 53), _item(active_agreement, 54)]}
    response = camden_api.post("/api/v1/watchlist-images/bulk/", payload, format="json")
    assert response.status_code == 400 and error_code(response) == "too_many_items"
    assert camden_api.post("/api/v1/watchlist-images/bulk/", {"items": []}, format="json").status_code == 400
