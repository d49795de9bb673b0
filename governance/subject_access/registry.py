"""The subject-data registry: each kind of personal data registers a provider that finds, compiles
and acts on what it holds about one data subject (the pattern pretix uses for its data shredders,
and ``governance.retention.registry`` for retention). Governance runs subject requests through it
and never needs to know what a face template or an alert is; a new kind of personal data means
registering one more provider.

A **provider** (``SubjectDataProvider``) is one kind of item, named by ``kind``:

- ``search(actor, query)``: candidates the actor's organisation may see that match the query's
  references, or its face when ``query.face`` is set (a provider that cannot search by face ignores
  it). Nothing is disclosed on a candidate alone: the DPO confirms or dismisses each one.
- ``compile(actor, ref)``: the confirmed item as it goes into the response (``SubjectItem``), read
  through the access layer; ``None`` when it is gone or not visible to the actor.
- ``rectify(actor, ref, field, value, reason)`` / ``erase(actor, ref, reason)`` /
  ``restrict(actor, ref, restricted, reason)`` / ``object(actor, ref, reason)``: the other rights, each inside the caller's
  transaction and audited by the provider; a provider that cannot act on its kind leaves the
  callable ``None`` and the request records why the right could not be given effect.

Two **hooks** are registered once, by the app that owns the engine:

- the *face reader* turns the requester's photo into an opaque ``FaceProbe`` (the engine's own
  detector and embedder, as at enrolment), so the photo is read once however many providers
  search by face;
- the *face redactor* blurs every face in a picture except the data subject's (``keep_box``), so
  no other person's face leaves in a response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from governance.registry import Registry

ITEM_KIND = re.compile(r"[a-z][a-z0-9_-]{0,39}")
ITEM_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class ItemRef:
    """One item a provider holds: ``kind`` is the provider's, ``key`` its own id (as text)."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> ItemRef:
        """``kind:key``, both plain ASCII words (``alert:12``); anything else (``alert:\\x00``, a
        key with spaces or markup) is not a reference (issue 26)."""
        kind, _, key = text.partition(":")
        if not ITEM_KIND.fullmatch(kind) or not ITEM_KEY.fullmatch(key):
            raise ValueError(f"not an item reference: {text[:60]!r}")
        return cls(kind, key)


@dataclass(frozen=True)
class FaceProbe:
    """The requester's face as the engine read it. ``embedding`` is opaque to governance (the
    engine's vector); ``backend`` names the backend and weights that made it, so providers compare
    it only with templates and probes made by the same ones."""

    embedding: Any
    backend: str
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class SubjectQuery:
    subject_references: tuple[str, ...] = ()
    case_references: tuple[str, ...] = ()
    face: FaceProbe | None = None
    # The DPO's justification of the search: every consultation a provider records for it carries it.
    justification: str = ""


@dataclass(frozen=True)
class Candidate:
    """A possible item about the subject, for the DPO to confirm or dismiss. ``crop_jpeg`` is for
    the confirming screen only (decrypted in memory, never stored with the request)."""

    ref: ItemRef
    title: str
    found_by: str  # "subject reference" | "case reference" | "face"
    summary: str = ""
    score: float | None = None
    crop_jpeg: bytes | None = None


@dataclass(frozen=True)
class Picture:
    """An image in the response. ``subject_box`` is where the subject's face is (x0, y0, x1, y1);
    every other face in it is blurred by the face redactor before it is exported."""

    jpeg: bytes
    caption: str
    subject_box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class StaffMention:
    """A member of staff named in an item; exported as ``role`` alone where the organisation's policy
    says staff names are replaced by roles."""

    name: str
    role: str
    organisation_id: int | None = None


