"""The Celery application.

Embedded default: no broker configured, so tasks run in-process (``task_always_eager``) and the
``serve`` command runs the beat schedule on a thread. Scaled out: ``CELERY_BROKER_URL`` points at
Redis and ``celery -A config worker`` / ``celery -A config beat`` run as separate processes.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("oversight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
