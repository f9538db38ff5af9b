"""Check the rows of a school or service file before anything is written.

`check_places` turns a `Table` into model values for the good rows and a
`RowError` for every bad one; the writes are in `schools.services`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.contrib.gis.gdal import OGRGeometry
from django.contrib.gis.gdal.geometries import MultiPoint as OGRMultiPoint
from django.contrib.gis.gdal.geometries import Point as OGRPoint
from django.db import models

from preparedness.models import AdminArea
from preparedness.readers import (
    ReadError,
    Row,
    RowError,
    Table,
    column_map,
    paused_gc,
)
from preparedness.spatial_sql import WGS84, PointIn, locate_points, point_problem
from schools.models import School, Service

# Surrounding ASCII whitespace is trimmed; everything else (zero-width spaces
# between Khmer words included) is kept exactly as received.
ASCII_SPACE = " \t\r\n\f\v"
TRUE = frozenset({"yes", "y", "true", "1"})
FALSE = frozenset({"no", "n", "false", "0", ""})
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
WHOLE = re.compile(r"\+?\d+(\.0*)?")
SEPARATORS = re.compile(r"[\s-]+")
MAX_COUNT = 2_147_483_647
KNOWN_SPELLINGS = 1000  # per choice column, remembered for the life of the process
BATCH = 5000
COORDINATES = ("lon", "lat", "x", "y")


@dataclass(frozen=True)
class Column:
    """A column of an import file and the model field it fills."""

    name: str
    attr: str
    parse: Callable[[str], object]


@dataclass(frozen=True)
class PlaceKind:
    """What differs between importing schools and importing services."""

    model: type[School] | type[Service]
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    complete: Callable[[dict[str, object]], None] = lambda values: None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field a file may provide, as named in files and --map."""
        names = ("code", "name_en", "name_km", *(c.name for c in self.columns))
        return (*names, "commune_code", *COORDINATES)


