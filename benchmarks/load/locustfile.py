"""Locust users for the mixed load (``python -m benchmarks.load.run`` starts Locust headless with this file).

Three kinds of client at once, against one gunicorn on loopback:

* ``PoliceUploader``: a force's API token posting distinct watchlist images with provenance and an
  ``Idempotency-Key`` (``POST /api/v1/watchlist-images/``);
* ``CameraGateway``: a camera key posting 640x480 JPEG frames (``POST /api/v1/cameras/<id>/frames/``),
  one gateway per camera; ``429 frames_shed`` is the designed answer to a camera outrunning the
  workers and is tallied apart from errors;
* ``DpoReader``: a data protection officer signed in with a password, reading the pages a DPO reads.

Bounded in count (each kind claims from a quota; when every quota is answered the run stops) and in
time (``--run-time``). The plan (tokens, keys, files, quotas) comes from the JSON file named by
``OVERSIGHT_LOAD_PLAN``; every response's status and time goes, per endpoint, to the plan's
``results`` file at the end, where the driver reads it (it does its own percentiles and accounting).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import defaultdict
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["OVERSIGHT_LOAD_PLAN"]).read_text())

_statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_times: dict[str, list[float]] = defaultdict(list)
_last_answer: dict[str, float] = {}  # when each endpoint's last response came (perf_counter)
_started_at = [0.0]  # when the test started
_accepted_uploads: list[int] = []
_claimed = {"upload": 0, "frame": 0, "read": 0}
_answered = {"upload": 0, "frame": 0, "read": 0}
_sequence = itertools.count()


def _claim(kind: str) -> int | None:
    """The next item of this kind's quota, or None when the quota is spent."""
    if _claimed[kind] >= PLAN["quota"][kind]:
        return None
    _claimed[kind] += 1
    return _claimed[kind] - 1


def _tally(kind: str, name: str, response, started: float) -> None:
    """Our own record of every response (Locust's stats fold status codes into "failures")."""
    now = time.perf_counter()
    code = str(response.status_code or "connection_error")
    _statuses[name][code] += 1
    _times[name].append((now - started) * 1000)
    _last_answer[name] = now
    _answered[kind] += 1


@events.test_start.add_listener
def _watch_quotas(environment, **kwargs):
    _started_at[0] = time.perf_counter()

    def watcher():
        while True:
            gevent.sleep(0.25)
            if all(_answered[k] >= PLAN["quota"][k] for k in _answered):
                environment.runner.quit()
                return

    gevent.spawn(watcher)


@events.quitting.add_listener
def _write_results(environment, **kwargs):
    Path(PLAN["results"]).write_text(
        json.dumps(
            {
                "statuses": {name: dict(codes) for name, codes in _statuses.items()},
                "times_ms": _times,
                # Seconds from the start of the run to each endpoint's last answer: its throughput's window.
                "window_s": {name: last - _started_at[0] for name, last in _last_answer.items()},
                "accepted_uploads": _accepted_uploads,
                "claimed": _claimed,
                "answered": _answered,
            }
        )
    )


class PoliceUploader(HttpUser):
    fixed_count = PLAN["users"]["police"]
    wait_time = between(0.05, 0.3)

    @task
    def upload(self):
        n = _claim("upload")
        if n is None:
            raise StopUser()
        image = Path(PLAN["images"][n % len(PLAN["images"])])
        fields = {
            "agreement": str(PLAN["agreement_id"]),
            "subject_reference": f"LOAD-{n:06d}",
            "custody_category": "wanted",
            "custody_reference": f"L/{n}",
            "image_taken_on": "2026-01-01",
            "legal_basis": "s35_5",
        }
        name = "POST /api/v1/watchlist-images/"
        started = time.perf_counter()
        with self.client.post(
            "/api/v1/watchlist-images/",
            data=fields,
            files={"image": (image.name, image.read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Token {PLAN['token']}", "Idempotency-Key": f"load-{n}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code == 202:  # accepted; the worker checks and enrols it (issue 26)
                _accepted_uploads.append(response.json()["id"])
                response.success()
            _tally("upload", name, response, started)


class CameraGateway(HttpUser):
    fixed_count = PLAN["users"]["cameras"]
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.camera = PLAN["cameras"][next(_sequence) % len(PLAN["cameras"])]

    @task
    def frame(self):
        n = _claim("frame")
        if n is None:
            raise StopUser()
        frame = Path(PLAN["frames"][n % len(PLAN["frames"])])
        name = "POST /api/v1/cameras/<id>/frames/"
        started = time.perf_counter()
        with self.client.post(
            f"/api/v1/cameras/{self.camera['id']}/frames/",
            files={"frame": ("frame.jpg", frame.read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Camera {self.camera['key']}"},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code in (202, 429):  # 429: shed by design (counted by the server)
                response.success()
            _tally("frame", name, response, started)


class DpoReader(HttpUser):
    fixed_count = PLAN["users"]["web"]
    wait_time = between(0.1, 0.5)
    pages = (
        "/",
        "/agreements/",
        f"/agreements/{PLAN['agreement_id']}/",
        "/watchlist/",
        "/deployments/",
        f"/deployments/{PLAN['deployment_id']}/",
        "/retention/",
    )

    def on_start(self):
        page = self.client.get("/sign-in/", name="GET /sign-in/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/sign-in/",
            data={
                "username": PLAN["dpo"]["username"],
                "password": PLAN["dpo"]["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": self.host + "/sign-in/"},
            name="POST /sign-in/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            _statuses["POST /sign-in/"][str(response.status_code)] += 1
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")

    @task
    def read(self):
        if _claim("read") is None:
            raise StopUser()
        path = random.choice(self.pages)
        name = f"GET {path}"
        started = time.perf_counter()
        # The purpose of the reading (s.62): a DPO gives it once a session on the purpose form; the load client
        # sends it as the header the API takes, which the web pages take too.
        headers = {"X-Oversight-Purpose": "Load run: the DPO's daily pages"}
        with self.client.get(path, name=name, headers=headers, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path} answered {response.status_code}")
            _tally("read", name, response, started)
