"""The restore procedure in ``docs/operations.md`` runs as written (issue 26, "Operations text that misleads": steps
5-7 never pointed ``DATABASE_URL`` at the restored database, so, run literally, they verified the old one and
reported success). Steps 4-7 are read from the document — step 4's shell block and the ``python manage.py …``
commands of steps 5-7 — and run in one shell whose ``DATABASE_URL`` names the *old* database, as an operator's
would. After them the restored database holds the re-applied erasure (its certificate saying so), the replay event
and a new seal; the old database holds none of them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.conftest import require
from tests.governance.test_backup_restore import _pg, _switch_database
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    enrolled_image_row,
    live_deployment,
    planned_deployment,
    raise_alert,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "operations.md"


def runbook_steps_4_to_7(restored_url: str) -> list[str]:
    """The shell lines of steps 4-7, as the document gives them; the example URL of step 4 becomes ``restored_url``
    and ``python`` this interpreter."""
    text = RUNBOOK.read_text()
    section = text[text.index("## Restore, step by step") :]
    step4 = section[section.index("\n4. ") : section.index("\n5. ")]
    steps5to7 = section[section.index("\n5. ") : section.index("\n8. ")]
    block = re.search(r"```bash\n(.*?)```", step4, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert any(line.startswith("export DATABASE_URL=") for line in lines), "step 4 must point DATABASE_URL"
    lines = [
        re.sub(r"DATABASE_URL=\S+", f"DATABASE_URL={restored_url}", line)
        if line.startswith("export DATABASE_URL=")
        else line
        for line in lines
    ]
    commands = re.findall(r"`(python manage\.py [^`]+)`", steps5to7)
    commands = [c for c in commands if "audit_checkpoint" not in c]  # publishing a checkpoint: an operator's file
    assert "python manage.py verify_audit_chain" in commands and "python manage.py reapply_erasures" in commands
    return [line.replace("python ", f"{sys.executable} ", 1) for line in [*lines, *commands]]


@pytest.mark.django_db(transaction=True)
def test_the_restore_steps_run_as_written_act_on_the_restored_database(
    cast, live_deployment, active_agreement, settings, tmp_path
):
    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://...")
    require(bool(shutil.which("pg_dump") and shutil.which("pg_restore")), "needs pg_dump and pg_restore")
    from governance.audit.models import AuditEvent, AuditSeal
    from governance.audit.services import audit_seal_chain_head
    from governance.retention.services import retention_sweep
    from governance.watchlist.models import DeletionCertificate
    from recognition.deployments.models import Alert

    journal = tmp_path / "journal" / "erasure-journal.jsonl"
    settings.OVERSIGHT_ERASURE_JOURNAL = str(journal)
    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden, subject="KX-RUNBOOK-1"))
    audit_seal_chain_head()
    call_command("export_erasure_journal")

    live = dict(connection.settings_dict)
    dumped_seals = AuditSeal.objects.count()
    dump = tmp_path / "oversight.dump"
    _pg(["pg_dump", "--format=custom", f"--file={dump}", live["NAME"]], live)
    # After the backup: the alert's data erased (retention), journalled.
    later = timezone.now() + timedelta(days=active_agreement.match_retention_days + 1)
    assert retention_sweep(at=later, triggered_by="test").erased_counts["alert.match_retention"] == 1
    call_command("export_erasure_journal")
    old_seals = AuditSeal.objects.count()

    restored = f"{live['NAME']}_runbook"
    _pg(["psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'], live)
    _pg(["psql", "-d", "postgres", "-c", f'CREATE DATABASE "{restored}"'], live)
    _pg(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], live)
    auth = live.get("USER") or "postgres"
    if live.get("PASSWORD"):
        auth += f":{live['PASSWORD']}"
    host = f"{live.get('HOST') or '127.0.0.1'}:{live.get('PORT') or 5432}"
    old_url, restored_url = f"postgres://{auth}@{host}/{live['NAME']}", f"postgres://{auth}@{host}/{restored}"

    script = "set -e\n" + "\n".join(runbook_steps_4_to_7(restored_url)) + "\n"
    env = {**os.environ, "DATABASE_URL": old_url, "OVERSIGHT_ERASURE_JOURNAL": str(journal)}
    connection.close()
    try:
        result = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Audit log intact" in result.stdout, result.stdout[-3000:]

        # The old database: untouched by steps 4-7.
        assert AuditSeal.objects.count() == old_seals
        assert not AuditEvent.objects.filter(event="erasure_journal.replayed").exists()

        _switch_database(restored)
        assert AuditEvent.objects.filter(event="erasure_journal.replayed").count() == 1
        assert AuditSeal.objects.count() == dumped_seals + 1  # step 7's seal
        assert Alert.objects.get(pk=alert.pk).erased_at is not None
        certificate = DeletionCertificate.objects.get(subject_type="deployments.alert", subject_id=str(alert.pk))
        assert certificate.reason.startswith("Re-applied from the erasure journal after a restore")
    finally:
        _switch_database(live["NAME"])
        _pg(["psql", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)'], live)
