"""Hazard vector files and best-track tables, read into features in EPSG:4326.

GeoJSON, GeoPackage, zipped Shapefile and KML files hold zones (polygons) or
storm tracks (lines); the geometry type decides which. Every geometry is
reprojected from its file's CRS (or `srid`) to EPSG:4326, invalid polygons are
repaired (a repair is reported, not a failure), and features with empty or
non-finite geometry are rejected. Best-track tables (JTWC, IBTrACS: one storm
fix per row) become track segments between consecutive fixes.
"""

from __future__ import annotations

import itertools
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from django.contrib.gis.gdal import (
    CoordTransform,
    DataSource,
    GDALException,
    OGRGeometry,
    SpatialReference,
    SRSException,
)

from hazards.classes import intensity_class
from hazards.errors import HazardInputError
from hazards.models import UTM_48N
from preparedness.readers import RowError, read_table

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
"""Radius (km) of damaging winds around a storm centre when a file gives none.

Each row is (upper wind bound in kt, radius in km): the radius of gale-force
(34-kt) winds, rounded up by intensity band. The idea follows the wind-radii
climatology of Knaff et al. (2007, Weather and Forecasting 22), where the 34-kt
radius of western North Pacific storms grows with intensity from about 100 to
300 km; a depression, which has no gale radius, gets 50 km. The bands are those
of the 1-minute wind classes (34, 64, 96 kt). A segment carries the larger wind
of its two fixes, and so the larger radius.
"""

# Best-track columns (lower case) recognised without --map, per field.
BEST_TRACK_COLUMNS: dict[str, tuple[str, ...]] = {
    "storm_id": ("storm_id", "sn", "sid"),
    "name": ("name", "storm_name"),
    "time": ("time", "iso_time"),
    "year": ("year",),
    "month": ("month",),
    "day": ("day",),
    "hour": ("hour",),
    "lat": ("lat",),
    "lon": ("lon",),
    "wind": ("wind", "vmax", "max_wind_kt", "usa_wind"),
    "radius": ("radius_km",),
}
# The option that names a best-track column, when it is not --map.
OPTION_OF = {"wind": "wind_field", "radius": "radius_field"}
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


