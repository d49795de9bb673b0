"""Sign-in events in the audit log, seal key ids on events, and the database refusing rewrites.

The trigger makes the audit table append-only in PostgreSQL itself, not only in the application:
an UPDATE or DELETE issued by any session — a bug, an injected query, someone at a psql prompt
with the application's credentials — is refused, except

* the retention redaction (``audit_event_redact``): only while the transaction-local setting
  ``oversight.audit_redaction`` is on, only on a row not yet redacted, and only blanking the
  personal fields (their digests stay, so the chain still verifies) — a rewrite through this path
  is impossible, only an erasure;
* ``actor_id`` set to NULL when the user is deleted (``on_delete=SET_NULL``); the chained copy of
  the username stays.

Seals are refused every UPDATE and DELETE. What a trigger cannot stop (the table's owner dropping
it, a superuser disabling triggers) is covered by running the application as a role that does not
own the tables (README) and by the seals and published checkpoints (SECURITY.md).
"""

from django.db import migrations, models

GUARD_SQL = r"""
CREATE OR REPLACE FUNCTION oversight_audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    redactable text[] := ARRAY['justification', 'recipient', 'target_label', 'details', 'redacted_at'];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF coalesce(current_setting('oversight.audit_redaction', true), '') = 'on'
           AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL
           AND NEW.justification = '' AND NEW.recipient = '' AND NEW.target_label = ''
           AND NEW.details = '{}'::jsonb
           AND (to_jsonb(NEW) - redactable) = (to_jsonb(OLD) - redactable) THEN
            RETURN NEW;
        END IF;
        IF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
           AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % of event #% refused', TG_OP, OLD.sequence
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the retention redaction may blank personal fields (audit_event_redact).';
END $$;

CREATE OR REPLACE FUNCTION oversight_audit_seal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit seals are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

DROP TRIGGER IF EXISTS oversight_audit_event_guard ON governance_auditevent;
CREATE TRIGGER oversight_audit_event_guard BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION oversight_audit_event_guard();
DROP TRIGGER IF EXISTS oversight_audit_seal_guard ON governance_auditseal;
CREATE TRIGGER oversight_audit_seal_guard BEFORE UPDATE OR DELETE ON governance_auditseal
    FOR EACH ROW EXECUTE FUNCTION oversight_audit_seal_guard();
"""

UNGUARD_SQL = r"""
DROP TRIGGER IF EXISTS oversight_audit_event_guard ON governance_auditevent;
DROP TRIGGER IF EXISTS oversight_audit_seal_guard ON governance_auditseal;
DROP FUNCTION IF EXISTS oversight_audit_event_guard();
DROP FUNCTION IF EXISTS oversight_audit_seal_guard();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0006_dpia")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("collection", "Collection"),
                    ("alteration", "Alteration"),
                    ("consultation", "Consultation"),
                    ("disclosure", "Disclosure (incl. transfer)"),
                    ("combination", "Combination"),
                    ("erasure", "Erasure"),
                    ("authentication", "Sign-in and account security"),
                ],
                db_index=True,
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="signature_key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(_on_postgresql(GUARD_SQL), _on_postgresql(UNGUARD_SQL), elidable=False),
    ]
