"""Recognition's side of the DPIA: registered with ``governance.dpia.registry`` in ``ready()``.

Governance asks here what a deployment is (its data and lifecycle, computed from the deployment
and its agreements), which weights the engine runs (SHA-256 of the weights file, as loaded), and
the engine's measured accuracy at a threshold. No model is loaded: the hash is of the file the
engine loads, cached by path, size and modification time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.utils import timezone

from governance.dpia.registry import (
    AccuracyEvidence,
    DeploymentFacts,
    DeploymentSource,
    deployment_source_register,
)

# The engine's own measured figures per backend and weights, as the committed benchmark run wrote them
# (``python -m benchmarks.dpia_evidence`` -> benchmarks/results/dpia_evidence.json). Only thresholds actually measured
# are cited: a DPIA never cites an interpolated figure, a figure typed by hand, or one on another engine's scale.
EVIDENCE_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "dpia_evidence.json"
_evidence_cache: dict[tuple[str, int], dict[str, dict[float, AccuracyEvidence]]] = {}


def measured_evidence(path: Path = EVIDENCE_FILE) -> dict[str, dict[float, AccuracyEvidence]]:
    """{weights family: {threshold: evidence}} from the results file (empty when it is absent: nothing is cited)."""
    import json

    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    key = (str(path), stamp)
    if key not in _evidence_cache:
        payload = json.loads(path.read_text())
        measured: dict[str, dict[float, AccuracyEvidence]] = {}
        for backend in payload["figures"]["backends"]:
            dataset = (
                f"False matches: {backend['impostor_people']:,} people of shared/faces/impostors, one image each, "
                f"every template pair; false non-matches: {backend['genuine_source']}. Measured by "
                f"`{payload['command']}` on {payload['date'][:10]} (BENCHMARKS.md, 'DPIA accuracy evidence'). No "
                "demographic labels: not evidence of equal performance across groups."
            )
            measured[backend["family"]] = {
                round(row["threshold"], 2): AccuracyEvidence(
                    threshold=row["threshold"],
                    fmr_errors=row["fmr_errors"],
                    fmr_trials=row["fmr_trials"],
                    fmr_ci=tuple(row["fmr_ci"]),
                    fnmr_errors=row["fnmr_errors"],
                    fnmr_trials=row["fnmr_trials"],
                    fnmr_ci=tuple(row["fnmr_ci"]),
                    dataset=dataset,
                )
                for row in backend["thresholds"]
            }
        _evidence_cache.clear()
        _evidence_cache[key] = measured
    return _evidence_cache[key]


_hash_cache: dict[tuple[str, int, int], str] = {}


def _live_config():
    from recognition.engine.engine import config_for
    from recognition.selectors import live_backend_choice

    return config_for(live_backend_choice())


def evidence_family(config) -> str:
    """Which measured figures apply to an engine configuration: its embedder and, for FaceNet, which weights."""
    if config.embedder == "sface":
        return "sface-2021dec-int8bq"
    kind = str(config.extra.get("WEIGHTS_KIND", "casia-webface"))
    return "facenet-casia-webface" if kind == "casia-webface" else f"facenet-{kind}"


def _embedder_family() -> str:
    return evidence_family(_live_config())


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def running_weights() -> tuple[str, str]:
    """(SHA-256, label) of the embedder weights the live engine loads; ("", ...) when not installed.

    SFace: the bundled model file (its SHA-256 is pinned; the engine refuses any other). FaceNet:
    the converted weights file."""
    from recognition.engine import zoo

    config = _live_config()
    try:
        if config.embedder == "sface":
            path = config.sface_path or zoo.bundled_path(zoo.SFACE_FILE)
        else:
            path = Path(config.weights_path)
        return _file_sha256(path), f"{path.name} ({_embedder_family()})"
    except (OSError, zoo.WeightsError) as missing:
        return "", f"{config.embedder} weights not installed ({missing})"


def evidence_at(threshold: float) -> AccuracyEvidence | None:
    """The live engine's measured figures at ``threshold`` (None: not measured with these weights —
    re-run the benchmark before citing figures, README)."""
    return measured_evidence().get(_embedder_family(), {}).get(round(float(threshold), 2))


def evidence_curve() -> list[AccuracyEvidence]:
    figures = measured_evidence().get(_embedder_family(), {})
    return [figures[t] for t in sorted(figures)]


def _facts(deployment) -> DeploymentFacts:
    from recognition.deployments.authorisation import deployment_authorised_by

    agreements = list(deployment.agreements.select_related("supplying_organisation"))
    local = timezone.localtime
    lifecycle = [
        ("Site", deployment.site),
        ("Window", f"{local(deployment.starts_at):%d %b %Y %H:%M} – {local(deployment.ends_at):%d %b %Y %H:%M}"),
        (
            "Cameras",
            "; ".join(f"{c.name}: {c.location}, facing {c.direction}" for c in deployment.cameras.all()) or "none yet",
        ),
        ("Watchlist from", "; ".join(f"{a.reference} v{a.version} ({a.supplying_organisation})" for a in agreements)),
        (
            "Operating threshold",
            f"{deployment.match_threshold:.2f}"
            + (
                f" (below the default; justified: {deployment.threshold_justification})"
                if deployment.threshold_justification
                else ""
            ),
        ),
        ("Faces that raise no alert", "Biometric data deleted immediately; only hourly counts are kept."),
        (
            "Alert data",
            "Kept "
            + ", ".join(sorted({f"{a.match_retention_days} days" for a in agreements}))
            + " after the match, then erased by the retention sweep.",
        ),
        (
            "Watchlist data",
            "Erased within "
            + ", ".join(sorted({f"{a.watchlist_erasure_hours} hours" for a in agreements}))
            + " after the agreement ends or an image is withdrawn.",
        ),
        (
            "Review",
            "Two distinct reviewers confirm each alert"
            + (" (one a police reviewer)" if any(a.police_reviewer_required for a in agreements) else "")
            + ".",
        ),
        ("Authorised by", deployment_authorised_by(deployment)),
        ("Public notice", deployment.public_notice),
    ]
    return DeploymentFacts(
        pk=deployment.pk,
        reference=deployment.reference,
        name=deployment.name,
        operator_id=deployment.operator_id,
        supplier_ids=frozenset(a.supplying_organisation_id for a in agreements),
        agreement_references=frozenset(a.reference for a in agreements),
        status=deployment.status,
        threshold=float(deployment.match_threshold),
        lifecycle=lifecycle,
    )


def describe(pk: int) -> DeploymentFacts | None:
    from recognition.deployments.models import Deployment

    deployment = Deployment.objects.prefetch_related("cameras").filter(pk=pk).first()
    return _facts(deployment) if deployment else None


def operated_by(organisation_id: int) -> list[DeploymentFacts]:
    from recognition.deployments.models import Deployment, DeploymentStatus

    return [
        _facts(d) for d in Deployment.objects.filter(operator_id=organisation_id).exclude(status=DeploymentStatus.ENDED)
    ]


deployment_source_register(
    DeploymentSource(
        describe=describe,
        operated_by=operated_by,
        running_weights=running_weights,
        evidence_at=evidence_at,
        evidence_curve=evidence_curve,
    )
)
