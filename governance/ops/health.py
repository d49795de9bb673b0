"""Liveness and readiness.

``/health/live/``: the process answers (no dependency is touched: a database outage must not get
every web process restarted). ``/health/ready/``: this process can do its work — PostgreSQL answers,
the cache answers, the broker answers (when one is configured), and each check another app registers
(recognition: the frame store answers, when it is a Redis; the live backend's weights files are in
place and are the pinned bytes). 200 or 503 with one word per check, each dependency under its own
name (an outage of one is never reported as another's); never an error message, a host name or a
credential. ``dependency_outage`` tells an outage of those dependencies from a bug (the API answers 503 for the
one, 500 for the other).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance.registry import Registry

logger = logging.getLogger("oversight.health")


def dependency_outage(exception: BaseException) -> bool:
    """A database or broker that cannot be reached (not a bug in a query)."""
    if isinstance(exception, (OperationalError, InterfaceError)):
        return True
    try:
        from kombu.exceptions import OperationalError as BrokerError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exception, (BrokerError, RedisConnectionError, RedisTimeoutError))


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _broker() -> bool | None:
    url = settings.CELERY_BROKER_URL
    if not url:
        return None  # embedded default: tasks run in-process
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    from kombu import Connection  # RabbitMQ (amqp://) and any other transport Celery speaks

    with Connection(url, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return bool(conn.connected)


def _cache() -> bool:
    """The cache every process shares (rate limits, lockouts, the live backend's choice): a round trip."""
    from django.core.cache import cache

    cache.set("oversight:ready", "1", timeout=10)
    return cache.get("oversight:ready") == "1"


CHECKS: Registry[Callable[[], bool | None]] = Registry("readiness check")
CHECKS.register("database", _database)
CHECKS.register("cache", _cache)
CHECKS.register("broker", _broker)


def readiness_check_register(name: str, check: Callable[[], bool | None]) -> None:
    """Another app adds what its processes need to be ready (recognition: the live backend's weights,
    ``recognition/engine/readiness.py``). ``check`` returns True, False, or None for "not used here";
    it must answer in well under a second and raise nothing it cannot explain by its class name."""
    CHECKS.register(name, check)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            outcome = check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the kind is logged
            logger.warning("Readiness check %s failed: %s", name, error.__class__.__name__)
            outcome = False
        results[name] = "skipped" if outcome is None else ("ok" if outcome else "failing")
    ok = all(value != "failing" for value in results.values())
    return JsonResponse({"status": "ok" if ok else "failing", "checks": results}, status=200 if ok else 503)
