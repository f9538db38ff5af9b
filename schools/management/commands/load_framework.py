"""Load the school safety framework versions shipped with SalaSafe, or one file."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from schools.checklists.framework import FrameworkError
from schools.checklists.services import framework_load, framework_load_shipped


class Command(BaseCommand):
    help = (
        "Load safety framework versions (default: every file in schools/frameworks/). "
        "A version already loaded may only change its wording; exit 2 otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help="A framework JSON file.")

    def handle(self, *args: Any, path: Path | None = None, **options: Any) -> None:
        try:
            loads = [framework_load(path)] if path else framework_load_shipped()
        except FrameworkError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        for load in loads:
            state = (
                "loaded"
                if load.created
                else "wording updated"
                if load.wording_updated
                else "already loaded"
            )
            self.stdout.write(f"Framework {load.version}: {state}")
