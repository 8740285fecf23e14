from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.crypto import EncryptedTextField


class Command(BaseCommand):
    help = ("Re-encrypt every stored credential with the newest key in CREDENTIALS_KEYS. Run it after "
            "putting a new key in front; afterwards the old keys can be removed.")

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            with transaction.atomic():
                rows = list(model._base_manager.select_for_update())
                for row in rows:
                    # Loading decrypts with whichever key fits; saving encrypts with the newest.
                    row.save(update_fields=fields)
            self.stdout.write(f"{model._meta.label}: {len(rows)} rows re-encrypted")
