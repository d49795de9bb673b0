"""Oversight's own Prometheus figures, beside django-prometheus' request metrics.

Computed when Prometheus scrapes (a custom collector), from the database and the broker, so every
web process reports the same totals and nothing is lost with a restarted worker:

* ``oversight_task_queue_depth{queue}`` — messages waiting in the broker;
* ``oversight_frames_total{outcome}`` — camera frames processed, shed, refused (hourly counters);
* ``oversight_alerts_total{status}`` — alerts by review status;
* ``oversight_retention_overdue_items{rule}`` — items past their erasure time plus the grace;
* ``oversight_retention_seconds_since_last_sweep`` — the sweep lag (NaN before the first sweep);
* ``oversight_erasure_journal_seconds_since_export`` — how long since beat last brought the erasure
  journal up to date (NaN before the first export): alert when it exceeds a few minutes, since a
  restore would bring back what was erased meanwhile (docs/operations.md).

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
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger("oversight.metrics")

QUEUES = ("celery",)


class OversightCollector:
    def describe(self):
        """Names only, so registering touches no database (prometheus_client calls this at start-up)."""
        return [
            GaugeMetricFamily("oversight_task_queue_depth", "Tasks waiting in the broker", labels=["queue"]),
            CounterMetricFamily("oversight_frames", "Camera frames by outcome", labels=["outcome"]),
            CounterMetricFamily("oversight_alerts", "Alerts raised, by review status", labels=["status"]),
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
        from django.db.models import Count, Sum
        from django.utils import timezone

        from governance.retention.models import RetentionRun, RetentionRunStatus
        from governance.retention.registry import retention_rules
        from recognition.deployments.models import Alert, FaceScanCounter

        depth = GaugeMetricFamily("oversight_task_queue_depth", "Tasks waiting in the broker", labels=["queue"])
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
            try:
                for queue in QUEUES:
                    depth.add_metric([queue], client.llen(queue))
            finally:
                client.close()
        yield depth

        totals = FaceScanCounter.objects.aggregate(
            processed=Sum("frames_processed"), shed=Sum("frames_shed"), refused=Sum("frames_refused")
        )
        frames = CounterMetricFamily("oversight_frames", "Camera frames by outcome", labels=["outcome"])
        for outcome, value in totals.items():
            frames.add_metric([outcome], value or 0)
        yield frames

        alerts = CounterMetricFamily("oversight_alerts", "Alerts raised, by review status", labels=["status"])
        for row in Alert.objects.values("status").annotate(n=Count("pk")).order_by():
            alerts.add_metric([row["status"]], row["n"])
        yield alerts

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
