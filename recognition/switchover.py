"""Safe model change: re-enrol every image under another backend beside the live templates, then switch in one step.

Why two phases: a watchlist must never be partly one model and partly another (a score between embeddings of two
models means nothing), and live matching must not stop while the slow part runs. So:

1. ``engine_reenrol_all`` makes, for every enrolled image, a template under the target backend *beside* the live one
   (``enrolment.template_reenrol``; idempotent, resumable, one audit event per template). Nothing live changes: the
   new templates are in no gallery, because galleries hold only the live backend's templates.
2. ``engine_switch`` changes the live backend in one transaction (the ``ActiveBackend`` row), refusing while any
   enrolled image lacks a template of the target backend. After commit the live choice is written to the shared
   cache and the gallery version bumped, so each worker's next frame is embedded by the target engine and searched
   against a gallery built from the target's templates only; a frame already in flight finishes on the old engine and
   the old gallery (``matching.frame_process`` takes the engine once and asks for that engine's gallery), so no frame
   is dropped and no gallery is ever mixed.

Switching back is the same command: the old templates are kept (and erased with their image, like the live ones), so
the re-enrolment phase finds them present and the switch is immediate. Default thresholds move with the backend;
a deployment whose threshold is a recorded decision for the old model (not its default) blocks the switch, because
that number means something else under another model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.models import ActiveBackend, FaceTemplate

logger = logging.getLogger(__name__)

ACTIVE_BACKEND_TARGET = ("recognition.activebackend", "1", "Live face engine backend")


class SwitchRefused(StateConflict):
    default_code = "engine_switch_refused"


@dataclass
class ReenrolmentReport:
    backend: str
    outcomes: dict[str, int] = field(default_factory=dict)
    no_face: list[int] = field(default_factory=list)


def images_lacking(backend: str) -> list[int]:
    """Enrolled images with no template of ``backend`` (what a switch to it would leave out of every gallery)."""
    has = FaceTemplate.objects.filter(backend=backend).values("image_id")
    return list(
        WatchlistImage.objects.filter(status=ImageStatus.ENROLLED)
        .exclude(pk__in=has)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def engine_reenrol_all(*, choice: str, progress=None) -> ReenrolmentReport:
    """Phase 1: a template under ``choice`` (``"yunet+sface"``) for every enrolled image lacking one.

    No transaction of its own (one per template, in ``template_reenrol``); safe to interrupt and rerun.
    """
    from recognition.engine.engine import get_engine
    from recognition.enrolment import template_reenrol

    engine = get_engine(choice)
    report = ReenrolmentReport(backend=engine.backend)
    for image_id in images_lacking(engine.backend):
        outcome = template_reenrol(image_id=image_id, engine=engine)
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        if outcome.startswith("no_face"):
            report.no_face.append(image_id)
        if progress is not None:
            progress(image_id, outcome)
    return report


def engine_switch(*, choice: str, actor_name: str) -> ActiveBackend:
    """Phase 2: make ``choice`` the live backend, in one transaction, audited (``alteration``).

    Refuses (``SwitchRefused``, nothing changed) while an enrolled image lacks a template of the target backend, or a
    deployment that has not ended has a threshold other than the old backend's default. Deployments at the old default
    move to the target's default in the same transaction, each with its own audit event. Idempotent: switching to the
    live backend again changes nothing and records nothing.
    """
    from django.core.cache import cache

    from recognition.deployments.models import Deployment, DeploymentStatus
    from recognition.engine.engine import backend_id, config_for, parse_backend_choice
    from recognition.gallery_cache import gallery_version_bump
    from recognition.selectors import ACTIVE_BACKEND_CACHE_SECONDS, ACTIVE_BACKEND_KEY

    detector, embedder = parse_backend_choice(choice)
    choice = f"{detector}+{embedder}"
    target_config = config_for(choice)
    target = backend_id(target_config)
    with transaction.atomic():
        row = lock_rows(ActiveBackend.objects).filter(pk=1).first()
        current_choice = row.choice if row else None
        current_config = config_for(current_choice)
        current = backend_id(current_config)
        if row is not None and row.backend == target:
            return row
        missing = images_lacking(target)
        if missing:
            raise SwitchRefused(
                f"{len(missing)} enrolled image(s) have no {choice} template yet; run the re-enrolment first.",
                details={"images": missing[:50]},
            )
        old_default, new_default = current_config.match_threshold, target_config.match_threshold
        running = lock_rows(Deployment.objects).exclude(status=DeploymentStatus.ENDED).order_by("pk")
        decided = [d.reference for d in running if abs(d.match_threshold - old_default) > 1e-9]
        if decided:
            raise SwitchRefused(
                "These deployments have a threshold decided for the current model, which means something else under "
                f"{choice}; set them to the default ({old_default:.2f}) or end them first: {', '.join(decided)}.",
                details={"deployments": decided},
            )
        rebased = []
        for deployment in running:
            deployment.match_threshold = new_default
            deployment.save(update_fields=["match_threshold"])
            audit_record(
                action=AuditAction.ALTERATION,
                event="deployment.threshold_changed",
                actor=None,
                target=deployment,
                details={"from": old_default, "to": new_default, "reason": f"default of the new backend {target}"},
            )
            rebased.append(deployment.reference)
        row, _ = ActiveBackend.objects.update_or_create(
            pk=1,
            defaults={
                "backend": target,
                "choice": choice,
                "switched_at": timezone.now(),
                "switched_by": actor_name[:150],
            },
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="recognition.backend_switched",
            actor=None,
            target=ACTIVE_BACKEND_TARGET,
            justification=f"Requested by {actor_name}",
            details={
                "from": current,
                "to": target,
                "templates": FaceTemplate.objects.filter(backend=target).count(),
                "default_threshold": {"from": old_default, "to": new_default},
                "deployments_rebased": rebased,
            },
        )

        def publish() -> None:
            cache.set(ACTIVE_BACKEND_KEY, choice, timeout=ACTIVE_BACKEND_CACHE_SECONDS)
            gallery_version_bump()

        transaction.on_commit(publish)
    logger.info("Live face engine backend switched from %s to %s", current, target)
    return row
