"""What Oversight writes to its logs while people sign in (and fail), police upload, read and withdraw
through the API, cameras post frames (processed in-process: the frame task's logs too), wrong tokens,
keys and scrape tokens are refused, the erasure journal is exported and replayed, and administrators
invite people (the link opened again once spent) and issue tokens: never a password, a TOTP key or
code, an API token, camera key, metrics token or invitation link, image bytes, a justification or a
reason."""

from __future__ import annotations

import base64
import logging
import re

import pytest
from django.urls import reverse

from tests.governance.signin.totp import totp_code
from tests.governance.watchlist.support import synthetic_jpeg, token_client, upload, worker_check
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures
from tests.recognition.deployments.test_frames_api import post_frame, small_jpeg

pytestmark = pytest.mark.django_db


def test_logs_hold_no_secret_and_no_biometric_data(
    client, cast, settings, caplog, live_deployment, active_agreement, tmp_path
):  # noqa: F811
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create
    from recognition.deployments.services.cameras import camera_issue_ingest_key

    caplog.set_level(logging.DEBUG)
    settings.OVERSIGHT_REQUIRE_SECOND_FACTOR = True
    secrets_seen: list[str] = [cast.password, "wrong-password-for-log-test"]

    # Sign-in: a failure, a success with enrolment, a wrong code.
    client.post(reverse("login"), {"username": cast.estate_dpo.username, "password": "wrong-password-for-log-test"})
    client.post(reverse("login"), {"username": cast.estate_dpo.username, "password": cast.password})
    page = client.get(reverse("second-factor-setup")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    code = totp_code(secret)
    codes_page = client.post(reverse("second-factor-setup"), {"token": code}).content.decode()
    recovery = re.findall(r"<li>([a-z0-9]+)</li>", codes_page)
    secrets_seen += [secret, code, *recovery]

    # The police API: an upload, a read with a justification, a refused query-string justification.
    submitter = user_create(
        actor=None,
        username="api.camden.logs",
        organisation=cast.camden,
        roles=[Role.FORCE_SUBMITTER],
        password=cast.password,
    )
    api = token_client(submitter)
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    image = synthetic_jpeg(seed=77)
    created = upload(api, active_agreement, image)
    assert created.status_code == 202, created.content
    assert worker_check(created.json()["id"]) == "clean"  # the worker's decode (the test's transaction never commits)
    justification = "Briefing on the subject for operation Heron"
    assert (
        api.get(
            f"/api/v1/watchlist-images/{created.json()['id']}/image/", HTTP_X_JUSTIFICATION=justification
        ).status_code
        == 200
    )
    assert (
        api.get(f"/api/v1/watchlist-images/1/image/?justification={justification.replace(' ', '+')}").status_code == 400
    )
    secrets_seen += [token, justification]

    # A camera posting a frame.
    camera = live_deployment.camera
    camera_key = camera_issue_ingest_key(actor=cast.estate_dpo, camera=camera)
    from rest_framework.test import APIClient

    camera_client = APIClient()
    camera_client.credentials(HTTP_AUTHORIZATION=f"Camera {camera_key}")
    frame = small_jpeg()
    assert post_frame(camera_client, camera, frame).status_code == 202
    secrets_seen.append(camera_key)

    # Refusals: a wrong API token, a wrong camera key, a wrong metrics token (each a secret-shaped string).
    from rest_framework.test import APIClient as _Client

    wrong_token, wrong_key, wrong_scrape = "a" * 40 + "wrongtokenvalue", "cam_" + "Z" * 43, "scrape-secret-guess"
    settings.OVERSIGHT_METRICS_TOKEN = "scrape-secret-real"
    stranger = _Client()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {wrong_token}")
    assert stranger.get("/api/v1/watchlist-images/").status_code in (401, 403)
    stranger.credentials(HTTP_AUTHORIZATION=f"Camera {wrong_key}")
    assert post_frame(stranger, camera, frame).status_code in (401, 403)
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {wrong_scrape}").status_code == 401
    secrets_seen += [wrong_token, wrong_key, wrong_scrape, "scrape-secret-real"]

    # Withdrawal (the reason goes to the certificate, not the log), then the erasure journal's export
    # and a replay (what an operator runs after a restore).
    reason = "Withdrawn: informant safety concern Heron-7"
    assert api.delete(f"/api/v1/watchlist-images/{created.json()['id']}/", HTTP_X_REASON=reason).status_code == 200
    secrets_seen.append(reason)
    settings.OVERSIGHT_ERASURE_JOURNAL = str(tmp_path / "erasure-journal.jsonl")
    from django.core.management import call_command

    call_command("export_erasure_journal")
    call_command("reapply_erasures", no_sweep=True)
    journal = (tmp_path / "erasure-journal.jsonl").read_text()
    assert "watchlist_image.erased" in journal
    # The journal lives outside the database: it holds ids and digests, no reason, label or reference.
    for value in (reason, created.json()["subject_reference"], image.hex()[:64]):
        assert value not in journal

    # Administration: an invitation opened and accepted (a first password), a token issued by an administrator.
    from django.test import Client

    from governance.administration.services import user_invite
    from governance.api.tokens import api_token_issue

    administrator = user_create(actor=None, username="admin.met.logs", organisation=cast.met, roles=[Role.ADMIN])
    invitee, invitation = user_invite(
        actor=administrator, organisation=cast.camden, username="invitee.logs", roles=[Role.DPO]
    )
    invitee_client = Client()
    invitee_client.get(reverse("invitation-accept", args=[invitation]))
    first_password = "first-password-for-the-log-test-3"
    invitee_client.post(
        reverse("invitation-accept", args=["set-password"]),
        {"password": first_password, "password_again": first_password},
    )
    invitee.refresh_from_db()
    assert invitee.check_password(first_password)
    admin_token = api_token_issue(actor=administrator, organisation=cast.camden, user=submitter)[1]
    secrets_seen += [invitation, first_password, admin_token]
    # A spent link opened again: a 404, whose path (the secret) the request log must not keep.
    assert invitee_client.get(reverse("invitation-accept", args=[invitation])).status_code == 404

    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret_value in secrets_seen:
        assert secret_value not in text, f"a secret reached the logs: {secret_value[:4]}…"
    for data in (image, frame):
        assert base64.b64encode(data[:48]).decode()[:40] not in text
        assert data[:48].hex() not in text
