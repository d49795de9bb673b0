from django.apps import AppConfig


class RetentionConfig(AppConfig):
    """Retention enforcement: rules registered by each kind of personal data, legal holds, sweeps."""

    name = "governance.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from governance.retention import journal, rules  # noqa: F401  (registers governance's own rules and erasure kinds)
