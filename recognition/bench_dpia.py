"""What a lower threshold costs, as a DPIA cites it: false-match and false-non-match rates with 95%
Wilson intervals at thresholds around each backend's default.

    python -m recognition.bench_dpia [--impostor-cache DIR]

False matches: every pair of the 4,069 one-image people of ``shared/faces/impostors`` (templates
against templates, the pairs the thresholds were derived on). False non-matches: the dev set's 70
genuine template pairs. The figures printed here are the ones ``recognition.deployments.dpia``
cites; rerun after any change to the engine and update them there.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    from recognition.bench_backends import _dev, _impostors
    from recognition.engine import get_engine
    from recognition.engine.evaluation import wilson_interval

    parser = argparse.ArgumentParser()
    parser.add_argument("--impostor-cache", type=Path, default=None)
    args = parser.parse_args()
    faces = Path(settings.FACES_DIR)
    for choice, thresholds in (
        ("yunet+sface", (0.36, 0.38, 0.40, 0.42, 0.44)),
        ("mtcnn+facenet", (0.54, 0.56, 0.58, 0.59, 0.60)),
    ):
        engine = get_engine(choice)
        template_scores, _live, _missing, people, source = _impostors(engine, faces, args.impostor_cache)
        dev = _dev(engine, faces)
        pairs = dev["templates"]
        from recognition.engine.evaluation import all_pairs

        index, same = all_pairs([item.identity for item in dev["items"]])
        scores = np.sum(pairs[index[:, 0]] * pairs[index[:, 1]], axis=1)
        genuine = scores[same]
        print(f"## {engine.backend} ({people} impostor people, {len(template_scores):,} pairs; {source})")
        for t in thresholds:
            fm = int((template_scores >= t).sum())
            fnm = int((genuine < t).sum())
            fmr_ci = wilson_interval(fm, len(template_scores))
            fnmr_ci = wilson_interval(fnm, len(genuine))
            print(
                f"{t:.2f}: FMR {fm}/{len(template_scores)} ({fmr_ci[0]:.2e}-{fmr_ci[1]:.2e}); "
                f"FNMR {fnm}/{len(genuine)} ({fnmr_ci[0]:.4f}-{fnmr_ci[1]:.4f})"
            )


if __name__ == "__main__":
    main()
