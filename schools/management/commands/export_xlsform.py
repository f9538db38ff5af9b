"""`manage.py export_xlsform OUT.xlsx`: the checklist as an XLSForm for Kobo/ODK."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from preparedness.readers import InputError
from schools.checklists.submissions import framework_for_import
from schools.checklists.xlsform import xlsform_write


class Command(BaseCommand):
    help = (
        "Write the safety checklist as an XLSForm (English and Khmer) to upload to "
        "KoboToolbox or ODK Central; exit 2 if the version is not loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="the .xlsx file to write")
        parser.add_argument(
            "--framework",
            metavar="VERSION",
            help="framework version (default: the latest loaded)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        if out.suffix.lower() != ".xlsx":
            raise CommandError(f"{out}: give an .xlsx file name", returncode=2)
        try:
            framework = framework_for_import(options["framework"])
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        try:
            xlsform_write(framework, str(out))
        except OSError as exc:
            raise CommandError(f"{out}: cannot write ({exc})", returncode=2) from None
        self.stdout.write(f"Framework {framework.version}: XLSForm written to {out}")
