"""Register references ("DSA-2026-0007", "LFR-2026-0012"): the next free number, safe when several
requests create records at the same moment.

The number follows the highest one taken under the prefix (a record entered by hand may take any
number). Two transactions can still pick the same one; the unique index decides, and the loser
retries in a savepoint with the next number (under PostgreSQL's READ COMMITTED the retry sees the
winner's committed row), so neither request fails and no number is skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, models, transaction

from governance.errors import StateConflict

ATTEMPTS = 25


def next_free_reference(queryset: models.QuerySet, prefix: str, *, field: str = "reference", digits: int = 4) -> str:
    highest = 0
    for reference in queryset.filter(**{f"{field}__startswith": prefix}).values_list(field, flat=True).distinct():
        suffix = reference[len(prefix) :]
        if suffix.isascii() and suffix.isdigit():
            highest = max(highest, int(suffix))
    return f"{prefix}{highest + 1:0{digits}d}"


def save_with_next_reference(
    instance: models.Model, *, next_reference: Callable[[], str], taken: Callable[[str], bool], field: str = "reference"
) -> None:
    """Save ``instance`` under the next free reference. Call inside the caller's transaction; only the
    insert runs in a savepoint. An IntegrityError not caused by the reference is re-raised."""
    for _attempt in range(ATTEMPTS):
        setattr(instance, field, next_reference())
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError:
            if not taken(getattr(instance, field)):
                raise
            instance.pk = None
            instance._state.adding = True
    raise StateConflict("Too many records are being created at once; try again.", code="reference_busy")
