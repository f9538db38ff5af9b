"""`manage.py import_services FILE`: create or update child-protection services."""

from collections.abc import Callable

from schools.management.commands import import_schools
from schools.services import ImportResult, service_import


class Command(import_schools.Command):
    help = (
        "Create or update services by code from a CSV, XLSX, GeoJSON or GeoPackage "
        "file. Columns: code, kind, name_en, name_km, contact, commune_code, "
        "sensitive, lon, lat."
    )
    noun = "services"
    run_import: Callable[..., ImportResult] = staticmethod(service_import)