@dataclass(frozen=True)
class SubjectItem:
    """One item of the response, in plain words.

    ``section``: the heading it goes under ("Watchlist entries", "Alerts", ...); ``facts``: (label,
    value) pairs; ``source``: where the data came from (e.g. the supplying force); ``recipients``:
    who it was disclosed to; ``retention``: when it is erased; ``audit_targets``: (target type,
    target id) pairs whose audit events are about the subject; ``controller_id``: the organisation
    that controls it (a request can be referred to it); ``related``: items derived from this one.
    """

    ref: ItemRef
    section: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    staff: list[StaffMention] = field(default_factory=list)
    source: str = ""
    recipients: list[str] = field(default_factory=list)
    retention: str = ""
    purposes: list[str] = field(default_factory=list)
    audit_targets: list[tuple[str, str]] = field(default_factory=list)
    controller_id: int | None = None
    related: list[ItemRef] = field(default_factory=list)
    # The organisations in Oversight the item was disclosed to (by id): a rectification or erasure is
    # told to each of them (UK GDPR Art. 19; DPA 2018 s.48), ``governance.subject_access.recipients``.
    recipient_organisation_ids: tuple[int, ...] = ()
    # The police force that supplied the data in the item, where one did: it is consulted before a
    # response releases it (s.45(4) is its decision), ``governance.subject_access.consultation``.
    supplied_by_force_id: int | None = None


@dataclass(frozen=True)
class SubjectDataProvider:
    kind: str
    title: str
    section: str
    search: Callable[[Any, SubjectQuery], list[Candidate]]
    compile: Callable[[Any, ItemRef], SubjectItem | None]
    rectify: Callable[[Any, ItemRef, str, str, str], tuple[str, str]] | None = None
    erase: Callable[[Any, ItemRef, str], list[Any]] | None = None
    restrict: Callable[[Any, ItemRef, bool, str], None] | None = None
    rectifiable_fields: tuple[str, ...] = ()
    # An upheld objection (UK GDPR Art. 21): stop the processing objected to (e.g. withdraw the image
    # from matching); returns what was done, in plain words. ``None``: the kind has no such effect.
    object: Callable[[Any, ItemRef, str], str] | None = None
    # Whether the actor may see the item, through the access layer, without reading it (no audit):
    # checked when a DPO records a decision on a reference (issue 26).
    visible: Callable[[Any, ItemRef], bool] | None = None
    # The id of the police force that supplied the item's data and controls it (the item's
    # ``supplied_by_force_id`` and ``controller_id``), read without compiling the item (no image
    # decrypted, nothing shown, no audit) for pages that only need to know who; ``None``: compile (issue 22).
    supplied_by: Callable[[Any, ItemRef], int | None] | None = None


_PROVIDERS: Registry[SubjectDataProvider] = Registry("subject-data provider")
# The engine's two hooks: one each, the one registered last in use.
_HOOKS: Registry[Callable[..., Any]] = Registry("face hook", replace=True)


def subject_data_provider_register(provider: SubjectDataProvider) -> SubjectDataProvider:
    return _PROVIDERS.register(provider.kind, provider)


def subject_data_providers() -> list[SubjectDataProvider]:
    return _PROVIDERS.values()


def subject_data_provider(kind: str) -> SubjectDataProvider | None:
    return _PROVIDERS.get(kind)


def face_reader_register(read: Callable[[bytes], FaceProbe]) -> None:
    """``read(photo bytes) -> FaceProbe``; raises ``ValueError`` with a plain message when the photo
    holds no face or more than one."""
    _HOOKS.register("face_reader", read)


def face_reader() -> Callable[[bytes], FaceProbe] | None:
    return _HOOKS.get("face_reader")


def face_redactor_register(redact: Callable[[bytes, tuple[int, int, int, int] | None], bytes]) -> None:
    """``redact(jpeg, keep_box) -> jpeg`` with every detected face blurred except the one at
    ``keep_box`` (all of them when ``keep_box`` is None)."""
    _HOOKS.register("face_redactor", redact)


def face_redactor() -> Callable[[bytes, tuple[int, int, int, int] | None], bytes] | None:
    return _HOOKS.get("face_redactor")
