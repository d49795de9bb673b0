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


class _Predicates:
    """The access predicates a template asks by name: ``{% if may.read_breaches %}`` is
    ``can_read_breaches(request.user)`` (``governance.access.page_predicate``), answered once a page.
    A name no access module registered is an error on the page, never a silent "no"."""

    def __init__(self, user):
        self._user = user
        self._cache: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        if name not in self._cache:
            from governance.access import page_predicate

            predicate = page_predicate(name)
            if predicate is None:
                # LookupError, not KeyError: the template engine would read a KeyError as "no such variable".
                raise LookupError(f"No access predicate named {name!r} (governance.access.page_predicate_register).")
            self._cache[name] = bool(self._user is not None and predicate(self._user))
        return self._cache[name]


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
        "may": _Predicates(user),
    }
