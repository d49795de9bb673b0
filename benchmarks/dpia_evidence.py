"""The accuracy evidence a DPIA cites: false-match and false-non-match rates, with 95% Wilson intervals, at each
backend's default threshold and the thresholds around it, measured on the backend's own scores.

    python -m benchmarks.dpia_evidence [--impostor-cache DIR]

False matches: every pair of the 4,069 one-image people of ``shared/faces/impostors`` (template against template).
False non-matches: the dev set's genuine template pairs. The figures go to ``benchmarks/results/dpia_evidence.json``,
which ``recognition.deployments.dpia`` reads for the backend and weights the live engine runs: a DPIA never cites a
figure typed by hand or measured on another engine's scale.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from benchmarks import results

NAME = "dpia_evidence"
# Around each default: what lowering the threshold costs, and one step above it.
STEPS_BELOW, STEPS_ABOVE, STEP = 6, 2, 0.01


def thresholds_around(default: float) -> list[float]:
    return [round(default + STEP * k, 2) for k in range(-STEPS_BELOW, STEPS_ABOVE + 1)]


def measure(choice: str, faces: Path, cache: Path | None) -> dict:
    import numpy as np

    from benchmarks.engine_sets import dev_embeddings, impostor_embeddings_cached
    from recognition.deployments.dpia import evidence_family
    from recognition.engine import get_engine
    from recognition.engine.evaluation import all_pairs, wilson_interval

    engine = get_engine(choice)
    template_scores, people, source = impostor_embeddings_cached(engine, faces, cache)
    dev = dev_embeddings(engine, faces)
    index, same = all_pairs(dev["identities"])
    genuine = np.sum(dev["templates"][index[same][:, 0]] * dev["templates"][index[same][:, 1]], axis=1)
    default = float(engine.match_threshold)
    rows = []
    for threshold in thresholds_around(default):
        false_matches = int((template_scores >= threshold).sum())
        false_non_matches = int((genuine < threshold).sum())
        rows.append(
            {
                "threshold": threshold,
                "fmr_errors": false_matches,
                "fmr_trials": int(len(template_scores)),
                "fmr_ci": list(wilson_interval(false_matches, len(template_scores))),
                "fnmr_errors": false_non_matches,
                "fnmr_trials": int(len(genuine)),
                "fnmr_ci": list(wilson_interval(false_non_matches, len(genuine))),
            }
        )
    return {
        "family": evidence_family(engine.config),
        "backend": engine.backend,
        "default_threshold": default,
        "impostor_people": int(people),
        "impostor_source": source,
        "genuine_source": f"{int(len(genuine))} genuine template pairs of the dev set ({len(dev['identities'])} images)",
        "thresholds": rows,
    }


@results.renderer(NAME)
def render(figures: dict) -> str:
    from governance.presentation import rate_text

    lines = ["## DPIA accuracy evidence (each backend on its own scores)", ""]
    for family in figures["backends"]:
        lines += [
            f"### {family['backend']} — default threshold {family['default_threshold']:.2f}",
            "",
            f"False matches: {family['impostor_people']:,} impostor people, every template pair "
            f"({family['impostor_source']}); false non-matches: {family['genuine_source']}.",
            "",
            "| threshold | false-match rate | false-non-match rate |",
            "| --- | --- | --- |",
        ]
        for row in family["thresholds"]:
            mark = " (default)" if abs(row["threshold"] - family["default_threshold"]) < 1e-9 else ""
            lines.append(
                f"| {row['threshold']:.2f}{mark} | {rate_text(row['fmr_errors'], row['fmr_trials'], row['fmr_ci'])} | "
                f"{rate_text(row['fnmr_errors'], row['fnmr_trials'], row['fnmr_ci'])} |"
            )
        lines.append("")
    lines.append(
        "No demographic labels exist for these sets: they are not evidence of equal performance across groups. "
        "Figures of other engines (the NPL's tests of NEC NeoFace) are on that engine's scale and are not comparable."
    )
    return "\n".join(lines)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impostor-cache", type=Path, default=None, help="keep the impostor embeddings here")
    parser.add_argument("--backends", default="yunet+sface,mtcnn+facenet")
    args = parser.parse_args()
    faces = Path(settings.FACES_DIR)
    measured = []
    for choice in args.backends.split(","):
        print(f"measuring {choice} ...", flush=True)
        measured.append(measure(choice, faces, args.impostor_cache))
    path = results.record(
        NAME,
        command="python -m benchmarks.dpia_evidence " + shlex.join(sys.argv[1:]),
        figures={"backends": measured},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
