"""Recognition's figures on ``/metrics`` (a metric source registered with governance's collector):

* ``oversight_frames_total{outcome}`` — camera frames accepted, processed, dropped, shed, refused (hourly counters);
* ``oversight_frames_outstanding`` — accepted frames not yet processed or dropped;
* ``oversight_alerts_total{status}`` — alerts by review status.

No figure names a person, an image or a camera.
"""

from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from governance.ops.metrics import MetricSource, metric_source_register


class RecognitionMetrics(MetricSource):
    def describe(self) -> list:
        return [
            CounterMetricFamily("oversight_frames", "Camera frames by outcome", labels=["outcome"]),
            GaugeMetricFamily("oversight_frames_outstanding", "Accepted frames not yet processed or dropped"),
            CounterMetricFamily("oversight_alerts", "Alerts raised, by review status", labels=["status"]),
        ]

    def collect(self):
        from django.db.models import Count, Sum

        from recognition.deployments.models import Alert, FaceScanCounter

        totals = {
            k: v or 0
            for k, v in FaceScanCounter.objects.aggregate(
                accepted=Sum("frames_accepted"),
                processed=Sum("frames_processed"),
                dropped=Sum("frames_dropped"),
                shed=Sum("frames_shed"),
                refused=Sum("frames_refused"),
            ).items()
        }
        frames = CounterMetricFamily("oversight_frames", "Camera frames by outcome", labels=["outcome"])
        for outcome, value in totals.items():
            frames.add_metric([outcome], value)
        yield frames
        # Accepted frames without a counted outcome yet: in flight (seconds), or lost if it stays up.
        yield GaugeMetricFamily(
            "oversight_frames_outstanding",
            "Accepted frames not yet processed or dropped",
            value=totals["accepted"] - totals["processed"] - totals["dropped"],
        )

        alerts = CounterMetricFamily("oversight_alerts", "Alerts raised, by review status", labels=["status"])
        for row in Alert.objects.values("status").annotate(n=Count("pk")).order_by():
            alerts.add_metric([row["status"]], row["n"])
        yield alerts


metric_source_register(RecognitionMetrics())
