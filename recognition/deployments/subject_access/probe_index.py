"""The probe matrix: the stored alerts' embeddings, decrypted once per process and refreshed incrementally."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from governance import encryption
from recognition.deployments.models import Alert

# How far back each refresh of the probe matrix looks again (see the module docstring): far longer than any
# transaction that writes a probe.
PROBE_REFRESH_OVERLAP = timedelta(minutes=5)


class ProbeIndex:
    """The decrypted probes of one backend's stored alerts in this process: ids and a float32 matrix.

    Bounded by ``OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES`` (above it, a search decrypts in chunks and keeps
    nothing). ``refresh`` reads only the probes written or erased since the last one (with an overlap)."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.lock = threading.Lock()
        self.ids = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.size = 0
        self.position: dict[int, int] = {}
        self.valid = np.zeros(0, dtype=bool)
        self.since: datetime | None = None

    def _put(self, pk: int, vector: np.ndarray | None) -> None:
        row = self.position.get(pk)
        if vector is None:
            if row is not None:
                self.valid[row] = False
            return
        if row is None:
            if self.size == len(self.ids):
                capacity = max(1024, 2 * len(self.ids))
                self.ids = np.resize(self.ids, capacity)
                self.valid = np.concatenate([self.valid, np.zeros(capacity - len(self.valid), dtype=bool)])
                grown = np.zeros((capacity, len(vector)), dtype=np.float32)
                if self.size:
                    grown[: self.size] = self.matrix[: self.size]
                self.matrix = grown
            row = self.size
            self.size += 1
            self.position[pk] = row
            self.ids[row] = pk
        self.matrix[row] = vector
        self.valid[row] = True

    def refresh(self) -> None:
        started = timezone.now()
        rows = Alert.objects.filter(probe_backend=self.backend)
        if self.since is None:
            rows = rows.filter(erased_at__isnull=True).exclude(probe_embedding=b"")
        else:
            rows = rows.filter(probe_changed_at__gte=self.since - PROBE_REFRESH_OVERLAP)
        for pk, token, erased_at in rows.values_list("pk", "probe_embedding", "erased_at").iterator(chunk_size=5000):
            token = bytes(token)
            vector = None if (erased_at or not token) else np.frombuffer(encryption.decrypt(token), dtype=np.float32)
            self._put(pk, vector)
        self.since = started

    def search(self, probe: np.ndarray, threshold: float) -> list[int]:
        if not self.size:
            return []
        scores = self.matrix[: self.size] @ probe
        hits = np.flatnonzero((scores >= threshold) & self.valid[: self.size])
        return [int(i) for i in self.ids[hits]]


_indexes: dict[str, ProbeIndex] = {}


_indexes_lock = threading.Lock()


def probe_index_clear() -> None:
    with _indexes_lock:
        _indexes.clear()


def probe_ids_above(backend: str, probe: np.ndarray, threshold: float) -> list[int]:
    """Ids of alerts of ``backend`` whose stored probe scores at least ``threshold`` (every organisation's: the
    caller narrows them through the access layer)."""
    stored = _stored_probes(backend)
    index = _probe_index(backend, stored)
    if index is None:
        return _probe_ids_streamed(stored, probe, threshold)
    with index.lock:
        index.refresh()
        if index.size > int(settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES):
            # Grew past the bound: give the memory back, search without keeping.
            with _indexes_lock:
                _indexes.pop(backend, None)
            return _probe_ids_streamed(stored, probe, threshold)
        return index.search(probe, threshold)


def _stored_probes(backend: str):
    return Alert.objects.filter(probe_backend=backend, erased_at__isnull=True).exclude(probe_embedding=b"")


def _probe_index(backend: str, stored) -> ProbeIndex | None:
    """This process's probe matrix for ``backend`` (made, empty, when there is none), or None when more probes are
    stored than it may hold (searches then stream)."""
    with _indexes_lock:
        index = _indexes.get(backend)
    if index is None:
        if stored.count() > int(settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES):
            return None
        with _indexes_lock:
            if backend not in _indexes:
                _indexes.clear()  # one backend at a time: the live one
            index = _indexes.setdefault(backend, ProbeIndex(backend))
    return index


def probe_index_warm() -> str:
    """Decrypt the live backend's stored probes into this process's matrix now (a web process's warm-up,
    ``governance.serving``), so that the first face search of a subject access request does not pay for it
    (2.2 s for 100,000 alerts, BENCHMARKS.md "Subject search"). Later searches read only what changed since."""
    from recognition.selectors import live_backend

    backend = live_backend()
    index = _probe_index(backend, _stored_probes(backend))
    if index is None:
        return "over the bound: searches stream"
    with index.lock:
        index.refresh()
    return f"probes held: {index.size}"


def _probe_ids_streamed(stored, probe: np.ndarray, threshold: float) -> list[int]:
    hits: list[int] = []
    batch_ids: list[int] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        if batch:
            scores = np.stack(batch) @ probe
            hits.extend(pk for pk, score in zip(batch_ids, scores, strict=True) if score >= threshold)
            batch_ids.clear()
            batch.clear()

    for pk, token in stored.values_list("pk", "probe_embedding").iterator(chunk_size=5000):
        batch_ids.append(pk)
        batch.append(np.frombuffer(encryption.decrypt(bytes(token)), dtype=np.float32))
        if len(batch) >= 5000:
            flush()
    flush()
    return hits


def probe_index_clear_alert(pk: int):
    """After commit: this process's probe matrix forgets the alert at once (others see it erased on refresh)."""

    def forget() -> None:
        with _indexes_lock:
            indexes = list(_indexes.values())
        for index in indexes:
            with index.lock:
                index._put(pk, None)

    return forget
