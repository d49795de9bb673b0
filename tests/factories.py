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
