"""`manage.py import_submissions FILE`: checklists filled in KoboToolbox or ODK."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from preparedness.readers import ImportRejected, InputError, RowError, write_report
from schools.checklists.submissions import submissions_import

LISTED = 200  # rejected rows listed on the console; the report has them all


class Command(BaseCommand):
    help = (
        "Create submitted assessments from a KoboToolbox or ODK Central export "
        "(CSV or XLSX) of the checklist XLSForm (see export_xlsform). Submissions "
        "already imported are skipped, so a cumulative export can be imported "
        "again. Exit 2, writing nothing, if a row is bad (unless --skip-bad-rows)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="CSV or XLSX export")
        parser.add_argument(
            "--framework",
            metavar="VERSION",
            help="framework version of the form (default: the latest loaded)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--all-or-nothing",
            dest="skip_bad_rows",
            action="store_false",
            help="write nothing if any row is bad (the default)",
        )
        mode.add_argument(
            "--skip-bad-rows",
            dest="skip_bad_rows",
            action="store_true",
            help="import the good rows and write the bad ones to the report",
        )
        parser.set_defaults(skip_bad_rows=False)
        parser.add_argument(
            "--report",
            type=Path,
            help="CSV of rejected rows (default with --skip-bad-rows: "
            "<file stem>-rejected.csv in the current directory)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report: Path | None = options["report"]
        if options["skip_bad_rows"] and report is None:
            report = Path.cwd() / f"{path.stem}-rejected.csv"
        try:
            result = submissions_import(
                path=path,
                framework_version=options["framework"],
                skip_bad_rows=options["skip_bad_rows"],
            )
        except ImportRejected as exc:
            if report is not None:
                write_report(report, exc.errors)
            raise CommandError(
                f"{path.name}: {len({e.row for e in exc.errors})} of {exc.read} rows "
                "rejected; nothing was written.\n" + _listing(exc.errors, report),
                returncode=2,
            ) from None
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        rejected_rows = len({e.row for e in result.rejected})
        self.stdout.write(
            f"{path.name}: read {result.read}, created {result.created}, "
            f"already imported {result.skipped_existing}, rejected {rejected_rows}"
        )
        if result.rejected and report is not None:
            write_report(report, result.rejected)
            self.stderr.write(_listing(result.rejected, report))


def _listing(errors: list[RowError], report: Path | None) -> str:
    lines = [str(e) for e in errors[:LISTED]]
    if len(errors) > LISTED:
        lines.append(f"... and {len(errors) - LISTED} more")
    if report is not None:
        lines.append(f"rejected rows written to {report}")
    elif len(errors) > LISTED:
        lines.append("pass --report PATH to get them all")
    return "\n".join(lines)
