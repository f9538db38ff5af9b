"""`manage.py import_hazard PATH --type flood --name NAME`: import a hazard layer."""

from argparse import ArgumentParser, ArgumentTypeError
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hazards.services import hazard_layer_import
from preparedness.progress import ProgressBar
from preparedness.readers import (
    ImportRejected,
    InputError,
    RowError,
    parse_mapping,
    write_report,
)

PROGRESS_FROM = 1000  # features; smaller files import without a progress bar
LISTED = 200  # rows listed per kind on the console; the report has them all


def breaks_list(text: str) -> list[float]:
    """`0.5,1.5,3.0` as numbers."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ArgumentTypeError(
            f"{text!r} is not a list of numbers like 0.5,1.5,3.0"
        ) from None


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date like 2013-10-01") from None


def iso_datetime(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(
            f"{text!r} is not a time like 2024-10-01T06:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Import a hazard layer: zones (polygons) or storm tracks (lines) from "
        "GeoJSON, GeoPackage, zipped Shapefile or KML; storm best tracks from CSV "
        "(JTWC columns SN, Year, Month, Day, Hour, Lat, Lon, VMax; others with "
        "--map); a single-band GeoTIFF raster. A layer of the same name is replaced."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "file",
            type=Path,
            help=".geojson, .gpkg, .zip (Shapefile), .kml, .csv, .tif",
        )
        parser.add_argument(
            "--type",
            required=True,
            help="hazard type: riverine_flood (flood), flash_flood, coastal_flood, "
            "storm (typhoon, cyclone), drought, landslide, lightning",
        )
        parser.add_argument("--name", required=True, help="layer name")
        parser.add_argument("--intensity-field", help="field holding the intensity")
        parser.add_argument(
            "--class-field", help="field holding the hazard class (0-4) of zones"
        )
        parser.add_argument(
            "--breaks",
            type=breaks_list,
            metavar="B1,B2,B3",
            help="intensities where classes 2, 3 and 4 start (default per type)",
        )
        scenario = parser.add_mutually_exclusive_group()
        scenario.add_argument(
            "--return-period", type=int, metavar="YEARS", help="e.g. 100"
        )
        scenario.add_argument(
            "--event-date", type=iso_date, metavar="YYYY-MM-DD", help="historical event"
        )
        scenario.add_argument(
            "--valid-time",
            type=iso_datetime,
            metavar="ISO-TIME",
            help="forecast valid time (UTC unless a zone is given)",
        )
        parser.add_argument("--source", default="", help="source / credit")
        parser.add_argument(
            "--srid", type=int, help="EPSG code of a file without a CRS (e.g. 32648)"
        )
        parser.add_argument(
            "--map",
            default="",
            metavar="FIELD=COLUMN,...",
            help="best-track columns, e.g. storm_id=SID,time=ISO_TIME,wind=USA_WIND "
            "(fields: storm_id, name, time, year, month, day, hour, lat, lon, wind, "
            "radius)",
        )
        parser.add_argument("--wind-field", help="track field of max wind (kt)")
        parser.add_argument("--radius-field", help="track field of wind radius (km)")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good features and list the rejected ones",
        )
        parser.add_argument(
            "--report", type=Path, help="CSV of the rejected features (row, reason)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        report: Path | None = options["report"]
        bar = ProgressBar(unit="feature", threshold=PROGRESS_FROM)
        try:
            result = hazard_layer_import(
                path=path,
                hazard_type=options["type"],
                name=options["name"],
                intensity_field=options["intensity_field"],
                class_field=options["class_field"],
                breaks=options["breaks"],
                return_period=options["return_period"],
                event_date=options["event_date"],
                valid_time=options["valid_time"],
                source=options["source"],
                srid=options["srid"],
                skip_bad_rows=options["skip_bad_rows"],
                mapping=parse_mapping(options["map"]),
                wind_field=options["wind_field"],
                radius_field=options["radius_field"],
                progress=bar,
            )
        except ImportRejected as exc:
            if report is not None:
                write_report(report, exc.errors)
            raise CommandError(
                f"{path.name}: {len(exc.errors)} of {exc.read} features rejected; "
                "nothing was written (--skip-bad-rows imports the others).\n"
                + _listing("rejected", exc.errors),
                returncode=2,
            ) from None
        except InputError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            bar.close()
        layer = result.layer
        what = {"zones": "zones", "tracks": "track segments"}.get(
            layer.representation, "raster"
        )
        self.stdout.write(
            f"{path.name}: layer {layer.name!r} (id {layer.pk}, "
            f"{layer.get_representation_display().lower()}): read {result.read}, "
            f"imported {result.imported} {what}, repaired {len(result.repaired)}, "
            f"rejected {len(result.rejected)}, dropped {len(result.dropped)}"
        )
        for kind, rows in (
            ("repaired", result.repaired),
            ("rejected", result.rejected),
            ("dropped", result.dropped),
        ):
            if rows:
                self.stdout.write(_listing(kind, rows))
        if result.rejected and report is not None:
            write_report(report, result.rejected)
            self.stdout.write(f"rejected rows written to {report}")


def _listing(kind: str, errors: list[RowError]) -> str:
    lines = [f"{kind}:"] + [f"  {e}" for e in errors[:LISTED]]
    if len(errors) > LISTED:
        lines.append(f"  ... and {len(errors) - LISTED} more")
    return "\n".join(lines)
