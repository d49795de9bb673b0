from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    """Deployments, cameras, live matching of frames, alerts, two-person review and disclosures."""

    name = "recognition.deployments"
    label = "deployments"
    verbose_name = "Deployments and alerts"

    def ready(self) -> None:
        # Registers alert, review and disclosure retention rules and the report figures with governance's registries.
        from recognition.deployments import report_figures, retention  # noqa: F401
