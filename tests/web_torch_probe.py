"""Run only by ``tests/test_web_never_imports_torch.py``, in a fresh interpreter (its file name keeps the suite from
collecting it): the web stack as a scaled-out web process runs it — ``config.wsgi``, every URL module and view
module the resolver names, and a request of each page kind (every route without parameters, anonymous and signed in
as each role; a deployment's pages; the camera frame door; readiness; metrics) with tasks going to a broker (kombu's
in-memory transport) — and ``torch`` must not be imported. The first import of torch is caught with its stack."""

from __future__ import annotations

import importlib
import sys
import traceback

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    live_deployment,
    planned_deployment,
)
from tests.recognition.deployments.test_frames_api import camera_client, post_frame, small_jpeg

pytestmark = pytest.mark.django_db

FIRST_TORCH_IMPORT: list[str] = []


class _TorchWatch:
    """A meta-path finder that finds nothing: it only records the stack of the first ``import torch``."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if (name == "torch" or name.startswith("torch.")) and not FIRST_TORCH_IMPORT:
            FIRST_TORCH_IMPORT.append("".join(traceback.format_stack(limit=25)))
        return None


sys.meta_path.insert(0, _TorchWatch())


def _routes():
    found: list[tuple[URLPattern, str]] = []
    modules: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if isinstance(pattern.urlconf_name, str):
                    modules.add(pattern.urlconf_name)
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                modules.add(pattern.lookup_str.rsplit(".", 1)[0])
                found.append((pattern, prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "")
    return found, modules


def test_the_web_stack_never_imports_torch(cast, live_deployment, client, settings):
    from config.celery import app

    assert "torch" not in sys.modules, FIRST_TORCH_IMPORT[:1]  # the fixtures themselves
    import config.wsgi  # noqa: F401

    routes, modules = _routes()
    for module in sorted(modules):
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # a view's lookup string that is an attribute of a class, not a module
    assert "torch" not in sys.modules, FIRST_TORCH_IMPORT[0]

    # Scaled out: tasks are published to a broker, never run in the web process.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = (app.conf.task_always_eager, app.conf.broker_write_url, app._pool, app.amqp._producer_pool)
    app.conf.task_always_eager, app.conf.broker_write_url = False, "memory://"
    app._pool = app.amqp._producer_pool = None
    settings.OVERSIGHT_METRICS_TOKEN = "probe"
    try:
        plain = [path for pattern, path in routes if "<" not in path and "(?P" not in path and "admin" not in path]
        users = [None, cast.estate_dpo, cast.estate_reviewer, cast.camden_dpo, cast.btp_dpo, cast.regulator]
        deployment = live_deployment
        for user in users:
            if user is None:
                client.logout()
            else:
                client.force_login(user)
            for path in plain:
                client.get("/" + path.lstrip("^").rstrip("$"))
            client.get(f"/deployments/{deployment.pk}/")
        client.get("/health/ready/")
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer probe")
        camera = deployment.camera
        assert post_frame(camera_client(cast, camera), camera, small_jpeg()).status_code == 202
    finally:
        app.conf.task_always_eager, app.conf.broker_write_url, app._pool, app.amqp._producer_pool = saved
    assert "torch" not in sys.modules, FIRST_TORCH_IMPORT[0]
