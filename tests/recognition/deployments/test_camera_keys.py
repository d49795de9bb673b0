"""Camera gateway keys from the administration pages: issue, rotate, revoke; scoped to the
administrator's organisation (another operator's camera is 404) and audited."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from governance.audit.models import AuditEvent
from governance.errors import NotFound
from governance.organisations.roles import Role
from governance.organisations.services import user_create
from recognition.deployments.models import Camera
from recognition.deployments.services.cameras import camera_issue_ingest_key, camera_revoke_ingest_key
from tests.recognition.deployments.test_frames_api import small_jpeg

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def frame_status(camera: Camera, secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Camera {secret}")
    response = client.post(
        f"/api/v1/cameras/{camera.pk}/frames/",
        {"frame": SimpleUploadedFile("f.jpg", small_jpeg())},
        format="multipart",
    )
    return response.status_code


@pytest.fixture
def estate_admin(cast):
    return user_create(actor=None, username="admin.estate", organisation=cast.estate, roles=[Role.ADMIN])


@pytest.fixture
def other_admin(cast):
    return user_create(actor=None, username="admin.other", organisation=cast.other_operator, roles=[Role.ADMIN])


def new_secret(client: Client) -> str:
    page = client.get(reverse("camera-list")).content.decode()
    return page.split('id="secret-value">')[1].split("<")[0]


def test_an_administrator_issues_rotates_and_revokes_a_camera_key(cast, live_deployment, estate_admin):
    camera = live_deployment.camera
    client = signed_in(estate_admin)
    key_url = reverse("camera-key", args=[camera.pk])
    assert client.post(key_url, {"action": "issue"}).status_code == 302
    first = new_secret(client)
    assert frame_status(camera, first) == 202
    client.post(key_url, {"action": "rotate", "confirm": "yes"})  # a live camera: confirmed (below)
    second = new_secret(client)
    assert frame_status(camera, first) == 401  # the old key stops at once
    assert frame_status(camera, second) == 202
    client.post(key_url, {"action": "revoke", "reason": "Gateway replaced"})
    assert frame_status(camera, second) == 401
    camera.refresh_from_db()
    assert camera.ingest_key_prefix == "" and camera.ingest_key_digest == ""
    audited = list(
        AuditEvent.objects.filter(event__startswith="camera.key_", actor_username="admin.estate").values_list(
            "event", flat=True
        )
    )
    assert audited == ["camera.key_issued", "camera.key_rotated", "camera.key_revoked"]
    assert first not in str(list(AuditEvent.objects.values_list("details", flat=True)))
    # The administration page lists the camera through recognition's registered section.
    home = client.get(reverse("administration-home")).content.decode()
    assert "Cameras" in home and camera.name in home and "No key" in home


def test_another_operators_cameras_are_not_found(cast, live_deployment, other_admin):
    camera = live_deployment.camera
    client = signed_in(other_admin)
    assert camera.name not in client.get(reverse("camera-list")).content.decode()
    assert camera.name not in client.get(reverse("administration-home")).content.decode()
    assert client.post(reverse("camera-key", args=[camera.pk]), {"action": "issue"}).status_code == 404
    with pytest.raises(NotFound):
        camera_issue_ingest_key(actor=other_admin, camera=camera)
    with pytest.raises(NotFound):
        camera_revoke_ingest_key(actor=other_admin, camera=camera, reason="not ours")
    assert not AuditEvent.objects.filter(event__startswith="camera.key_", actor_username="admin.other").exists()


def test_roles_that_manage_no_cameras_get_403(cast, live_deployment):
    client = signed_in(cast.estate_reviewer)
    assert client.get(reverse("camera-list")).status_code == 403
    assert client.post(reverse("camera-key", args=[live_deployment.camera.pk]), {"action": "issue"}).status_code == 403


# --- a live camera's key is rotated only after a confirmation that says it cuts the camera off (issue 25) --


def _audited_rotations() -> int:
    return AuditEvent.objects.filter(event="camera.key_rotated").count()


@pytest.mark.parametrize("start", ["camera-list", "deployment-detail"])
def test_rotating_a_live_cameras_key_asks_for_confirmation_first(cast, live_deployment, start):
    camera = live_deployment.camera
    first = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    client = signed_in(cast.estate_dpo)
    if start == "camera-list":
        response = client.post(reverse("camera-key", args=[camera.pk]), {"action": "rotate"})
        back = "cameras"
    else:
        response = client.post(
            reverse("deployment-action", args=[live_deployment.pk]), {"action": "camera_key", "camera": camera.pk}
        )
        back = "deployment"
    confirm_url = f"{reverse('camera-key-confirm', args=[camera.pk])}?back={back}"
    assert response.status_code == 302 and response["Location"] == confirm_url
    assert frame_status(camera, first) == 202 and _audited_rotations() == 0  # nothing rotated yet
    page = client.get(confirm_url).content.decode()
    assert "This cuts off the running camera." in page
    assert "stops working at once, so the camera sends no frames and raises no alerts" in page
    assert 'name="confirm" value="yes"' in page and f'value="{back}"' in page
    response = client.post(
        reverse("camera-key", args=[camera.pk]), {"action": "rotate", "confirm": "yes", "back": back}
    )
    expected = reverse("camera-list") if back == "cameras" else reverse("deployment-detail", args=[live_deployment.pk])
    assert response["Location"] == expected
    assert frame_status(camera, first) == 401 and _audited_rotations() == 1
    shown = client.get(expected).content.decode()
    camera.refresh_from_db()
    assert camera.ingest_key_prefix in shown  # the new key, shown once on the page the operator came from


def test_the_service_refuses_to_cut_off_a_live_camera_unconfirmed(cast, live_deployment):
    from governance.errors import StateConflict
    from recognition.deployments import camera_keys

    camera = live_deployment.camera
    assert not camera_keys.key_issue_cuts_off_live_camera(camera)  # no key yet: issuing cuts nothing off
    camera_keys.camera_key_issue_confirmed(actor=cast.estate_dpo, camera=camera, confirmed=False)
    camera.refresh_from_db()
    assert camera_keys.key_issue_cuts_off_live_camera(camera)
    with pytest.raises(StateConflict) as refused:
        camera_keys.camera_key_issue_confirmed(actor=cast.estate_dpo, camera=camera, confirmed=False)
    assert refused.value.code == camera_keys.CONFIRMATION_REQUIRED and _audited_rotations() == 0


def test_a_camera_that_is_not_live_needs_no_confirmation(cast, planned_deployment):
    camera = planned_deployment.camera
    camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    client = signed_in(cast.estate_dpo)
    response = client.post(reverse("camera-key", args=[camera.pk]), {"action": "rotate"})
    assert response["Location"] == reverse("camera-list") and _audited_rotations() == 1
    # The confirmation page has nothing to ask: it returns to the list.
    assert client.get(reverse("camera-key-confirm", args=[camera.pk]))["Location"] == reverse("camera-list")
