from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The inbox, the registry of clocks (each app registers its own) and the regulator's acknowledgements."""

    name = "governance.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Governance's own clocks (recognition registers its clocks in its AppConfig.ready), the regulator's
        # correspondence words in the audit log, and the inbox count beside the navigation link.
        from governance.home.registry import NavCount, nav_count_register
        from governance.notifications import clocks, regulator, tasks  # noqa: F401
        from governance.notifications.selectors import unread_count

        nav_count_register(NavCount("notification-inbox", unread_count, "unread"))
