"""Found by the mixed load (tests/load): a sign-in answered 500 "deadlock detected" while police uploaded.

Every audited transaction holds the audit chain's lock until it commits, and at commit PostgreSQL
checks its deferred foreign keys (the event's actor, its scope rows' organisations), which takes a
KEY SHARE lock on those rows. An upload locked its agreement *with the two organisations joined*
``FOR UPDATE`` and then queued for the chain lock: each waited for the other. Row locks taken before
the chain lock must never block those checks: ``FOR NO KEY UPDATE`` of the row itself only.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from tests.conftest import require

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_an_upload_waiting_for_the_chain_never_deadlocks_an_audited_sign_in(cast, active_agreement):
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    from governance.audit.models import AuditAction, AuditEvent
    from governance.audit.services import audit_record
    from governance.watchlist.services import _locked_agreement

    holding_chain, holding_rows = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def sign_in() -> None:  # holds the chain lock; its scope row names the estate, checked at commit
        try:
            with transaction.atomic():
                audit_record(
                    action=AuditAction.AUTHENTICATION,
                    event="signin.succeeded",
                    actor=cast.estate_dpo,
                    target=("governance.user", str(cast.estate_dpo.pk), cast.estate_dpo.username),
                )
                holding_chain.set()
                holding_rows.wait(10)
                time.sleep(0.5)  # the upload is now queued on the chain lock
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def upload() -> None:  # the upload's agreement lock, then its audit event
        try:
            holding_chain.wait(10)
            with transaction.atomic():
                _locked_agreement(active_agreement.pk)
                holding_rows.set()
                audit_record(
                    action=AuditAction.COLLECTION,
                    event="watchlist_image.received",
                    actor=cast.camden_dpo,
                    target=active_agreement,
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    before = AuditEvent.objects.count()
    threads = [threading.Thread(target=sign_in), threading.Thread(target=upload)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert AuditEvent.objects.count() == before + 2
