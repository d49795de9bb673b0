"""Column declarations the models repeat, written once.

``user_reference``: who did something (drafted, approved, decided, recorded, …). The row keeps the name beside it
(a ``…_name`` column), so the reference is nulled when the account is deleted rather than blocking the deletion or
deleting the record (``SET_NULL``), and a user gets no reverse accessor for each of these (``related_name="+"``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


def user_reference(*, blank: bool = True, **options) -> models.ForeignKey:
    """A nullable reference to the user who acted (``blank=False``: the forms must give one)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=blank, on_delete=models.SET_NULL, related_name="+", **options
    )
