"""Biometric records derived by the engine.

``FaceTemplate``: the embedding of the one face enrolled from a watchlist image, encrypted at rest
(Fernet, ``governance.encryption``). One per image *and backend* (a unique pair), which keeps
enrolment idempotent (a retried or duplicated task can never create a second template) while a
model change re-enrols every image under the new backend alongside the live templates
(``manage.py switch_engine``). ``backend`` names the detector, embedder and weights that made the
template; a gallery only ever holds templates of one backend (``recognition.selectors``), because
scores between embeddings of different models mean nothing.

``ActiveBackend``: the one row saying which backend live matching, enrolment and search use, once
a switch-over has happened (before that, the backend of ``settings.RECOGNITION``).
"""

from __future__ import annotations

from django.db import models

from governance.agreements.models import Agreement
from governance.watchlist.models import WatchlistImage

# Every template made before backends were recorded came from the only engine there was: MTCNN + FaceNet with the
# converted CASIA-WebFace graph (the start-up known-embedding check refused anything else unless WEIGHTS_KIND was
# deliberately "custom").
LEGACY_BACKEND = "mtcnn+facenet-casia-webface"


class FaceTemplate(models.Model):
    ENCRYPTED_FIELDS = ("ciphertext",)

    image = models.ForeignKey(WatchlistImage, on_delete=models.PROTECT, related_name="face_templates")
    # Denormalised so a gallery for a set of agreements is one indexed query.
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="face_templates")
    ciphertext = models.BinaryField(
        help_text="Fernet token of the float32 unit-norm embedding (512-d FaceNet, 128-d SFace)."
    )
    key_id = models.CharField(max_length=16)
    face_box = models.JSONField(help_text="[x1, y1, x2, y2] of the enrolled face in the stored image.")
    detection_probability = models.FloatField()
    engine = models.CharField(max_length=120, help_text="Weights kind, precision and device that produced it.")
    backend = models.CharField(
        max_length=160,
        default=LEGACY_BACKEND,
        help_text="Detector, embedder and weights that produced it (FaceEngine.backend); galleries never mix them.",
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["agreement"], name="face_template_agreement_idx"),
            models.Index(fields=["backend", "agreement"], name="face_template_backend_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["image", "backend"], name="face_template_one_per_image_backend"),
        ]

    def __str__(self) -> str:
        return f"Face template of image #{self.image_id}"


class ActiveBackend(models.Model):
    """Which backend is live (one row, pk 1), written only by ``recognition.switchover.engine_switch``."""

    backend = models.CharField(max_length=160, help_text="FaceEngine.backend of the live templates.")
    choice = models.CharField(max_length=40, help_text='Detector and embedder, e.g. "yunet+sface".')
    switched_at = models.DateTimeField()
    switched_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"Live backend {self.backend}"