@dataclass(frozen=True, slots=True)
class CleanRow:
    """A good row as model field values, and its point as lon/lat in EPSG:4326.

    The point is kept as two floats rather than a GEOS Point in `values`: the
    writer sends coordinates to PostGIS, and a GEOS object per row costs more
    than the rest of the check (docs/benchmarks.md).
    """

    number: int
    values: dict[str, object]
    lon: float
    lat: float


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a file: good rows, bad rows, what the file provides."""

    rows: list[CleanRow]
    errors: list[RowError]
    fields: frozenset[str]  # model fields the file provides
    codes: frozenset[str] = field(repr=False)  # every code in the file, good or bad


# Parsers take a stripped cell and return a value or raise ValueError(reason).


def text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return parse


def choice(choices: type[models.TextChoices]) -> Callable[[str], str]:
    allowed = ", ".join(choices.values)
    keys = frozenset(choices.values)
    known: dict[str, str] = {}  # cell -> key: a column repeats a few spellings

    def parse(value: str) -> str:
        if value in known:
            return known[value]
        key = SEPARATORS.sub("_", value.lower())
        if key not in keys:
            given = f"{value!r} is not" if value else "missing; must be"
            raise ValueError(f"{given} one of {allowed}")
        if len(known) < KNOWN_SPELLINGS:
            known[value] = key
        return key

    return parse


def count(value: str) -> int:
    if value.isdecimal():  # the common case: the digits that \d in WHOLE matches
        number = int(value)
        if number > MAX_COUNT:
            raise ValueError(f"{value!r} is too large")
        return number
    if not value:
        return 0
    if value.startswith("-") and WHOLE.fullmatch(value[1:]):
        raise ValueError(f"{value!r} is negative")
    if not WHOLE.fullmatch(value):
        raise ValueError(f"{value!r} is not a whole number")
    number = int(value.split(".")[0])
    if number > MAX_COUNT:
        raise ValueError(f"{value!r} is too large")
    return number


def flag(value: str) -> bool:
    key = value.lower()
    if key not in TRUE | FALSE:
        raise ValueError(f"{value!r} is not yes/no (yes, no, true, false, 1, 0, y, n)")
    return key in TRUE


def flag_or_default(value: str) -> bool | None:
    return flag(value) if value else None


def number(value: str) -> float:
    """A decimal number; a decimal comma is accepted when there is no point."""
    if "," in value and "." not in value and value.count(",") == 1:
        value = value.replace(",", ".")
    if not NUMBER.fullmatch(value):
        raise ValueError(f"{value!r} is not a number" if value else "is missing")
    return float(value)


def _service_defaults(values: dict[str, object]) -> None:
    if values.get("sensitive") is None:
        values["sensitive"] = values.get("kind") in Service.SENSITIVE_BY_DEFAULT


COMMON = (
    Column("code", "code", text(32)),
    Column("name_en", "name_en", text(200)),
    Column("name_km", "name_km", text(200)),
)
COMMON_NAMES = frozenset(c.name for c in COMMON)

SCHOOLS = PlaceKind(
    model=School,
    columns=(
        Column("level", "level", choice(School.Level)),
        Column("enrolment_girls", "enrolment_girls", count),
        Column("enrolment_boys", "enrolment_boys", count),
        Column("learners_with_disabilities", "learners_with_disabilities", count),
        Column("evacuation_centre", "evacuation_centre", flag),
    ),
    required=("level",),
)
SERVICES = PlaceKind(
    model=Service,
    columns=(
        Column("kind", "kind", choice(Service.Kind)),
        Column("contact", "contact", text(200)),
        Column("sensitive", "sensitive", flag_or_default),
    ),
    required=("kind",),
    complete=_service_defaults,
)


def check_places(
    table: Table,
    *,
    kind: PlaceKind,
    mapping: Mapping[str, str] | None = None,
    srid: int | None = None,
) -> Checked:
    """Check every row of `table`; raise ReadError for missing or misnamed columns."""
    with paused_gc():
        return _check_places(table, kind, mapping, srid)


def _check_places(
    table: Table, kind: PlaceKind, mapping: Mapping[str, str] | None, srid: int | None
) -> Checked:
    cols = column_map(table, fields=kind.fields, mapping=mapping)
    xy_srid = _require_columns(table, cols, kind, srid)
    parsers = {
        c.name: c
        for c in (*COMMON, *kind.columns)
        if c.name in cols or c.name in COMMON_NAMES
    }
    errors: list[RowError] = []
    pending: dict[int, dict[str, object]] = {}
    lonlat: dict[int, tuple[float, float]] = {}
    points: dict[int, tuple[PointIn, str]] = {}
    first_row: dict[str, int] = {}
    for row in table.rows:
        cell = {name: row.values[col].strip(ASCII_SPACE) for name, col in cols.items()}
        code = cell.get("code", "")
        found: list[tuple[str, str]] = []  # (field, reason)
        if not code:
            errors.append(RowError(row.number, "code", "code is missing"))
            continue
        if code in first_row:
            reason = f"duplicate code {code!r}, first in row {first_row[code]}"
            errors.append(RowError(row.number, "code", reason, code))
            continue
        first_row[code] = row.number
        values: dict[str, object] = {}
        for name, column in parsers.items():
            try:
                values[column.attr] = column.parse(cell.get(name, ""))
            except ValueError as exc:
                found.append((name, f"{name} {exc}"))
        if not (cell.get("name_en") or cell.get("name_km")):
            found.append(("name_en", "a name is required (name_en or name_km)"))
        if cell.get("commune_code"):
            values["commune_id"] = cell["commune_code"]
        try:
            points[row.number] = _point(row, cell, table.srid, xy_srid)
        except _CoordinateError as exc:
            found.append((exc.field, exc.reason))
        kind.complete(values)
        pending[row.number] = values
        if found:
            errors.extend(RowError(row.number, f, why, code) for f, why in found)

    # Set-based checks: are the named communes known, where are the points.
    named = {str(v["commune_id"]) for v in pending.values() if "commune_id" in v}
    unknown = named - _existing_communes(named)
    located = locate_points([p for p, _ in points.values()])
    for number, values in pending.items():
        code = str(values["code"])
        given = values.get("commune_id")
        if given in unknown:
            reason = f"unknown commune code {given!r}"
            if len(str(given)) == 5 and str(given).isdigit():
                reason += " (a leading zero lost?)"
            errors.append(RowError(number, "commune_code", reason, code))
        if number not in points:
            continue
        where, label = located[number], points[number][1]
        if not where.in_cambodia or where.lon is None or where.lat is None:
            reason = "point is outside Cambodia"
            if where.lon is not None and where.lat is not None:
                reason += f" (lon {where.lon:.5f}, lat {where.lat:.5f})"
            errors.append(RowError(number, label, reason, code))
            continue
        lonlat[number] = (where.lon, where.lat)
        if given is None:
            if where.commune_code is None:
                reason = "no commune found at this location; give commune_code"
                errors.append(RowError(number, "commune_code", reason, code))
            values["commune_id"] = where.commune_code

    errors.sort(key=lambda e: e.row)
    bad = {e.row for e in errors}
    provided = {"code", "commune", "location"}
    provided |= {c.attr for name, c in parsers.items() if name in cols}
    return Checked(
        rows=[CleanRow(n, v, *lonlat[n]) for n, v in pending.items() if n not in bad],
        errors=errors,
        fields=frozenset(provided),
        codes=frozenset(first_row),
    )


class _CoordinateError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _require_columns(
    table: Table, cols: Mapping[str, str], kind: PlaceKind, srid: int | None
) -> int | None:
    """Refuse a file without the columns we need; return the SRID of its x/y."""
    missing = [name for name in ("code", *kind.required) if name not in cols]
    if "name_en" not in cols and "name_km" not in cols:
        missing.append("name_en or name_km")
    for a, b in (("lon", "lat"), ("x", "y")):
        if (a in cols) != (b in cols):
            missing.append(b if a in cols else a)
    has_xy = "x" in cols and "y" in cols
    if not (table.is_layer or set(COORDINATES) & set(cols)):
        missing.append("lon and lat (or x and y with --srid)")
    if missing:
        raise ReadError(
            f"{table.name}: missing column {', '.join(missing)} "
            f"(columns: {', '.join(table.columns) or 'none'}; see --map)"
        )
    if table.is_layer:
        return srid or table.srid
    if has_xy and srid is None:
        raise ReadError(
            f"{table.name}: x/y columns need --srid (e.g. 32648 for UTM zone 48N)"
        )
    if srid not in (None, WGS84) and not has_xy:
        raise ReadError(
            f"{table.name}: --srid applies to x/y columns, and lon/lat are always "
            "WGS 84 (EPSG:4326); map the columns with --map x=...,y=..."
        )
    return srid


def _existing_communes(codes: Iterable[str]) -> set[str]:
    codes, found = sorted(codes), set()
    for start in range(0, len(codes), BATCH):
        found |= set(
            AdminArea.objects.filter(
                level=AdminArea.Level.COMMUNE, code__in=codes[start : start + BATCH]
            ).values_list("code", flat=True)
        )
    return found


def _point(
    row: Row, cell: Mapping[str, str], layer_srid: int | None, xy_srid: int | None
) -> tuple[PointIn, str]:
    """The row's point and the field it came from: geometry, else x/y, else lon/lat."""
    geom = row.geometry
    if geom is not None and not geom.empty:
        (x, y), srid, label = _point_xy(geom), layer_srid or WGS84, "geometry"
    elif cell.get("x") or cell.get("y"):
        (x, y), srid, label = _pair(cell, "x", "y"), xy_srid or WGS84, "y"
    else:
        (x, y), srid, label = _pair(cell, "lon", "lat"), WGS84, "lat"
    problem = point_problem(x, y, srid)
    if problem:
        raise _CoordinateError(label, problem)
    return PointIn(row.number, x, y, srid), label


def _point_xy(geom: OGRGeometry) -> tuple[float, float]:
    if isinstance(geom, OGRMultiPoint) and len(geom) == 1:
        geom = geom[0]
    if not isinstance(geom, OGRPoint):
        reason = f"geometry is a {geom.geom_type.name}, not a point"
        raise _CoordinateError("geometry", reason)
    return float(geom.x), float(geom.y)


def _pair(cell: Mapping[str, str], xname: str, yname: str) -> tuple[float, float]:
    xy = []
    for name in (xname, yname):
        try:
            xy.append(number(cell.get(name, "")))
        except ValueError as exc:
            raise _CoordinateError(name, f"{name} {exc}") from None
    return xy[0], xy[1]
