"""Consultation logging (DPA 2018 s.62(1)(b), (3)): every read of personal data on the record.

s.62(3): the log of a consultation must make it possible to establish "the justification for, and
the date and time of, the consultation" and, so far as possible, "the identification of the person
who consulted". This module is the one place that writes those events:

- ``audit_consultation``: one record viewed (an alert's page, a disclosure, a watchlist image);
- ``audit_consultation_batch``: one event per list or search page, naming the records it showed
  (never one event per row: a page of 200 disclosures is one consultation, not 200);
- ``personal_data``: the decorator that marks a view as showing personal data and resolves the
  justification at the point of access (``consultation_purpose``). A purpose is chosen once per
  kind of task and remembered for the session where the law allows it (reviewing alerts, answering
  a subject request); where it does not (a DPO opening another party's image), it is asked for
  every time. API clients send it in the ``X-Oversight-Purpose`` header; a route that needs one and
  gets none answers 400 ``purpose_required``. The web shows a small form, then returns.

The route-by-role matrix (``tests/test_route_matrix.py``) reads the mark: every marked route that
answers 200 must have written a consultation event. ``OVERSIGHT_CONSULTATION_LOGGING`` (on by
default) exists for the benchmark only (``benchmarks/consultation_logging.py``), to measure the cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from governance.audit.models import AuditAction, AuditEvent
from governance.audit.services import audit_record
from governance.errors import ValidationFailed
from governance.inputs import CONTROL_CHARACTERS
from governance.registry import Registry

PURPOSE_HEADER = "X-Oversight-Purpose"
SESSION_KEY = "oversight_purposes"  # kind -> purpose, remembered for the session
ONCE_KEY = "oversight_purpose_once"  # kind -> purpose, used by the next access only
MAX_PURPOSE_CHARACTERS = 300


@dataclass(frozen=True)
class PurposeKind:
    """A kind of access that needs a justification. ``remembered``: chosen once per task and kept
    for the session (the law allows it: one purpose covers the task's many reads); otherwise the
    purpose is asked for on every access (free text)."""

    name: str
    label: str
    remembered: bool
    suggestions: tuple[str, ...] = ()


PURPOSE_KINDS: Registry[PurposeKind] = Registry("purpose kind")


def purpose_kind_register(kind: PurposeKind) -> PurposeKind:
    return PURPOSE_KINDS.register(kind.name, kind)


ALERTS = purpose_kind_register(
    PurposeKind(
        "alerts",
        "alerts",
        True,
        (
            "Reviewing alerts on a deployment",
            "Oversight of a deployment's alerts (DPO)",
            "Acting on an alert our force supplied the image for",
            "Regulatory inspection",
        ),
    )
)
DISCLOSURES = purpose_kind_register(
    PurposeKind(
        "disclosures",
        "disclosures",
        True,
        ("Acting on disclosures received", "Oversight of disclosures made (DPO)", "Regulatory inspection"),
    )
)
WATCHLIST = purpose_kind_register(
    PurposeKind(
        "watchlist",
        "the watchlist",
        True,
        ("Managing our force's watchlist images", "Oversight of the watchlist (DPO)", "Regulatory inspection"),
    )
)
OTHER_PARTY_IMAGE = purpose_kind_register(PurposeKind("other_party_image", "another organisation's image", False))


class PurposeRequired(ValidationFailed):
    default_code = "purpose_required"


PURPOSE_REFUSALS = (
    (400, "purpose_required", f"Say why you are reading …: send the purpose in the {PURPOSE_HEADER} header."),
    (400, "invalid_purpose", "The purpose may not contain control characters."),
)


def logging_enabled() -> bool:
    return getattr(settings, "OVERSIGHT_CONSULTATION_LOGGING", True)


def purpose_clean(value: Any) -> str:
    """A purpose as given: bounded, no control characters (refused with a coded 400)."""
    text = str(value or "").strip()
    if CONTROL_CHARACTERS.search(text):
        raise ValidationFailed("The purpose may not contain control characters.", code="invalid_purpose")
    return text[:MAX_PURPOSE_CHARACTERS]


def consultation_purpose(request: Any, kind: str) -> str:
    """The justification of this access: the ``X-Oversight-Purpose`` header, else the purpose given
    on the form (remembered for the session, or for this access only). Empty when none is set."""
    header = purpose_clean(request.headers.get(PURPOSE_HEADER, ""))
    if header:
        return header
    session = getattr(request, "session", None)
    if session is None:
        return ""
    once = session.get(ONCE_KEY, {})
    if kind in once:
        purpose = once.pop(kind)
        session[ONCE_KEY] = once
        return purpose
    return session.get(SESSION_KEY, {}).get(kind, "") if PURPOSE_KINDS[kind].remembered else ""


def purpose_remember(request: Any, kind: str, purpose: str) -> None:
    """Keep the purpose for the session (remembered kinds) or for the next access (the others)."""
    purpose = purpose_clean(purpose)
    if not purpose:
        raise ValidationFailed("Say why you are looking at this; it is recorded.", code="purpose_required")
    key = SESSION_KEY if PURPOSE_KINDS[kind].remembered else ONCE_KEY
    purposes = dict(request.session.get(key, {}))
    purposes[kind] = purpose
    request.session[key] = purposes


def purpose_form_url(kind: str, next_url: str) -> str:
    return f"{reverse('consultation-purpose')}?{urlencode({'kind': kind, 'next': next_url})}"


def safe_next(request: Any, next_url: str) -> str:
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=False):
        return next_url
    return reverse("dashboard")


# The kind of purpose a view needs, given its request and arguments: a kind name, or a purpose that
# follows from the task itself (a reviewer's queue, a subject request's own page) given as "=text".
KindChooser = Callable[..., str]


def personal_data(kind: str | KindChooser) -> Callable:
    """Marks a view as showing personal data (the matrix's rule) and resolves its justification into
    ``request.consultation_purpose`` before the view runs. Without one, the web view redirects to the
    purpose form (then back); an API view raises ``PurposeRequired`` (400 ``purpose_required``)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            request = args[1] if hasattr(args[0], "request") and len(args) > 1 else args[0]
            request = getattr(request, "_request", request)
            chosen = kind(request, **kwargs) if callable(kind) else kind
            if chosen.startswith("="):
                purpose = purpose_clean(request.headers.get(PURPOSE_HEADER, "")) or chosen[1:]
            else:
                purpose = consultation_purpose(request, chosen)
            if not purpose:
                if request.path.startswith("/api/"):
                    label = PURPOSE_KINDS[chosen].label
                    raise PurposeRequired(
                        f"Say why you are reading {label}: send the purpose in the {PURPOSE_HEADER} header.",
                        details={"header": PURPOSE_HEADER, "kind": chosen},
                    )
                return redirect(purpose_form_url(chosen, request.get_full_path()))
            request.consultation_purpose = purpose
            return view(*args, **kwargs)

        wrapped.personal_data = True
        # For the API's error catalogue (``governance.api.error_catalogue``), whose static walk of a view's
        # code cannot see a decorator's refusals.
        wrapped.refusals = PURPOSE_REFUSALS
        return wrapped

    return decorate


def records_its_own_consultation(view: Callable) -> Callable:
    """Marks a view that shows personal data whose service already writes the consultation event with
    a justification of its own (e.g. an image's bytes, read with ``X-Justification``)."""
    view.personal_data = True
    return view


def shows_personal_data(view: Any) -> bool:
    """Whether a resolved view (function or DRF ``as_view()``) is marked with ``personal_data``."""
    if getattr(view, "personal_data", False):
        return True
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    return any(getattr(getattr(cls, method, None), "personal_data", False) for method in ("get", "post"))


def audit_consultation(
    *,
    actor: Any,
    target: Any,
    event: str,
    justification: str,
    shown: str,
    details: dict[str, Any] | None = None,
    organisations: Iterable[int | None] = (),
) -> AuditEvent | None:
    """One record viewed: one consultation event saying what was shown (``shown``, in words) and why.
    Its own transaction (a read has no other). Nothing biometric in ``details``."""
    if not logging_enabled():
        return None
    with transaction.atomic():
        return audit_record(
            action=AuditAction.CONSULTATION,
            event=event,
            actor=actor,
            target=target,
            justification=justification,
            details={"shown": shown, **(details or {})},
            organisations=organisations,
        )


def audit_consultation_batch(
    *,
    actor: Any,
    target_type: str,
    records: Iterable[Any],
    event: str,
    justification: str,
    shown: str,
    label: str,
    organisations: Iterable[int | None] = (),
    subject_references: Iterable[str] = (),
) -> AuditEvent | None:
    """A list or search page: one event naming the records it showed (their ids, in ``details``),
    concerning every organisation those records concern (``organisations``: the caller collects them
    from the rows it has already loaded, so no query per row). An empty page still records the search."""
    if not logging_enabled():
        return None
    ids = sorted({int(getattr(r, "pk", r)) for r in records})
    references = sorted({r for r in subject_references if r})
    details: dict[str, Any] = {"shown": shown, "records": ids}
    if references:
        details["subject_references"] = references
    with transaction.atomic():
        return audit_record(
            action=AuditAction.CONSULTATION,
            event=event,
            actor=actor,
            target=(target_type, "list", f"{label}: {len(ids)} shown"),
            justification=justification,
            details=details,
            organisations=organisations,
        )


# --- who looked at this record ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsultedRecord:
    """A kind of record whose consultations can be listed: ``slug`` in the URL, the audit
    ``target_type`` its events carry, and the app's access function ``(user, pk) -> object`` (raises
    ``NotFound`` for a missing record and for another organisation's alike)."""

    slug: str
    target_type: str
    label: str
    access: Callable[[Any, int], Any]


CONSULTED_RECORDS: Registry[ConsultedRecord] = Registry("consulted record")


def consulted_record_register(record: ConsultedRecord) -> None:
    CONSULTED_RECORDS.register(record.slug, record)


# Each app's "does the user see a record about this subject reference?" ``(user, reference) -> bool``:
# the subject's page is 404 for a reference none of the user's records carries (another
# organisation's subject looks exactly like an unknown one).
# Named by where the lookup is defined (one per app's module).
SUBJECT_LOOKUPS: Registry[Callable[[Any, str], bool]] = Registry("subject lookup")


def subject_lookup_register(lookup: Callable[[Any, str], bool]) -> None:
    SUBJECT_LOOKUPS.register(f"{lookup.__module__}.{lookup.__qualname__}", lookup)


def _contains(events, key: str, value: Any) -> list[AuditEvent]:
    """Batch events whose ``details[key]`` list holds ``value``: a JSON containment query on
    PostgreSQL; SQLite (the embedded default) has no such lookup, so it reads the candidates."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return list(events.filter(**{f"details__{key}__contains": [value]}))
    return [e for e in events.iterator() if value in (e.details or {}).get(key, [])]


def consultations_of_record(*, user: Any, slug: str, pk: int) -> tuple[Any, list[AuditEvent]]:
    """The record (through its access function: 404 when the user may not see it) and the
    consultation events the user may read (``audit_events_visible_to``) that name it: its own page's
    events and the list pages that showed it, newest first."""
    from governance.access import audit_events_visible_to
    from governance.errors import NotFound

    record = CONSULTED_RECORDS.get(slug)
    if record is None:
        raise NotFound("No such kind of record.")
    obj = record.access(user, pk)
    events = audit_events_visible_to(user).filter(action=AuditAction.CONSULTATION, target_type=record.target_type)
    own = list(events.filter(target_id=str(pk)).order_by("-sequence")[:500])
    listed = _contains(events.filter(target_id="list").order_by("-sequence"), "records", pk)
    return obj, sorted(own + listed, key=lambda e: -e.sequence)[:500]


def consultations_of_subject(*, user: Any, reference: str) -> list[AuditEvent]:
    """Consultations the user may read of records about one subject reference (single records carry
    it as ``details.subject_reference``; list pages as ``details.subject_references``)."""
    from governance.access import audit_events_visible_to
    from governance.errors import NotFound

    events = audit_events_visible_to(user).filter(action=AuditAction.CONSULTATION)
    if not reference or not any(lookup(user, reference) for lookup in SUBJECT_LOOKUPS.values()):
        raise NotFound("No such subject reference among your records.")
    own = list(events.filter(details__subject_reference=reference).order_by("-sequence")[:500])
    listed = _contains(events.filter(target_id="list").order_by("-sequence"), "subject_references", reference)
    return sorted(own + listed, key=lambda e: -e.sequence)[:500]
