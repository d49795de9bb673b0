"""factory_boy factories for records that tests need in bulk or in a given state without going
through the whole flow that makes them (for the flows themselves, tests call the services)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from governance.watchlist.models import ImageStatus, WatchlistImage


class WatchlistImageFactory(factory.django.DjangoModelFactory):
    """An image row under ``agreement`` from ``supplying_organisation`` — enrolled by default, with
    no bytes and no template (for rules that need no engine)."""

    class Meta:
        model = WatchlistImage

    supplying_organisation = factory.LazyAttribute(lambda o: o.agreement.supplying_organisation)
    supplying_force = factory.LazyAttribute(lambda o: o.supplying_organisation.force or o.supplying_organisation)
    subject_reference = factory.Sequence(lambda n: f"TEST-W-{n:04d}")
    custody_category = "wanted"
    schedule8_condition = "sch8_1"
    custody_reference = factory.Sequence(lambda n: f"CUST/{n}")
    image_taken_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    shared_on = factory.LazyFunction(timezone.localdate)
    received_at = factory.LazyFunction(timezone.now)
    status = ImageStatus.ENROLLED
    sha256 = factory.LazyAttribute(lambda o: o.subject_reference.encode().hex()[:64].ljust(64, "0"))


# --- a deployment's watchlist (recognition.deployments.watchlists): composed and reviewed by the force ---


def force_dpo(force):
    """A data protection officer of this police force (the cast has one per force)."""
    from governance.organisations.models import User
    from governance.organisations.roles import Role

    return User.objects.filter(organisation=force, groups__name=Role.DPO.group_name).order_by("pk").first()


def compose_watchlist(deployment, images=None):
    """The supplying forces put images on the deployment's watchlist through the service, each composed by
    its force's DPO: ``images``, or else every matchable image under the deployment's agreements (the most
    recent of each subject) not yet on it. Returns the entries made."""
    from governance.watchlist.selectors import watchlist_images_matchable
    from recognition.deployments.watchlists import deployment_watchlist_compose, deployment_watchlist_entries

    if images is None:
        on_it = set(deployment_watchlist_entries(deployment).values_list("image_id", flat=True))
        newest: dict[tuple[int, str], WatchlistImage] = {}
        for image in watchlist_images_matchable(deployment.agreements.all()).order_by("image_taken_on", "pk"):
            newest[(image.supplying_force_id, image.subject_reference)] = image
        images = [i for i in newest.values() if i.pk not in on_it]
    entries = []
    by_force: dict[int, list] = {}
    for image in images:
        by_force.setdefault(image.supplying_force_id, []).append(image)
    for force_images in by_force.values():
        actor = force_dpo(force_images[0].supplying_force)
        entries += deployment_watchlist_compose(actor=actor, deployment=deployment, images=force_images)
    return entries


def review_watchlist(deployment, notes="All images current, wanted category only, none older than 12 months."):
    """Each force with entries on the deployment's watchlist reviews them (its DPO). Returns the reviews."""
    from recognition.deployments.watchlists import deployment_watchlist_forces, deployment_watchlist_review

    return [
        deployment_watchlist_review(actor=force_dpo(force), deployment=deployment, notes=notes)
        for force in deployment_watchlist_forces(deployment)
    ]


def ensure_watchlist(deployment):
    """Compose and review the deployment's watchlist for go-live; where its agreements hold no image yet,
    the first agreement's supplier gets one enrolled row (no bytes, no template: it never matches)."""
    from governance.watchlist.selectors import watchlist_images_matchable

    if not watchlist_images_matchable(deployment.agreements.all()).exists():
        agreement = deployment.agreements.sharing_versions().order_by("pk").first()
        WatchlistImageFactory(agreement=agreement, subject_reference="TEST-PLACEHOLDER")
    compose_watchlist(deployment)
    return review_watchlist(deployment)


def on_watchlist(deployment, image):
    """Before a sighting of ``image``: its force puts it on the deployment's watchlist, where it is not yet
    and may be (a withdrawn or restricted image stays off, and its sighting raises nothing)."""
    from governance.watchlist.selectors import image_matchable_q
    from recognition.deployments.watchlists import deployment_watchlist_entries

    on_it = deployment_watchlist_entries(deployment).filter(image_id=image.pk).exists()
    if not on_it and WatchlistImage.objects.filter(image_matchable_q(), pk=image.pk).exists():
        compose_watchlist(deployment, [image])
