from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    """Deployments, cameras, live matching of frames, alerts, two-person review and disclosures."""

    name = "recognition.deployments"
    label = "deployments"
    verbose_name = "Deployments and alerts"

    def ready(self) -> None:
        # retention: registers alert, review and disclosure retention rules with governance's registry.
        # dpia: describes deployments, the running weights and the engine's measured accuracy to DPIAs.
        # report_figures: recognition's figures for the reports (faces scanned, alerts, outcomes).
        # scenario: the King's Cross scenario's live deployment (governance's load_scenario runs it).
        # metrics: frames and alerts on /metrics.
        # subject_access.registration: the alert and face-template providers, the face reader and the face redactor
        # (governance.subject_access.registry).
        # checks: the frame store kept apart from the broker (check --deploy).
        # administration: the cameras section of governance's administration page.
        from governance.serving import serve_hook_register, web_warm_up_register

        # access: the deployments' predicates the pages ask by name (``may.review_alerts``, governance.access).
        from recognition.deployments import (
            access,  # noqa: F401
            administration,  # noqa: F401
            checks,  # noqa: F401
            consultation,  # noqa: F401  (who looked at an alert or a disclosure)
            dpia,  # noqa: F401
            metrics,  # noqa: F401
            report_figures,  # noqa: F401
            retention,  # noqa: F401
            scenario,  # noqa: F401
        )
        from recognition.deployments.embedded import serve_start
        from recognition.deployments.subject_access import registration  # noqa: F401
        from recognition.deployments.subject_access.probe_index import probe_index_warm

        # manage.py serve (embedded default): the engine is built and the frame worker started before requests.
        serve_hook_register("recognition.live-matching", serve_start)
        # /health/ready/ names the frame store (a Redis of its own, or the broker's) among its checks.
        from governance.ops.health import readiness_check_register
        from recognition.deployments.frames import frame_store_ready

        readiness_check_register("frame_store", frame_store_ready)
        # Every web process: the subject-access face search's decrypted probes, in the background.
        web_warm_up_register("recognition.subject-search-probes", probe_index_warm)
