"""Migration 0014 moves the stored requests onto the s.54 rules: the pause records keep their dates
(asked on / received on); open requests get their ``due_on`` recomputed, and a clarification left
open on a request other than access (which never stopped the clock in law) is closed."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("governance", "0013_user_rank_auth")]
AFTER = [("governance", "0014_subject_request_fee_and_restart_rights")]


@pytest.mark.django_db(transaction=True)
def test_open_requests_get_the_s54_deadline_and_stray_clarifications_are_closed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Group = apps.get_model("auth", "Group")
    Organisation = apps.get_model("governance", "Organisation")
    SubjectRequest = apps.get_model("governance", "SubjectRequest")
    Pause = apps.get_model("governance", "SubjectRequestPause")
    estate = Organisation.objects.create(
        name="Migration Estate", short_name="MIG", kind="operator", access_group=Group.objects.create(name="org:mig")
    )

    def request(reference, right, status, due_on):
        return SubjectRequest.objects.create(
            reference=reference,
            organisation=estate,
            regime="uk_gdpr",
            right=right,
            requester_name="R",
            requester_contact="r@example.org",
            request_text="x",
            received_on=date(2025, 9, 1),
            status=status,
            due_on=due_on,
        )

    # Identity asked 10 September, received 20: the old arithmetic said Monday 13 October.
    identity = request("MIG-1", "access", "open", date(2025, 10, 13))
    Pause.objects.create(
        request=identity, reason="identity", stopped_on=date(2025, 9, 10), restarted_on=date(2025, 9, 20)
    )
    # A clarification still open on an erasure request: it never stopped the clock.
    erasure = request("MIG-2", "erasure", "awaiting_clarification", None)
    Pause.objects.create(request=erasure, reason="clarification", stopped_on=date(2025, 9, 5))
    # A closed request keeps what it had.
    closed = request("MIG-3", "access", "responded", date(2025, 10, 1))
    Pause.objects.create(request=closed, reason="identity", stopped_on=date(2025, 9, 1), restarted_on=date(2025, 9, 3))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    SubjectRequest = apps.get_model("governance", "SubjectRequest")
    assert SubjectRequest.objects.get(reference="MIG-1").due_on == date(2025, 10, 20)
    migrated = SubjectRequest.objects.get(reference="MIG-2")
    assert migrated.status == "open" and migrated.due_on == date(2025, 10, 1)
    pause = migrated.pauses.get()
    assert pause.restarted_on == date(2025, 9, 5) and "access requests only" in pause.note
    assert SubjectRequest.objects.get(reference="MIG-3").due_on == date(2025, 10, 1)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
