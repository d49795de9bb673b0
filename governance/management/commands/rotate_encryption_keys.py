"""Re-encrypt every encrypted field under the current first key of ``OVERSIGHT_ENCRYPTION_KEYS``.

Key rotation: prepend the new key, deploy, run this, then remove the old key. Finds the models that
declare ``ENCRYPTED_FIELDS`` (image bytes, face templates, …), so governance needs no knowledge of
recognition's models. Works in batches, one transaction per batch; safe to interrupt and rerun.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from governance import encryption
from governance.locks import lock_rows


class Command(BaseCommand):
    help = "Re-encrypt stored biometric data under the current first encryption key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, batch_size: int, **options):
        current = encryption.key_fingerprint()
        for model in apps.get_models():
            fields = getattr(model, "ENCRYPTED_FIELDS", None)
            if not fields:
                continue
            done = 0
            # Models recording which key encrypted a row skip rows already done (resumable); the
            # others are re-encrypted in primary-key order from where the last batch ended.
            tracks_key = any(f.name == "key_id" for f in model._meta.get_fields())
            last_pk = None
            while True:
                with transaction.atomic():
                    pending = model.objects.exclude(key_id=current) if tracks_key else model.objects.all()
                    if last_pk is not None and not tracks_key:
                        pending = pending.filter(pk__gt=last_pk)
                    batch = list(lock_rows(pending.order_by("pk"))[:batch_size])
                    if not batch:
                        break
                    for row in batch:
                        for name in fields:
                            value = getattr(row, name)
                            if value:
                                setattr(row, name, encryption.reencrypt(bytes(value)))
                        if tracks_key:
                            row.key_id = current
                        row.save(update_fields=[*fields, *(["key_id"] if tracks_key else [])])
                    last_pk = batch[-1].pk
                done += len(batch)
            self.stdout.write(f"{model._meta.label}: {done} re-encrypted.")
