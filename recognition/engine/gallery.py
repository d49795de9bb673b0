"""The gallery: the templates one deployment may match against, held in memory, searched exhaustively.

Why exhaustive: an approximate index can miss the watchlist entry a probe belongs to, and it can be hard to show a
regulator why; an exact search is explainable. Why a per-deployment instance: College of Policing guidance makes a
watchlist specific to an operation, so a probe must only ever be compared with the templates that deployment's
agreements allow (the caller builds one ``Gallery`` per deployment). Why ``remove`` is immediate: a withdrawn image
(or one past its retention) must stop matching at once; after ``remove`` returns, the id is never returned again.

Memory layout: templates are stored as float16 rows (1,000,000 x 512 x 2 bytes = 0.95 GiB), scored with a float16
matrix-vector product that accumulates in float32, then the best candidates are re-scored exactly in float32 from the
stored rows. The candidate set is every row whose float16 score is within ``_CANDIDATE_SLACK`` of the k-th best, a
bound larger than the worst-case float16 rounding of a score (probe rounding <= 2**-11, output rounding <= 2**-12, for
unit vectors), so the returned top-k equals an fp32 brute-force search over the stored templates.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

EMBEDDING_SIZE = 512

# Worst-case |fp16 score - fp32 score| is below 2**-11 + 2**-12 = 7.3e-4 for unit vectors; two scores can move
# towards each other by twice that, so 2e-3 keeps every row that could belong to the exact top-k.
_CANDIDATE_SLACK = 2e-3
_EXTRA_CANDIDATES = 32
_GROWTH = 1.25


class Gallery:
    """In-memory exact top-k cosine search over unit-norm templates (512-d FaceNet, 128-d SFace) with integer ids.

    Thread-safe for concurrent ``search`` and mutation within a process. Ids are unique: adding an id that is present
    replaces its template (re-enrolment with a newer image).
    """

    def __init__(
        self, *, scope: str = "", capacity: int = 0, dimension: int = EMBEDDING_SIZE, backend: str = ""
    ) -> None:
        self.scope = scope
        # The backend whose templates this gallery holds: probes must come from the same one (a score between
        # embeddings of two models means nothing), which the callers check with ``backend``.
        self.backend = backend
        self.dimension = int(dimension)
        self._lock = threading.RLock()
        self._vectors = torch.empty((capacity, self.dimension), dtype=torch.float16)
        self._ids = np.empty(capacity, dtype=np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes held by the template matrix and the id column (allocated capacity, not just used rows)."""
        return self._vectors.numel() * self._vectors.element_size() + self._ids.nbytes

    def ids(self) -> np.ndarray:
        """A copy of the ids currently in the gallery, in storage order."""
        with self._lock:
            return self._ids[: self._size].copy()

    def add(self, *, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add templates (re-normalised to unit length); existing ids are replaced. Rejects non-finite or zero rows."""
        ids_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.shape[-1:] != (self.dimension,):  # a template of another model: refuse, never reshape it to fit
            raise ValueError(f"Templates of this gallery are {self.dimension}-d, not {vecs.shape[-1:]}.")
        vecs = vecs.reshape(-1, self.dimension)
        if len(ids_arr) != len(vecs):
            raise ValueError(f"{len(ids_arr)} ids but {len(vecs)} vectors.")
        if len(np.unique(ids_arr)) != len(ids_arr):
            raise ValueError("Duplicate ids in one add() call.")
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        if not np.all(np.isfinite(vecs)) or np.any(norms < 1e-6):
            raise ValueError("Templates must be finite and non-zero.")
        unit = torch.from_numpy(vecs / norms).to(torch.float16)
        with self._lock:
            present = np.isin(self._ids[: self._size], ids_arr)
            if present.any():
                rows = np.flatnonzero(present)
                position = {int(i): n for n, i in enumerate(ids_arr)}
                order = [position[int(i)] for i in self._ids[rows]]
                self._vectors[torch.from_numpy(rows)] = unit[order]
                new = ~np.isin(ids_arr, self._ids[rows])
                ids_arr, unit = ids_arr[new], unit[torch.from_numpy(new)]
            self._reserve(self._size + len(ids_arr))
            end = self._size + len(ids_arr)
            self._vectors[self._size : end] = unit
            self._ids[self._size : end] = ids_arr
            self._size = end

    def remove(self, *, ids: np.ndarray | list[int]) -> int:
        """Remove templates by id (unknown ids are ignored); returns how many were removed.

        Holes are filled with rows from the end, so the matrix stays dense and search never scans dead rows.
        """
        ids_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock:
            rows = np.flatnonzero(np.isin(self._ids[: self._size], ids_arr))
            for row in rows[::-1]:  # descending, so a moved row is never one still to be removed
                last = self._size - 1
                if row != last:
                    self._vectors[row] = self._vectors[last]
                    self._ids[row] = self._ids[last]
                self._size = last
            return len(rows)

    def search(self, probes: np.ndarray, *, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by cosine similarity for each probe: ``(ids int64 (n, k), scores float32 (n, k))``, best first.

        Where the gallery holds fewer than k templates, the missing slots have id -1 and score -inf.
        """
        probes = np.asarray(probes, dtype=np.float32)
        if probes.shape[-1:] != (self.dimension,):
            raise ValueError(f"Probes for this gallery must be {self.dimension}-d, not {probes.shape[-1:]}.")
        probes = probes.reshape(-1, self.dimension)
        probes = probes / np.maximum(np.linalg.norm(probes, axis=1, keepdims=True), 1e-12)
        out_ids = np.full((len(probes), k), -1, dtype=np.int64)
        out_scores = np.full((len(probes), k), -np.inf, dtype=np.float32)
        with self._lock, torch.inference_mode():
            size = self._size
            if size == 0 or k <= 0:
                return out_ids, out_scores
            matrix = self._vectors[:size]
            for n, probe in enumerate(probes):
                probe32 = torch.from_numpy(probe)
                # A one-row matrix product, not ``torch.mv``: oneDNN's fp16 GEMM path (fp32 accumulation) reads the
                # matrix at close to memory speed, 1.4x faster than the GEMV path (74 vs 105 ms at 1M rows, 2 cores).
                rough = torch.nn.functional.linear(probe32.to(torch.float16)[None], matrix)[0]
                take = min(size, k + _EXTRA_CANDIDATES)
                top, rows = torch.topk(rough, take)
                kth = float(top[min(k, size) - 1])
                if take < size and float(top[-1]) >= kth - _CANDIDATE_SLACK:
                    rows = torch.nonzero(rough >= kth - _CANDIDATE_SLACK).reshape(-1)  # rare: a dense near-tie
                exact = matrix[rows].float() @ probe32
                best = torch.topk(exact, min(k, len(rows)))
                chosen = rows[best.indices].numpy()
                out_ids[n, : len(chosen)] = self._ids[chosen]
                out_scores[n, : len(chosen)] = best.values.numpy()
        return out_ids, out_scores

    def _reserve(self, needed: int) -> None:
        capacity = self._vectors.shape[0]
        if needed <= capacity:
            return
        new_capacity = max(needed, int(capacity * _GROWTH) + 1024)
        vectors = torch.empty((new_capacity, self.dimension), dtype=torch.float16)
        vectors[: self._size] = self._vectors[: self._size]
        ids = np.empty(new_capacity, dtype=np.int64)
        ids[: self._size] = self._ids[: self._size]
        self._vectors, self._ids = vectors, ids
