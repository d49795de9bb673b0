"""Oversight's own Prometheus figures, beside django-prometheus' request metrics.

Computed when Prometheus scrapes (a custom collector), from the database and the broker, so every
web process reports the same totals and nothing is lost with a restarted worker:

* ``oversight_task_queue_depth{queue}`` — messages waiting in the broker;
* ``oversight_frames_total{outcome}`` — camera frames accepted, processed, dropped (after
  acceptance), shed and refused (at the door), from the hourly counters;
* ``oversight_frames_outstanding`` — accepted frames without a counted outcome (in flight; if it
  stays above zero, frames were lost uncounted: ``manage.py reconcile_frames``);
* ``oversight_alerts_total{status}`` — alerts by review status;
* ``oversight_retention_overdue_items{rule}`` — items past their erasure time plus the grace;
* ``oversight_retention_seconds_since_last_sweep`` — the sweep lag (NaN before the first sweep);
* ``oversight_erasure_journal_seconds_since_export`` — how long since beat last brought the erasure
  journal up to date (NaN before the first export): alert when it exceeds a few minutes, since a
  restore would bring back what was erased meanwhile (docs/operations.md).

Figures of other apps (frames, alerts: recognition's) come from *metric sources* they register
(``metric_source_register``), so governance never imports them: a source is ``describe()`` and
``collect()``, each returning prometheus_client metric families.

``/metrics`` is guarded by ``OVERSIGHT_METRICS_TOKEN`` (a bearer token); in production without one
it is not served at all. No figure names a person, an image or a camera key.
"""

from __future__ import annotations

import hmac
import logging
import math
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client.core import GaugeMetricFamily

from governance.registry import Registry

logger = logging.getLogger("oversight.metrics")

QUEUES = ("celery",)


class MetricSource:
    """Figures an app adds to ``/metrics``: ``describe()`` names its families (no database), ``collect()``
    computes them at scrape time."""

    def describe(self) -> list:
        return []

    def collect(self):
        return []


# Named by the source's class: one source of each kind (a family reported twice would break the scrape).
_SOURCES: Registry[MetricSource] = Registry("metric source")


def metric_source_register(source: MetricSource) -> MetricSource:
    kind = type(source)
    return _SOURCES.register(f"{kind.__module__}.{kind.__qualname__}", source)


class OversightCollector:
    def describe(self):
        """Names only, so registering touches no database (prometheus_client calls this at start-up)."""
        return [
            GaugeMetricFamily("oversight_task_queue_depth", "Tasks waiting in the broker", labels=["queue"]),
            *(family for source in _SOURCES.values() for family in source.describe()),
            GaugeMetricFamily(
                "oversight_retention_overdue_items", "Items past erasure time plus grace", labels=["rule"]
            ),
            GaugeMetricFamily("oversight_retention_seconds_since_last_sweep", "Seconds since the last finished sweep"),
            GaugeMetricFamily(
                "oversight_erasure_journal_seconds_since_export", "Seconds since the erasure journal was last written"
            ),
        ]

    def collect(self):
        try:
            yield from self._collect()
        except Exception as error:  # noqa: BLE001 - a scrape must not fail because one source is down
            logger.warning("Metrics collection incomplete: %s", error.__class__.__name__)

    def _collect(self):
        from django.utils import timezone

        from governance.retention.models import RetentionRun, RetentionRunStatus
        from governance.retention.registry import retention_rules

        depth = GaugeMetricFamily("oversight_task_queue_depth", "Tasks waiting in the broker", labels=["queue"])
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
            try:
                for queue in QUEUES:
                    depth.add_metric([queue], client.llen(queue))
            finally:
                client.close()
        elif settings.CELERY_BROKER_URL:
            from kombu import Connection

            try:
                with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
                    for queue in QUEUES:
                        # passive: only asks; a queue no worker has declared yet is simply not reported
                        declared = conn.channel().queue_declare(queue, passive=True)
                        depth.add_metric([queue], declared.message_count)
            except Exception as error:  # noqa: BLE001 - the other figures still matter
                logger.warning("Queue depth unavailable: %s", error.__class__.__name__)
        yield depth

        for source in _SOURCES.values():
            yield from source.collect()

        now = timezone.now()
        grace = timedelta(minutes=settings.RETENTION_OVERDUE_GRACE_MINUTES)
        overdue = GaugeMetricFamily(
            "oversight_retention_overdue_items", "Items past erasure time plus grace", labels=["rule"]
        )
        for rule in retention_rules():
            overdue.add_metric([rule.code], rule.due(now - grace).count())
        yield overdue

        last = (
            RetentionRun.objects.filter(status=RetentionRunStatus.FINISHED, dry_run=False)
            .order_by("-finished_at")
            .first()
        )
        lag = (now - last.finished_at).total_seconds() if last and last.finished_at else math.nan
        yield GaugeMetricFamily(
            "oversight_retention_seconds_since_last_sweep", "Seconds since the last finished sweep", value=lag
        )

        from django.core.cache import cache

        from governance.retention.journal import LAST_EXPORT_CACHE_KEY

        exported = cache.get(LAST_EXPORT_CACHE_KEY)
        yield GaugeMetricFamily(
            "oversight_erasure_journal_seconds_since_export",
            "Seconds since the erasure journal was last written",
            value=now.timestamp() - exported if exported else math.nan,
        )


_registered = False


def register() -> None:
    """Once per process (AppConfig.ready)."""
    global _registered
    if _registered:
        return
    from prometheus_client import REGISTRY

    REGISTRY.register(OversightCollector())
    _registered = True


def metrics_view(request):
    token = settings.OVERSIGHT_METRICS_TOKEN
    if not token and settings.PRODUCTION:
        raise Http404
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return HttpResponse("Unauthorised\n", status=401, content_type="text/plain")
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)
