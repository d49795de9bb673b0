"""The subject-request path's lock order (issue 24, item 4).

Its services lock the request before their audit event. They used to lock it *with its organisation joined*
(``select_related("organisation")``) ``FOR UPDATE``: at commit every audited transaction scoped to that organisation
checks its deferred foreign key with a KEY SHARE lock on the organisation's row, so it waited for the request's
holder; were the holder then to wait for it (the audit chain, a row the other holds), a deadlock, as in
``tests/governance/test_audit_lock_order.py``. ``governance.locks.lock_rows`` locks the request's row itself,
``FOR NO KEY UPDATE``: neither check waits.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from tests.conftest import require
from tests.governance.subject_access.conftest import intake

pytestmark = pytest.mark.postgres

WAIT_AT_MOST = "3s"  # a lock wait longer than this fails the test (lock_timeout), rather than hanging it


@pytest.mark.django_db(transaction=True)
def test_a_locked_subject_request_never_blocks_an_audited_commit_scoped_to_its_organisation(cast):
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    from governance.audit.models import AuditAction, AuditEvent
    from governance.audit.services import audit_record
    from governance.subject_access import services as sars
    from governance.subject_access.models import SubjectRequest
    from governance.subject_access.request_rows import request_locked

    request = sars.subject_request_receive(actor=cast.estate_dpo, fields=intake())
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_the_request() -> None:  # what every service on the path does first, then holds it until its commit
        try:
            with transaction.atomic():
                request_locked(request)
                locked.set()
                release.wait(20)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_request)
    holder.start()
    before = AuditEvent.objects.count()
    try:
        assert locked.wait(10), "the holder never took its lock"
        # Another DPO's audited action scoped to the request's organisation: its foreign-key check at commit takes
        # KEY SHARE on the organisation's row.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{WAIT_AT_MOST}'")
            audit_record(
                action=AuditAction.CONSULTATION,
                event="subject_request.viewed",
                actor=cast.estate_dpo,
                target=request,
                organisations={request.organisation_id},
            )
        # A row that refers to the request itself (an export, a decision) takes KEY SHARE on the request's row.
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{WAIT_AT_MOST}'")
                cursor.execute(
                    f"SELECT 1 FROM {SubjectRequest._meta.db_table} WHERE id = %s FOR KEY SHARE", [request.pk]
                )
                assert cursor.fetchone() == (1,)
    finally:
        release.set()
        holder.join(30)
    assert errors == []
    assert AuditEvent.objects.count() == before + 1
