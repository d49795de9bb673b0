from django.conf import settings


class _NavCounts:
    """Counts beside navigation links (``governance.home.registry.NavCount``), computed only for the
    links a page shows: ``{{ nav_counts.review_queue }}`` (the URL name, ``-`` written ``_``)."""

    def __init__(self, user):
        self._user = user
        self._cache: dict[str, int] = {}

    def __getitem__(self, key: str) -> int:
        if key not in self._cache:
            from governance.home.registry import nav_counts

            counter = next((c for c in nav_counts() if c.url_name.replace("-", "_") == key), None)
            self._cache[key] = counter.count(self._user) if counter and self._user.is_authenticated else 0
        return self._cache[key]


def oversight(request):
    from governance.signin.services import second_factor_required, session_verified

    user = getattr(request, "user", None)
    # Signed in with the password but not yet the second factor: the pages show no navigation.
    pending = bool(
        user is not None and user.is_authenticated and second_factor_required(user) and not session_verified(request)
    )
    return {
        "OVERSIGHT_MODE": settings.OVERSIGHT_MODE,
        "second_factor_pending": pending,
        "nav_counts": _NavCounts(user) if user is not None and not pending else {},
    }
