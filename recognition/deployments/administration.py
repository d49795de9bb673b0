"""Recognition's section of governance's administration page: cameras and their gateway keys."""

from __future__ import annotations

from django.urls import reverse

from governance.administration.registry import AdministrationSection, SectionRow, administration_section_register
from recognition.deployments.access import cameras_administered_by


def _rows(actor) -> list[SectionRow]:
    rows = []
    for camera in cameras_administered_by(actor).order_by("deployment__reference", "name"):
        keyed = bool(camera.ingest_key_prefix)
        rows.append(
            SectionRow(
                label=f"{camera.deployment.reference} · {camera.name} ({camera.location})",
                state=f"Key {camera.ingest_key_prefix}…" if keyed else "No key",
                url=reverse("camera-list") + f"#camera-{camera.pk}",
                attention=not keyed and camera.deployment.is_live,
            )
        )
    return rows


administration_section_register(
    AdministrationSection(
        key="cameras",
        title="Cameras",
        description="The cameras of your organisation's deployments and their gateway keys (issue, rotate, revoke).",
        rows=_rows,
        manage_url=lambda actor: reverse("camera-list"),
    )
)
