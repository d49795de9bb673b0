"""Feed a video file or stream into a camera at a set rate, through the same service as the API.

    python manage.py ingest_video rtsp://gateway/cam1 --camera 3 --fps 2
    python manage.py ingest_video recording.mp4 --camera 3 --fps 5 --max-frames 100

Frames are read with OpenCV, JPEG-encoded in memory and passed to ``frame_submit``: the same
checks (deployment live, size, load shedding) and the same path to the workers. Nothing is written
to disk. A shed frame is skipped (live video has a newer one coming); the command stops when the
deployment is not live.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from recognition.deployments.errors import DeploymentNotLive, FrameRefused, FramesShed, MatchingUnavailable
from recognition.deployments.ingest import frame_submit
from recognition.deployments.models import Camera


class Command(BaseCommand):
    help = "Read a video file or stream URL with OpenCV and submit frames for a camera at a set rate."

    def add_arguments(self, parser):
        parser.add_argument("source", help="Video file path or stream URL (rtsp://, http://...).")
        parser.add_argument("--camera", type=int, required=True, help="Camera id.")
        parser.add_argument("--fps", type=float, default=2.0, help="Frames per second to submit (default 2).")
        parser.add_argument("--max-frames", type=int, default=0, help="Stop after this many submitted (0: no limit).")
        parser.add_argument("--jpeg-quality", type=int, default=85)

    def handle(self, *args, source: str, camera: int, fps: float, max_frames: int, jpeg_quality: int, **options):
        import cv2

        if fps <= 0:
            raise CommandError("--fps must be positive.")
        cam = Camera.objects.select_related("deployment").filter(pk=camera).first()
        if cam is None:
            raise CommandError(f"No camera {camera}.")
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            raise CommandError(f"Cannot open {source!r}.")
        source_fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        is_file = source_fps > 0 and capture.get(cv2.CAP_PROP_FRAME_COUNT) > 0
        step = max(1, round(source_fps / fps)) if is_file else 1
        interval = 1.0 / fps
        submitted = shed = index = 0
        next_at = time.monotonic()
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                index += 1
                if is_file and (index - 1) % step:
                    continue  # a file: take every step-th frame so video time matches --fps
                now = time.monotonic()
                if not is_file and now < next_at:
                    continue  # a live stream: drop frames between submissions
                if now < next_at:
                    time.sleep(next_at - now)
                next_at = max(next_at + interval, time.monotonic())
                encoded, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
                del frame
                if not encoded:
                    continue
                try:
                    frame_submit(camera=cam, data=buffer.tobytes())
                    submitted += 1
                except (FramesShed, MatchingUnavailable):
                    shed += 1
                except DeploymentNotLive as error:
                    raise CommandError(error.message) from None
                except FrameRefused as error:
                    self.stderr.write(f"Frame {index} refused: {error.message}")
                if max_frames and submitted >= max_frames:
                    break
        finally:
            capture.release()
        self.stdout.write(f"Submitted {submitted} frames to camera {cam.pk} ({shed} shed).")
