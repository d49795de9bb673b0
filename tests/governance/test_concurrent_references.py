"""Register references stay unique when several DPOs create agreements, or plan deployments, at the
same moment (each request in its own thread, on its own PostgreSQL connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.conftest import agreement_terms

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6
EACH = 3


def _run_at_once(work) -> list:
    """Run ``work(i)`` in THREADS threads released together; return what each raised (None if nothing)."""
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def runner(i):
        try:
            barrier.wait()
            for j in range(EACH):
                work(i, j)
        except Exception as error:  # noqa: BLE001 (reported by the test, not swallowed)
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_agreements_drafted_at_once_get_distinct_references(postgres, cast):
    from governance.agreements import services
    from governance.agreements.models import Agreement

    def draft(i, j):
        services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast, title=f"Concurrent {i}-{j}"))

    outcomes = _run_at_once(draft)
    assert outcomes == [None] * THREADS, outcomes
    references = list(Agreement.objects.values_list("reference", flat=True))
    assert len(references) == THREADS * EACH
    assert len(set(references)) == THREADS * EACH
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
    assert numbers == list(range(1, THREADS * EACH + 1))  # no gaps either


def test_deployments_planned_at_once_get_distinct_references(postgres, cast, active_agreement):
    from recognition.deployments.models import Deployment
    from recognition.deployments.services.planning import deployment_plan
    from tests.recognition.deployments.conftest import deployment_fields

    def plan(i, j):
        deployment_plan(
            actor=cast.estate_dpo,
            agreements=[active_agreement],
            fields=deployment_fields(cast, name=f"Concurrent {i}-{j}"),
        )

    outcomes = _run_at_once(plan)
    assert outcomes == [None] * THREADS, outcomes
    references = list(Deployment.objects.values_list("reference", flat=True))
    assert len(references) == THREADS * EACH and len(set(references)) == THREADS * EACH


def test_a_reference_entered_by_hand_is_skipped_not_reused(cast):
    """The next number follows the highest one taken, not the count (a historical record may take any)."""
    from django.utils import timezone

    from governance.agreements import services
    from governance.agreements.models import AgreementStatus

    year = timezone.localdate().year
    services.agreement_record_historical(
        actor=cast.estate_dpo,
        fields=agreement_terms(cast),
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.met,
        approved_by_name="A. Officer",
        historical_notes="Recorded afterwards.",
        reference=f"DSA-{year}-0003",
    )
    drafted = [
        services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast)).reference for _ in range(3)
    ]
    assert drafted == [f"DSA-{year}-0004", f"DSA-{year}-0005", f"DSA-{year}-0006"]
