"""Reading hazard vector files (GeoJSON, GeoPackage, zipped Shapefile, KML) into
zones and track lines, reprojected to EPSG:4326 and repaired where invalid.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
from hazards.vectors.base import (
    RASTER_SUFFIXES,
    SUFFIXES,
    TABLE_SUFFIXES,
    TRACK_COLUMNS,
    VECTOR_FORMATS,
    WGS84,
    Feature,
    FileKind,
    GeometryKind,
    Parsed,
    Region,
    Track,
    VectorRead,
    Zone,
    _alias,
    _column,
    _hazard_class,
    _json_value,
    _listing,
    _mapping,
    _number,
    _required_column,
    _text,
    keep_near,
    wind_radius_km,
)
from preparedness.readers import RowError
from preparedness.uploads import UploadRefused, check_file


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


def _open(path: Path, fmt: str) -> DataSource:
    try:
        check_file(path)  # content, zip members and XML prolog, before GDAL
    except UploadRefused as exc:
        raise HazardInputError(str(exc)) from None
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
