"""`manage.py export COLLECTION --format geojson|csv|gpkg|kml --out PATH [filters]`:
the API's exports for scripts, as an administrator sees them but with sensitive
services left out unless --include-sensitive."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from maps import exports
from maps.selectors import COLLECTIONS, command_viewer

# Every filter some collection accepts, as --option (aoi is an area-of-interest id).
FILTERS: list[str] = sorted(
    {str(name) for c in COLLECTIONS.values() for name in c.filters().fields}
)


class Command(BaseCommand):
    help = (
        "Export a collection (schools, services, hazard_zones, admin_areas, "
        "plan_coverage) with the API's filters, e.g. "
        "`export schools --format gpkg --out kampot.gpkg --province 07 "
        "--risk-class high,very_high`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("collection", choices=list(COLLECTIONS))
        parser.add_argument(
            "--format", dest="fmt", choices=list(exports.FORMATS), required=True
        )
        parser.add_argument("--out", type=Path, required=True, help="file to write")
        parser.add_argument(
            "--hxl", action="store_true", help="CSV: add the HXL hashtag row"
        )
        parser.add_argument(
            "--include-sensitive",
            action="store_true",
            help="include sensitive services (safe shelters) with their places",
        )
        for name in FILTERS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=f"f_{name}")

    def handle(self, *args: Any, **options: Any) -> None:
        collection = COLLECTIONS[options["collection"]]
        fmt = options["fmt"]
        if fmt == "kml" and not collection.kml:
            raise CommandError(
                "--format kml: KML is offered for schools only.", returncode=2
            )
        given = {
            name: options[f"f_{name}"]
            for name in FILTERS
            if options.get(f"f_{name}") is not None
        }
        serializer = collection.filters(data=given)
        known = {str(name) for name in serializer.fields}
        unknown = sorted(set(given) - known)
        if unknown:
            options_text = ", ".join("--" + n.replace("_", "-") for n in unknown)
            raise CommandError(
                f"{options_text}: not a filter of {collection.name}.", returncode=2
            )
        if not serializer.is_valid():
            messages = "; ".join(
                f"--{field.replace('_', '-')}: {' '.join(map(str, errors))}"
                for field, errors in serializer.errors.items()
            )
            raise CommandError(messages, returncode=2)
        filters = {
            k: v for k, v in serializer.validated_data.items() if v not in (None, "")
        }
        out: Path = options["out"]
        if not out.parent.is_dir():
            raise CommandError(f"--out: no folder {out.parent}", returncode=2)
        viewer = command_viewer(include_sensitive=options["include_sensitive"])
        try:
            exports.export_to_path(
                collection=collection,
                viewer=viewer,
                filters=filters,
                fmt=fmt,
                out=out,
                hxl=options["hxl"],
            )
        except exports.ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {collection.name} as {fmt} to {out}")
