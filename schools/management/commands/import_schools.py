"""`manage.py import_schools FILE`: create or update schools from an EMIS file."""

from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from preparedness.progress import ProgressBar
from preparedness.readers import (
    ImportRejected,
    InputError,
    RowError,
    parse_mapping,
    write_report,
)
from schools.services import ImportResult, places_follow_up, school_import

PROGRESS_FROM = 1000  # rows; smaller files import without a progress bar
LISTED = 200  # rejected rows listed on the console; the report has them all


class Command(BaseCommand):
    help = (
        "Create or update schools by code from a CSV, XLSX, GeoJSON or GeoPackage "
        "file. Columns: code, name_en, name_km, level, enrolment_girls, "
        "enrolment_boys, commune_code, evacuation_centre, lon, lat."
    )
    noun = "schools"
    run_import: Callable[..., ImportResult] = staticmethod(school_import)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="CSV, XLSX, GeoJSON or GeoPackage")
        parser.add_argument(
            "--map",
            default="",
            metavar="FIELD=COLUMN,...",
            help="read fields from other columns, e.g. code=SCHOOL_ID,lat=Y,lon=X "
            "(x=,y= for projected coordinates with --srid)",
        )
        parser.add_argument(
            "--srid",
            type=int,
            help="EPSG code of x/y columns or of a layer without a CRS (e.g. 32648)",
        )
        parser.add_argument("--sheet", help="worksheet (XLSX) or layer (GeoPackage)")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows and write the bad ones to the report",
        )
        parser.add_argument(
            "--report",
            type=Path,
            help="CSV of rejected rows (default with --skip-bad-rows: "
            "<file stem>-rejected.csv in the current directory)",
        )
        parser.add_argument(
            "--close-missing",
            action="store_true",
            help=f"close the open {self.noun} absent from this full file "
            "(kept with their history, never deleted)",
        )
        parser.add_argument(
            "--no-recompute",
            action="store_true",
            help="do not recompute exposure, nearest services and risk afterwards "
            "(run compute_exposure and compute_risk later)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report: Path | None = options["report"]
        if options["skip_bad_rows"] and report is None:
            report = Path.cwd() / f"{path.stem}-rejected.csv"
        bar = ProgressBar(unit="row", threshold=PROGRESS_FROM)
        try:
            result = self.run_import(
                path=path,
                mapping=parse_mapping(options["map"]),
                srid=options["srid"],
                sheet=options["sheet"],
                skip_bad_rows=options["skip_bad_rows"],
                close_missing=options["close_missing"],
                progress=bar,
            )
        except ImportRejected as exc:
            if report is not None:
                write_report(report, exc.errors)
            raise CommandError(
                f"{path.name}: {len(exc.errors)} of {exc.read} rows rejected; "
                f"nothing was written.\n" + _listing(exc.errors, report),
                returncode=2,
            ) from None
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            bar.close()
        self.stdout.write(
            f"{path.name}: read {result.read}, created {result.created}, "
            f"updated {result.updated}, closed {result.closed}, "
            f"rejected {len(result.rejected)}"
        )
        if result.rejected and report is not None:
            write_report(report, result.rejected)
            self.stderr.write(_listing(result.rejected, report))
        if (result.created or result.updated or result.closed) and not options[
            "no_recompute"
        ]:
            seconds = places_follow_up()
            self.stdout.write(
                f"exposure, nearest services and risk recomputed in {seconds:.1f} s"
            )


def _listing(errors: list[RowError], report: Path | None) -> str:
    lines = [str(e) for e in errors[:LISTED]]
    if len(errors) > LISTED:
        lines.append(f"... and {len(errors) - LISTED} more")
    if report is not None:
        lines.append(f"rejected rows written to {report}")
    elif len(errors) > LISTED:
        lines.append("pass --report PATH to get them all")
    return "\n".join(lines)
