"""Backup and restore with pg_dump / pg_restore on real PostgreSQL (README, "Backup and restore").

A backup is taken; after it the police withdraw an image, a retention sweep erases an alert's data
and a new image is uploaded and withdrawn. The backup is restored into another database: there the
withdrawn image and the alert's crop are back (that is what a restore does), the restored audit chain
verifies, and ``reapply_erasures`` erases them again from the erasure journal kept outside the
database — idempotently, and never touching a record that took a journalled id after the restore.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.conftest import require
from tests.governance.watchlist.support import synthetic_jpeg, token_client, upload
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    enrolled_image_row,
    live_deployment,
    planned_deployment,
    raise_alert,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _pg(args: list[str], settings_dict: dict) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    common = [
        "-h",
        settings_dict.get("HOST") or "127.0.0.1",
        "-p",
        str(settings_dict.get("PORT") or 5432),
        "-U",
        settings_dict.get("USER") or "postgres",
    ]
    return subprocess.run([args[0], *common, *args[1:]], env=env, check=True, capture_output=True, text=True)


def _switch_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = name


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_verifies_and_gets_the_later_erasures_back(
    cast, live_deployment, active_agreement, settings, tmp_path, capsys
):
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    require(bool(shutil.which("pg_dump") and shutil.which("pg_restore")), "needs pg_dump and pg_restore")
    from governance.audit.services import audit_chain_verify, audit_seal_chain_head
    from governance.organisations.roles import Role
    from governance.organisations.services import user_create
    from governance.retention.services import retention_sweep
    from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent
    from governance.watchlist.services import watchlist_image_withdraw
    from recognition.deployments.models import Alert
    from tests.factories import WatchlistImageFactory

    settings.OVERSIGHT_ERASURE_JOURNAL = str(tmp_path / "journal" / "erasure-journal.jsonl")
    submitter = user_create(
        actor=None, username="api.camden.backup", organisation=cast.camden, roles=[Role.FORCE_SUBMITTER]
    )
    api = token_client(submitter)

    def uploaded(seed: int) -> WatchlistImage:
        response = upload(api, active_agreement, synthetic_jpeg(seed), subject_reference=f"KX-BACKUP-{seed}")
        assert response.status_code == 202, response.content
        return WatchlistImage.objects.get(pk=response.json()["id"])

    withdrawn_before = uploaded(1)
    withdrawn_after = uploaded(2)
    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden, subject="KX-ALERT-1"))
    watchlist_image_withdraw(actor=submitter, image=withdrawn_before, reason="Subject arrested")
    audit_seal_chain_head()
    call_command("export_erasure_journal")  # what beat does every minute

    # --- the backup ------------------------------------------------------------------------------
    live = dict(connection.settings_dict)
    dump = tmp_path / "oversight.dump"
    _pg(["pg_dump", "--format=custom", f"--file={dump}", live["NAME"]], live)

    # --- after the backup: erasures the restore would undo ----------------------------------------
    watchlist_image_withdraw(actor=submitter, image=withdrawn_after, reason="Warrant withdrawn")
    later = timezone.now() + timedelta(days=active_agreement.match_retention_days + 1)
    assert retention_sweep(at=later, triggered_by="test").erased_counts["alert.match_retention"] == 1
    created_after = uploaded(3)
    watchlist_image_withdraw(actor=submitter, image=created_after, reason="Uploaded in error")
    audit_seal_chain_head()
    call_command("export_erasure_journal")

    # --- the restore, into another database ------------------------------------------------------
    restored = f"{live['NAME']}_restore"
    _pg(["psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'], live)
    _pg(["psql", "-d", "postgres", "-c", f'CREATE DATABASE "{restored}"'], live)
    _pg(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], live)
    try:
        _switch_database(restored)
        # What a restore brings back: the image withdrawn after the backup, the alert's crop.
        assert WatchlistImage.objects.get(pk=withdrawn_after.pk).status != ImageStatus.ERASED
        assert WatchlistImageContent.objects.filter(image_id=withdrawn_after.pk).exists()
        assert Alert.objects.get(pk=alert.pk).erased_at is None
        assert not WatchlistImage.objects.filter(pk=created_after.pk).exists()
        assert WatchlistImage.objects.get(pk=withdrawn_before.pk).status == ImageStatus.ERASED
        call_command("verify_audit_chain")  # raises CommandError on a broken chain
        capsys.readouterr()

        call_command("reapply_erasures")
        output = capsys.readouterr().out
        assert "reapplied 2" in output, output  # the image and the alert; the third image is absent
        assert "absent 1" in output and "in_restored_chain 1" in output, output

        image = WatchlistImage.objects.get(pk=withdrawn_after.pk)
        assert image.status == ImageStatus.ERASED
        assert not WatchlistImageContent.objects.filter(image_id=image.pk).exists()
        certificate = DeletionCertificate.objects.filter(details__watchlist_image=image.pk).get()
        assert certificate.reason.startswith("Re-applied from the erasure journal after a restore")
        erased_alert = Alert.objects.get(pk=alert.pk)
        assert erased_alert.erased_at is not None and bytes(erased_alert.probe_crop) == b""
        alert_certificates = DeletionCertificate.objects.filter(
            subject_type="deployments.alert", subject_id=str(alert.pk)
        )
        assert alert_certificates.exists()
        # The re-applied erasure's certificate says so (issue 26), like the image's.
        assert (
            alert_certificates.order_by("-erased_at")
            .first()
            .reason.startswith("Re-applied from the erasure journal after a restore")
        )
        verification = audit_chain_verify()
        assert verification.ok, verification.problems
        from governance.audit.models import AuditEvent

        replayed = AuditEvent.objects.get(event="erasure_journal.replayed")
        assert replayed.details["outcomes"]["reapplied"] == 2

        # Idempotent; and a record that takes a journalled id after the restore is never erased.
        newcomer = WatchlistImageFactory(agreement=active_agreement, supplying_organisation=cast.camden)
        assert newcomer.pk == created_after.pk  # the restored sequence hands out the lost image's id again
        capsys.readouterr()
        call_command("reapply_erasures")
        again = capsys.readouterr().out
        assert "reapplied" not in again and "different_record 1" in again, again
        assert WatchlistImage.objects.get(pk=newcomer.pk).status == ImageStatus.ENROLLED
        assert audit_chain_verify().ok
    finally:
        _switch_database(live["NAME"])
        _pg(["psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'], live)
