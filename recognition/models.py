"""Biometric records derived by the engine.

``FaceTemplate``: the embedding of the one face enrolled from a watchlist image, encrypted at rest
(Fernet, ``governance.encryption``). One per image (a unique one-to-one), which makes enrolment
idempotent: a retried or duplicated task can never create a second template.
"""

from __future__ import annotations

from django.db import models

from governance.agreements.models import Agreement
from governance.watchlist.models import WatchlistImage


class FaceTemplate(models.Model):
    ENCRYPTED_FIELDS = ("ciphertext",)

    image = models.OneToOneField(WatchlistImage, on_delete=models.PROTECT, related_name="face_template")
    # Denormalised so a gallery for a set of agreements is one indexed query.
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="face_templates")
    ciphertext = models.BinaryField(help_text="Fernet token of the float32 (512,) unit-norm embedding.")
    key_id = models.CharField(max_length=16)
    face_box = models.JSONField(help_text="[x1, y1, x2, y2] of the enrolled face in the stored image.")
    detection_probability = models.FloatField()
    engine = models.CharField(max_length=120, help_text="Weights kind, precision and device that produced it.")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["agreement"], name="face_template_agreement_idx")]

    def __str__(self) -> str:
        return f"Face template of image #{self.image_id}"

