"""python manage.py restore PATH --yes: replace the database and media files
with those of a backup (all or nothing)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from preparedness.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup written by `backup` (replaces the database and media)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the current data is replaced."
        )

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError(
                "Restoring replaces the current database and media files; "
                "add --yes to confirm.",
                returncode=2,
            )
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such backup file.", returncode=2)
        try:
            manifest = backup_restore(
                path,
                database=settings.DATABASES["default"],
                media_root=Path(settings.MEDIA_ROOT),
            )
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(
            f"Restored {path} (written {manifest['created_at']}, "
            f"{manifest['media_files']} media files)."
        )
