"""Deployment checks (``manage.py check --deploy``) for the broker and the frame store."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def frame_store_apart_from_broker(app_configs, **kwargs):
    """Frame bytes must sit in a Redis that never persists; queued tasks in a broker that does. One
    Redis cannot be both: with the frame store unset (or naming the broker), either a broker restart
    loses the queued work or frame bytes reach the disk."""
    broker = settings.CELERY_BROKER_URL
    store = settings.OVERSIGHT_FRAME_STORE_URL
    if broker.startswith(("redis://", "rediss://", "unix://")) and store in ("", broker):
        return [
            Warning(
                "OVERSIGHT_FRAME_STORE_URL is not set apart from the Redis broker.",
                hint=(
                    "Run the frame store as its own Redis without persistence (save '', appendonly no) and "
                    "the broker persistent (RabbitMQ, or Redis with appendonly yes); README, 'Broker and frame store'."
                ),
                id="deployments.W001",
            )
        ]
    return []