def file_kind(path: Path) -> FileKind:
    """Vector, raster or table, from the file's suffix; refuse anything else."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(SUFFIXES)
        raise HazardInputError(
            f"{path.name}: not a hazard file type ({suffix or 'no suffix'}); "
            f"use one of {known} (.zip holds a Shapefile)"
        )
    if not path.is_file():
        raise HazardInputError(f"{path.name}: no such file")
    if suffix in RASTER_SUFFIXES:
        return "raster"
    if suffix in TABLE_SUFFIXES:
        return "table"
    return "vector"


def read_vector(path: Path, *, srid: int | None = None) -> VectorRead:
    """Read every feature of a vector file, reprojected to EPSG:4326."""
    fmt = VECTOR_FORMATS[path.suffix.lower()]
    source = _open(path, fmt)
    layers = [source[i] for i in range(source.layer_count)]
    if fmt != "KML":  # KML folders are one layer's parts; other layers are not
        layers = [layer for layer in layers if layer.num_feat] or layers[:1]
        if len(layers) > 1:
            names = ", ".join(layer.name for layer in layers)
            raise HazardInputError(
                f"{path.name} has several layers ({names}); give a file with one"
            )
    if not layers:
        raise HazardInputError(f"{path.name}: no vector layer in this {fmt} file")
    srs = _source_srs(path, layers, srid)
    to_wgs84 = (
        None if srs.srid == WGS84 else CoordTransform(srs, SpatialReference(WGS84))
    )
    columns: dict[str, None] = {}
    found: list[tuple[int, dict[str, Any], bytes]] = []
    rejected: list[RowError] = []
    row = 0
    for layer in layers:
        fields = list(layer.fields)
        columns.update(dict.fromkeys(fields))
        for feature in layer:
            row += 1
            values = {name: _json_value(feature.get(name)) for name in fields}
            try:
                found.append((row, values, _wkb(feature, to_wgs84)))
            except ValueError as exc:
                rejected.append(RowError(row, "geometry", str(exc), "geometry"))
    geometries = shapely.from_wkb([wkb for _, _, wkb in found])
    problems = _geometry_problems(geometries)
    kept: list[Feature] = []
    kinds: set[GeometryKind] = set()
    for (row, values, _), geometry, problem in zip(
        found, geometries, problems, strict=True
    ):
        kind = None if problem else _kind(geometry)
        if kind is None:
            problem = problem or f"a {geometry.geom_type} mixing kinds of geometry"
            rejected.append(RowError(row, "geometry", problem, "geometry"))
        else:
            kinds.add(kind)
            kept.append(Feature(row, geometry, values))
    if len(kinds) > 1:
        raise HazardInputError(
            f"{path.name} mixes {' and '.join(sorted(kinds))}; a hazard layer holds "
            "zones (polygons) or tracks (lines), not both"
        )
    return VectorRead(
        name=path.name,
        format=fmt,
        crs=_srs_label(srs),
        columns=tuple(columns),
        read=row,
        kind=kinds.pop() if kinds else None,
        features=kept,
        rejected=sorted(rejected, key=lambda e: e.row),
    )


def zones_from(
    vector: VectorRead,
    *,
    region: Region,
    breaks: Sequence[float],
    intensity_field: str | None,
    class_field: str | None,
) -> Parsed:
    """Zones of a polygon file: repaired, classed, those outside Cambodia rejected."""
    if intensity_field is None and class_field is None:
        if _column(vector, "intensity") is None:
            raise HazardInputError(
                f"{vector.name}: give the field holding the intensity "
                f"(--intensity-field) or the class (--class-field); fields: "
                f"{_listing(vector.columns)}",
                field="intensity_field",
            )
        intensity_field = "intensity"
    intensity_col = _required_column(vector, intensity_field, "intensity_field")
    class_col = _required_column(vector, class_field, "class_field")
    parsed = Parsed(read=vector.read, rejected=list(vector.rejected), crs=vector.crs)
    areas, repairs = _multipolygons([f.geometry for f in vector.features])
    for feature, area, repair in zip(vector.features, areas, repairs, strict=True):
        if area is None:
            parsed.rejected.append(
                RowError(feature.row, "geometry", f"no area ({repair})", "geometry")
            )
            continue
        if not region.meets(area):
            parsed.rejected.append(
                RowError(
                    feature.row, "geometry", "lies entirely outside Cambodia", "outside"
                )
            )
            continue
        try:
            intensity = _number(feature.values, intensity_col)
            if intensity is None and class_col is None:
                raise ValueError("no intensity")
        except ValueError as exc:
            parsed.rejected.append(
                RowError(feature.row, intensity_col or "", str(exc), "value")
            )
            continue
        if class_col is None:
            hazard_class = intensity_class(intensity, breaks)
        else:
            try:
                hazard_class = _hazard_class(feature.values, class_col)
            except ValueError as exc:
                parsed.rejected.append(
                    RowError(feature.row, class_col, str(exc), "value")
                )
                continue
        if repair is not None:
            parsed.repaired.append(
                RowError(feature.row, "geometry", f"repaired: {repair}", "repaired")
            )
        parsed.zones.append(
            Zone(feature.row, area, intensity, hazard_class, feature.values)
        )
    parsed.rejected.sort(key=lambda e: e.row)
    return parsed


def tracks_from_lines(
    vector: VectorRead,
    *,
    region: Region,
    wind_field: str | None,
    radius_field: str | None,
    mapping: Mapping[str, str] | None,
) -> Parsed:
    """Track segments of a line file: one per line part, with its wind and radius."""
    given = _mapping(mapping, TRACK_COLUMNS)
    wind_col = _required_column(vector, wind_field or given.get("wind"), "wind_field")
    wind_col = wind_col or _alias(vector.columns, TRACK_COLUMNS["wind"])
    if wind_col is None:
        raise HazardInputError(
            f"{vector.name}: give the field holding the maximum sustained wind in "
            f"knots (--wind-field); fields: {_listing(vector.columns)}",
            field="wind_field",
        )
    radius_col = _required_column(
        vector, radius_field or given.get("radius"), "radius_field"
    ) or _alias(vector.columns, TRACK_COLUMNS["radius"])
    name_col = _required_column(vector, given.get("name"), "map") or _alias(
        vector.columns, TRACK_COLUMNS["name"]
    )
    id_col = _required_column(vector, given.get("storm_id"), "map") or _alias(
        vector.columns, TRACK_COLUMNS["storm_id"]
    )
    parsed = Parsed(read=vector.read, rejected=list(vector.rejected), crs=vector.crs)
    for feature in vector.features:
        try:
            wind = _number(feature.values, wind_col)
            if wind is None or wind < 0:
                raise ValueError("no maximum sustained wind (kt)")
            radius = _number(feature.values, radius_col)
            if radius is not None and radius < 0:
                raise ValueError("a negative wind radius")
        except ValueError as exc:
            parsed.rejected.append(RowError(feature.row, wind_col, str(exc), "value"))
            continue
        values = feature.values
        for line in shapely.get_parts(feature.geometry):
            parsed.tracks.append(
                Track(
                    row=feature.row,
                    group=f"row {feature.row}",
                    storm_id=_text(values.get(id_col)) if id_col else "",
                    name=_text(values.get(name_col)) if name_col else "",
                    path=line,
                    max_wind_kt=wind,
                    radius_km=wind_radius_km(wind) if radius is None else radius,
                    properties=values,
                )
            )
    parsed.tracks, parsed.dropped = keep_near(parsed.tracks, region)
    parsed.rejected.sort(key=lambda e: e.row)
    return parsed


@dataclass(frozen=True)
class _Fix:
    row: int
    storm_id: str
    name: str
    time: datetime
    lon: float
    lat: float
    wind: float | None  # None: the file has no wind for this fix
    radius: float | None


def read_best_track(
    path: Path,
    *,
    region: Region,
    mapping: Mapping[str, str] | None = None,
    wind_field: str | None = None,
    radius_field: str | None = None,
) -> Parsed:
    """Track segments of a best-track CSV (JTWC columns as they are, others --map)."""
    table = read_table(path)
    rows = [(r.number, r.values, None, None) for r in table.rows]
    return best_track_from_rows(
        rows,
        columns=table.columns,
        source=table.name,
        region=region,
        mapping=mapping,
        wind_field=wind_field,
        radius_field=radius_field,
    )


def best_track_from_points(
    vector: VectorRead,
    *,
    region: Region,
    mapping: Mapping[str, str] | None = None,
    wind_field: str | None = None,
    radius_field: str | None = None,
) -> Parsed:
    """Track segments of a point file of storm fixes (e.g. IBTrACS points)."""
    rows = []
    for f in vector.features:
        values = {k.lower(): _text(v) for k, v in f.values.items()}
        point = f.geometry if f.geometry.geom_type == "Point" else None
        rows.append(
            (f.row, values, point.x if point else None, point.y if point else None)
        )
    parsed = best_track_from_rows(
        rows,
        columns=tuple(c.lower() for c in vector.columns),
        source=vector.name,
        region=region,
        mapping=mapping,
        wind_field=wind_field,
        radius_field=radius_field,
        located=True,
    )
    parsed.read = vector.read
    parsed.crs = vector.crs
    parsed.rejected = sorted([*vector.rejected, *parsed.rejected], key=lambda e: e.row)
    return parsed


def best_track_from_rows(
    rows: Iterable[tuple[int, Mapping[str, str], float | None, float | None]],
    *,
    columns: Sequence[str],
    source: str,
    region: Region,
    mapping: Mapping[str, str] | None,
    wind_field: str | None,
    radius_field: str | None,
    located: bool = False,
) -> Parsed:
    """Segments between consecutive fixes of each storm that both have a wind.

    Fixes without a wind value (empty, or negative like JTWC's -999) are left out
    and listed; no segment bridges them. A storm is kept whole when any of its
    segments passes within TRACK_REACH_KM of Cambodia, else dropped and listed.
    """
    cols = _best_track_columns(
        columns, source, mapping, wind_field, radius_field, located=located
    )
    rows = list(rows)
    parsed = Parsed(read=len(rows))
    storms: dict[str, list[_Fix]] = {}
    for number, values, x, y in rows:
        if number == 2 and values.get(cols.get("lat", ""), "").strip() == (
            "degrees_north"
        ):
            parsed.read -= 1  # IBTrACS's second header row of units
            continue
        try:
            fix = _fix(number, values, cols, x, y)
        except ValueError as exc:
            column, _, reason = str(exc).partition(": ")
            parsed.rejected.append(RowError(number, column, reason, "value"))
            continue
        storms.setdefault(fix.storm_id, []).append(fix)
        if fix.wind is None:
            raw = values.get(cols["wind"], "").strip() or "empty"
            parsed.dropped.append(
                RowError(number, cols["wind"], f"no wind ({raw}); fix left out", "wind")
            )
    for storm_id, fixes in storms.items():
        segments = _segments(storm_id, fixes)
        if segments:
            parsed.tracks.extend(segments)
        else:
            reason = f"storm {storm_id}: fewer than two consecutive fixes with wind"
            parsed.dropped.append(RowError(fixes[0].row, "storm_id", reason, "short"))
    parsed.tracks, far = keep_near(parsed.tracks, region)
    parsed.dropped = sorted([*parsed.dropped, *far], key=lambda e: e.row)
    return parsed


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


# --- reading vector files ------------------------------------------------------


def _open(path: Path, fmt: str) -> DataSource:
    target = str(path)
    if fmt == "zipped Shapefile":
        target = f"/vsizip/{path}/{_shapefile_in_zip(path)}"
    try:
        return DataSource(target)
    except GDALException:
        raise HazardInputError(f"{path.name}: not a readable {fmt} file") from None


def _shapefile_in_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        message = f"{path.name}: not a readable zip file ({exc})"
        raise HazardInputError(message) from None
    if broken is not None:
        raise HazardInputError(f"{path.name}: the zip file is corrupt ({broken})")
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    if len(shapefiles) != 1:
        found = "no .shp file" if not shapefiles else f"{len(shapefiles)} .shp files"
        raise HazardInputError(
            f"{path.name}: a zipped Shapefile holds exactly one .shp (found {found})"
        )
    return shapefiles[0]


def _source_srs(path: Path, layers: list[Any], srid: int | None) -> SpatialReference:
    if srid is not None:
        try:
            srs = SpatialReference(srid)
        except (SRSException, GDALException):
            raise HazardInputError(
                f"EPSG:{srid} is not a known CRS", field="srid"
            ) from None
        return srs
    srs = layers[0].srs
    if srs is None:
        raise HazardInputError(
            f"{path.name} has no coordinate reference system; "
            "give its EPSG code with --srid",
            field="srid",
        )
    return srs


def _srs_label(srs: SpatialReference) -> str:
    return f"EPSG:{srs.srid}" if srs.srid else (srs.name or "custom CRS")


def _wkb(feature: Any, to_wgs84: CoordTransform | None) -> bytes:
    """The feature's geometry as 2D WKB in EPSG:4326, or ValueError naming why not."""
    try:
        ogr: OGRGeometry = feature.geom
    except GDALException:
        raise ValueError("no geometry") from None
    ogr.set_3d(False)
    if ogr.is_measured:
        ogr.set_measured(False)
    if to_wgs84 is not None:
        try:
            ogr.transform(to_wgs84)
        except GDALException:
            problem = _geometry_problems(shapely.from_wkb([bytes(ogr.wkb)]))[0]
            raise ValueError(problem or "cannot be transformed to EPSG:4326") from None
    return bytes(ogr.wkb)


def _geometry_problems(geometries: npt.NDArray[Any]) -> list[str | None]:
    """Per geometry: "empty geometry", "non-finite coordinates" or None."""
    problems: list[str | None] = [None] * len(geometries)
    coordinates, index = shapely.get_coordinates(geometries, return_index=True)
    for i in np.unique(index[~np.isfinite(coordinates).all(axis=1)]):
        problems[i] = "non-finite coordinates"
    for i in np.flatnonzero(shapely.is_empty(geometries)):
        problems[i] = "empty geometry"
    return problems


_KIND_OF_TYPE: dict[int, GeometryKind] = {
    0: "points",  # Point
    1: "lines",  # LineString
    2: "lines",  # LinearRing
    3: "polygons",  # Polygon
    4: "points",  # MultiPoint
    5: "lines",  # MultiLineString
    6: "polygons",  # MultiPolygon
}


def _kind(geometry: shapely.Geometry) -> GeometryKind | None:
    """Polygons, lines or points; a collection counts when its parts agree."""
    types = shapely.get_type_id(shapely.get_parts(geometry))
    kinds = {_KIND_OF_TYPE.get(int(t)) for t in types}
    return kinds.pop() if len(kinds) == 1 else None


def _multipolygons(
    geometries: Sequence[shapely.Geometry],
) -> tuple[npt.NDArray[Any], list[str | None]]:
    """Polygonal geometries as valid MultiPolygons (None when no area is left) and
    why each needed repair; the valid ones are converted in one vectorised step."""
    array = np.asarray(geometries, dtype=object)
    areas = np.full(len(array), None, dtype=object)
    repairs: list[str | None] = [None] * len(array)
    valid = shapely.is_valid(array) if len(array) else np.zeros(0, dtype=bool)
    if valid.any():
        parts, index = shapely.get_parts(array[valid], return_index=True)
        areas[valid] = shapely.multipolygons(parts, indices=index)
    for i in np.flatnonzero(~valid):
        areas[i], repairs[i] = _polygonal(array[i])
    return areas, repairs


def _polygonal(
    geometry: shapely.Geometry,
) -> tuple[shapely.MultiPolygon | None, str | None]:
    """The geometry as a valid MultiPolygon, and why it needed repair (or None)."""
    repair = None
    if not shapely.is_valid(geometry):
        repair = shapely.is_valid_reason(geometry)
        geometry = shapely.make_valid(geometry)
    polygons = [
        p
        for part in shapely.get_parts(geometry)
        if part.geom_type in ("Polygon", "MultiPolygon")
        for p in shapely.get_parts(part)
        if not p.is_empty and p.area > 0
    ]
    if not polygons:
        return None, repair or "no polygon"
    area = shapely.MultiPolygon(polygons)
    if not area.is_valid:
        merged = shapely.union_all(polygons)
        area = shapely.MultiPolygon(list(shapely.get_parts(merged)))
    return area, repair


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


# --- attributes ----------------------------------------------------------------


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


# --- best tracks ---------------------------------------------------------------


def _best_track_columns(
    columns: Sequence[str],
    source: str,
    mapping: Mapping[str, str] | None,
    wind_field: str | None,
    radius_field: str | None,
    *,
    located: bool,
) -> dict[str, str]:
    """Our field -> the table's (lower-case) column, from --map, options, aliases."""
    given = _mapping(mapping, BEST_TRACK_COLUMNS)
    if wind_field:
        given["wind"] = wind_field
    if radius_field:
        given["radius"] = radius_field
    found: dict[str, str] = {}
    for name, aliases in BEST_TRACK_COLUMNS.items():
        if name in given:
            column = given[name].strip().lower()
            if column not in columns:
                option = OPTION_OF.get(name, "map")
                raise HazardInputError(
                    f"{source} has no column {given[name]!r} for {name} "
                    f"(columns: {_listing(columns)})",
                    field=option,
                )
            found[name] = column
        else:
            alias = _alias(columns, aliases)
            if alias is not None:
                found[name] = alias
    needed = ["storm_id", "wind"] + ([] if located else ["lat", "lon"])
    if "time" not in found:
        needed += ["year", "month", "day"]
    missing = [n for n in needed if n not in found]
    if missing:
        hints = "; ".join(
            f"{n} (looked for {', '.join(BEST_TRACK_COLUMNS[n])})" for n in missing
        )
        raise HazardInputError(
            f"{source}: not a best-track table; no column for {hints}. "
            f"Columns: {_listing(columns)}; map others with --map FIELD=COLUMN",
            field="map",
        )
    return found


def _fix(
    number: int,
    values: Mapping[str, str],
    cols: Mapping[str, str],
    x: float | None,
    y: float | None,
) -> _Fix:
    """One fix, or ValueError("column: reason")."""

    def get(name: str) -> str:
        return values.get(cols[name], "").strip() if name in cols else ""

    def number_of(name: str) -> float:
        text = get(name)
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{cols[name]}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{cols[name]}: {text!r} is not a finite number")
        return value

    storm_id = get("storm_id")
    if not storm_id:
        raise ValueError(f"{cols['storm_id']}: no storm id")
    if x is None or y is None:
        if "lat" not in cols:
            raise ValueError("geometry: not a point")
        x, y = number_of("lon"), number_of("lat")
    if not (-90 <= y <= 90 and -180 <= x <= 360):
        raise ValueError(f"{cols.get('lat', 'geometry')}: ({y}, {x}) is not a lat/lon")
    wind: float | None = None
    if get("wind"):
        wind = number_of("wind")
        wind = None if wind < 0 else wind
    radius: float | None = None
    if get("radius"):
        radius = number_of("radius")
        if radius < 0:
            raise ValueError(f"{cols['radius']}: a negative radius")
    return _Fix(number, storm_id, get("name"), _time(get, cols), x, y, wind, radius)


def _time(get: Any, cols: Mapping[str, str]) -> datetime:
    if "time" in cols:
        text = get("time")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            reason = f"{cols['time']}: {text!r} is not a date and time"
            raise ValueError(reason) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    parts = [get(n) for n in ("year", "month", "day", "hour")]
    try:
        year, month, day = (int(float(p)) for p in parts[:3])
        hour = int(float(parts[3])) if parts[3] else 0
        if hour >= 100:  # HHMM as some archives write it
            hour //= 100
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        shown = "-".join(parts[:3]) + (f" {parts[3]}h" if parts[3] else "")
        raise ValueError(f"{cols['year']}: {shown!r} is not a date") from None


def _segments(storm_id: str, fixes: list[_Fix]) -> list[Track]:
    """Segments joining consecutive fixes (in time order) that both have a wind."""
    ordered = sorted(fixes, key=lambda f: f.time)
    tracks = []
    for a, b in itertools.pairwise(ordered):
        if a.wind is None or b.wind is None:
            continue
        wind = max(a.wind, b.wind)
        radii = [r for r in (a.radius, b.radius) if r is not None]
        tracks.append(
            Track(
                row=a.row,
                group=f"storm {storm_id}",
                storm_id=storm_id,
                name=a.name or b.name,
                path=shapely.LineString([(a.lon, a.lat), (b.lon, b.lat)]),
                max_wind_kt=wind,
                radius_km=max(radii) if radii else wind_radius_km(wind),
                starts_at=a.time,
                ends_at=b.time,
                properties={"rows": [a.row, b.row], "winds_kt": [a.wind, b.wind]},
            )
        )
    return tracks
