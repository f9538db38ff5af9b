"""Shared pieces of hazard vector reading: what a read file, a zone and a track are,
the region tracks must come near, attribute helpers and the wind-radius rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import shapely
from django.contrib.gis.gdal import (
    GDALException,
    OGRGeometry,
    SpatialReference,
)

from hazards.errors import HazardInputError
from hazards.models import UTM_48N
from preparedness.readers import RowError

WGS84 = 4326

VECTOR_FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".kml": "KML",
}

RASTER_SUFFIXES = (".tif", ".tiff")


TABLE_SUFFIXES = (".csv",)

SUFFIXES = (*VECTOR_FORMATS, *RASTER_SUFFIXES, *TABLE_SUFFIXES)


FileKind = Literal["vector", "raster", "table"]


GeometryKind = Literal["polygons", "lines", "points"]


Bounds = tuple[float, float, float, float]


# How far from Cambodia a storm track still matters: a storm is dangerous before
# it arrives, so a track is kept whole when any part passes this close.
TRACK_REACH_KM = 500.0

WIND_RADIUS_KM: tuple[tuple[float, float], ...] = (
    (34.0, 50.0),  # tropical depression, < 34 kt
    (64.0, 150.0),  # tropical storm, 34-63 kt
    (96.0, 200.0),  # typhoon, 64-95 kt
    (math.inf, 250.0),  # intense typhoon, >= 96 kt
)

# Line-file attributes recognised without options.
TRACK_COLUMNS: dict[str, tuple[str, ...]] = {
    "storm_id": ("storm_id", "sn", "sid"),
    "name": ("name", "storm_name"),
    "wind": ("max_wind_kt", "wind", "vmax"),
    "radius": ("radius_km",),
}


@dataclass(frozen=True)
class Feature:
    """One feature of a vector file: its row, EPSG:4326 geometry and attributes."""

    row: int
    geometry: shapely.Geometry
    values: dict[str, Any]


@dataclass
class VectorRead:
    """What a vector file held: features by kind of geometry, and refused rows."""

    name: str
    format: str
    crs: str
    columns: tuple[str, ...]
    read: int
    kind: GeometryKind | None
    features: list[Feature]
    rejected: list[RowError]


@dataclass(frozen=True)
class Zone:
    """A hazard zone ready to save: EPSG:4326 MultiPolygon, intensity and class."""

    row: int
    area: shapely.MultiPolygon
    intensity: float | None
    hazard_class: int
    properties: dict[str, Any]


@dataclass(frozen=True)
class Track:
    """A storm track segment ready to save; `group` is kept or dropped as one."""

    row: int
    group: str
    storm_id: str
    name: str
    path: shapely.LineString
    max_wind_kt: float
    radius_km: float
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    """Features made from a file, with the rows repaired, rejected and dropped."""

    read: int
    zones: list[Zone] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    repaired: list[RowError] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    dropped: list[RowError] = field(default_factory=list)
    crs: str = "EPSG:4326"


class Region:
    """Cambodia for the import checks: a lon/lat box, and that box in UTM 48N."""

    def __init__(self, extent: Bounds) -> None:
        self.extent = extent
        self.box = shapely.box(*extent)
        # Densified before projecting, so its edges stay true in metres.
        self.box_utm = _to_utm(shapely.segmentize(self.box, 0.05))

    def meets(self, geometry: shapely.Geometry) -> bool:
        return bool(shapely.intersects(geometry, self.box))

    def within_km(self, geometry: shapely.Geometry, km: float) -> bool:
        """Whether `geometry` passes within `km` of the box (measured in UTM 48N)."""
        if self.meets(geometry):
            return True
        projected = _to_utm(geometry)
        if projected is None or self.box_utm is None:
            return False  # far outside the zone's domain: thousands of km away
        return bool(shapely.distance(projected, self.box_utm) <= km * 1000)


def wind_radius_km(wind_kt: float) -> float:
    """The radius of damaging winds for a 1-minute sustained wind (WIND_RADIUS_KM)."""
    return next(radius for bound, radius in WIND_RADIUS_KM if wind_kt < bound)


def keep_near(
    tracks: list[Track], region: Region, km: float = TRACK_REACH_KM
) -> tuple[list[Track], list[RowError]]:
    """Keep each group of tracks whole when any part passes within `km` of Cambodia."""
    groups: dict[str, list[Track]] = {}
    for track in tracks:
        groups.setdefault(track.group, []).append(track)
    kept: list[Track] = []
    dropped: list[RowError] = []
    for group, members in groups.items():
        lines = shapely.multilinestrings([t.path for t in members])
        if region.within_km(lines, km):
            kept.extend(members)
        else:
            what = f"storm {members[0].storm_id}" if members[0].storm_id else group
            reason = f"{what} never passes within {km:.0f} km of Cambodia"
            dropped.append(RowError(members[0].row, "geometry", reason, "far"))
    return kept, dropped


def _to_utm(geometry: shapely.Geometry) -> shapely.Geometry | None:
    ogr = OGRGeometry(memoryview(shapely.to_wkb(geometry)), SpatialReference(WGS84))
    try:
        ogr.transform(UTM_48N)
    except GDALException:
        return None
    projected = shapely.from_wkb(bytes(ogr.wkb))
    coordinates = shapely.get_coordinates(projected)
    if coordinates.size and not (abs(coordinates) < math.inf).all():
        return None
    return projected


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(values: Mapping[str, Any], column: str | None) -> float | None:
    """A finite number from an attribute; None when absent or empty."""
    if column is None:
        return None
    value = values.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _hazard_class(values: Mapping[str, Any], column: str) -> int:
    number = _number(values, column)
    if number is None or not number.is_integer() or not 0 <= number <= 4:
        shown = _text(values.get(column)) or "(empty)"
        raise ValueError(f"hazard class {shown} is not a whole number from 0 to 4")
    return int(number)


def _listing(columns: Sequence[str]) -> str:
    return ", ".join(columns) or "none"


def _column(vector: VectorRead, name: str) -> str | None:
    """The file's attribute named `name` (any case), or None."""
    wanted = name.strip().lower()
    return next((c for c in vector.columns if c.lower() == wanted), None)


def _required_column(vector: VectorRead, name: str | None, option: str) -> str | None:
    if name is None or not name.strip():
        return None
    column = _column(vector, name)
    if column is None:
        raise HazardInputError(
            f"{vector.name} has no field {name!r} (fields: {_listing(vector.columns)})",
            field=option,
        )
    return column


def _alias(columns: Sequence[str], names: Sequence[str]) -> str | None:
    by_lower = {c.lower(): c for c in columns}
    return next((by_lower[n] for n in names if n in by_lower), None)


def _mapping(
    mapping: Mapping[str, str] | None, known: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    given = {k.strip().lower(): v.strip() for k, v in (mapping or {}).items()}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise HazardInputError(
            f"--map: unknown field {', '.join(unknown)} (fields: {', '.join(known)})",
            field="map",
        )
    return given
