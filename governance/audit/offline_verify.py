"""Verify an exported audit log against earlier checkpoints (signed tree heads), without Django.

    python -m governance.audit.offline_verify audit-export.jsonl --public-key checkpoint-key.pem \
        --checkpoint head-2026-11-01.json --checkpoint head-2026-12-01.json [--proof proof.json]

Kept for the command line published before the transparency log: a checkpoint is now a signed tree
head, and the verifier is ``tlog.py`` (one file, standard library and ``cryptography`` only), which
this forwards to. Exit status 0 when all holds, 1 otherwise (each problem printed).
"""

from __future__ import annotations

import sys

try:  # as a module of the Oversight package, or as a loose file copied next to tlog.py
    from governance.audit import tlog
except ImportError:  # pragma: no cover - exercised by outside parties
    import tlog  # type: ignore[no-redef]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return tlog.main(["--head" if a == "--checkpoint" else a for a in args])


if __name__ == "__main__":
    sys.exit(main())
