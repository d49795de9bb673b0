from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init

        # Registers recognition's watchlist-image handlers (enrol on upload, erase templates on
        # withdrawal) with governance's registry.
        from recognition import image_handler  # noqa: F401

        # Its panels on the role homes (alerts waiting, disclosures awaiting an outcome) and the
        # review queue's count in the navigation (governance.home.registry); its clocks in governance's
        # notification registry (outcomes overdue, authorisations and watchlist reviews waiting).
        from recognition.deployments import audit_words, home, notices  # noqa: F401

        worker_process_init.connect(_load_engine_in_worker_process, weak=False)
        worker_init.connect(_load_engine_in_thread_pool_worker, weak=False)

        from governance.ops.health import readiness_check_register
        from recognition.engine.readiness import live_weights_ready

        readiness_check_register("weights", live_weights_ready)


def _load_engine_in_worker_process(**kwargs) -> None:
    """Load the face engine once per Celery worker process, after the fork (torch state is not
    fork-safe, and the web process must never pay for it at import time). A worker whose weights
    are missing or fail verification stops here, loudly, instead of matching with anything else."""
    from recognition.selectors import live_engine

    live_engine()


def _load_engine_in_thread_pool_worker(sender=None, **kwargs) -> None:
    """A worker on Celery's threads pool (``make gpu-worker``: one process, many task threads sharing one engine and
    its live batcher) sends no ``worker_process_init``: load the engine when it starts instead. Never in a prefork
    worker's parent, which forks its children after this signal."""
    pool = getattr(sender, "pool_cls", "")
    module = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if module in ("threads", "thread") or module.endswith(".thread"):
        _load_engine_in_worker_process()
