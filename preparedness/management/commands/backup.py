"""python manage.py backup [--out DIR]: the database and media files in one tar."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from preparedness.backup import BackupError, backup_write


class Command(BaseCommand):
    help = "Write var/backups/<timestamp>.tar: the database (pg_dump) and media files."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=str(settings.BASE_DIR / "var" / "backups"))

    def handle(self, *args, **options):
        try:
            path = backup_write(
                Path(options["out"]),
                database=settings.DATABASES["default"],
                media_root=Path(settings.MEDIA_ROOT),
            )
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"Backup written: {path}")
