"""Recognition's figures on ``/metrics`` (a metric source registered with governance's collector):

* ``oversight_frames_total{outcome}`` — camera frames processed, shed, refused (hourly counters);
* ``oversight_alerts_total{status}`` — alerts by review status.

No figure names a person, an image or a camera.
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily

from governance.ops.metrics import MetricSource, metric_source_register


class RecognitionMetrics(MetricSource):
    def describe(self) -> list:
        return [
            CounterMetricFamily("oversight_frames", "Camera frames by outcome", labels=["outcome"]),
            CounterMetricFamily("oversight_alerts", "Alerts raised, by review status", labels=["status"]),
        ]

    def collect(self):
        from django.db.models import Count, Sum

        from recognition.deployments.models import Alert, FaceScanCounter

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


metric_source_register(RecognitionMetrics())
