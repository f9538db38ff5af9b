"""Vector tiles (Mapbox Vector Tile) built by PostGIS: ST_TileEnvelope,
ST_AsMVTGeom and ST_AsMVT over the selections the maps views hand in.

Each function returns the tile's bytes (b"" when nothing falls in it). The
rows come either from a compiled QuerySet (`Selection`: the priority list,
the services a user may see) or from the small fixed statements below; every
statement first keeps the rows whose geometry meets the tile (a GiST index
probe on the EPSG:4326 column), then projects to Web Mercator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from maps.feature_sql import lean_reads
from schools.risk.selectors import RISK_CLASS_CODES

EXTENT = 4096  # tile coordinates per side
BUFFER = 64  # tile coordinates drawn beyond the edge (symbols cut at the seam)
MARGIN = BUFFER / EXTENT
# Half the width of the Web Mercator world, in metres.
WORLD_HALF = 20037508.342789244
# Schools are gridded into cells of 1/CELLS of a tile's side up to this zoom.
CELLS = 8


@dataclass(frozen=True)
class Selection:
    """A compiled SELECT (SQL text and parameters) with a geometry column."""

    sql: str
    params: Sequence[Any]
    geometry: str = "location"


def _fetch(sql: str, params: Sequence[Any]) -> bytes:
    # A tile reads a few thousand rows: the planner's cost of the MVT functions
    # would otherwise start JIT compilation and parallel workers, each costing
    # more (40-90 ms measured) than the whole query.
    with lean_reads(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def _points_sql(name: str, columns: str, selection: Selection) -> tuple[str, list]:
    geom = f"s.{selection.geometry}"
    sql = f"""
        SELECT ST_AsMVT(t, %s, {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform({geom}, 3857),
                                ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)
                       AS geom,
                   {columns}
            FROM ({selection.sql}) s
            WHERE {geom} && ST_Transform(
                ST_TileEnvelope(%s, %s, %s, margin => {MARGIN}), 4326)
        ) t WHERE t.geom IS NOT NULL
    """
    return sql, [name]


_RISK_CLASS = " ".join(
    f"WHEN {n} THEN '{code}'" for n, code in RISK_CLASS_CODES.items()
)
SCHOOL_COLUMNS = f"""
    s.code, s.name_en, s.name_km, s.level, s.learners,
    CASE s.risk_class_n {_RISK_CLASS} END AS risk_class,
    round(s.risk_score::numeric, 2)::float8 AS risk_score, s.hazard_level,
    s.hazard_levels::text AS hazard_levels,
    round(s.css_score::numeric, 1)::float8 AS css_score, s.assessed
"""
SCHOOL_DETAIL_COLUMNS = """,
    s.css_area_scores::text AS css_area_scores,
    s.critical_gaps::text AS critical_gaps
"""


def school_tile(
    selection: Selection, z: int, x: int, y: int, *, details: bool
) -> bytes:
    """One point per school; `details` adds the checklist details (CSS score by
    area, critical gaps) for logged-in roles."""
    columns = SCHOOL_COLUMNS + (SCHOOL_DETAIL_COLUMNS if details else "")
    sql, params = _points_sql("schools", columns, selection)
    return _fetch(sql, [*params, z, x, y, *selection.params, z, x, y])


def school_cluster_tile(selection: Selection, z: int, x: int, y: int) -> bytes:
    """Schools gridded in cells of 1/CELLS of the tile's side: one point per cell
    (the centroid of its schools) with the count, the worst risk class, the
    schools at high or very high risk and their learners."""
    cell = 2 * WORLD_HALF / (2**z) / CELLS
    geom = f"s.{selection.geometry}"
    sql = f"""
        WITH p AS (
            SELECT ST_Transform({geom}, 3857) AS g, s.risk_class_n, s.learners
            FROM ({selection.sql}) s
            WHERE {geom} && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)
        )
        SELECT ST_AsMVT(t, 'schools', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(g)),
                                ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)
                       AS geom,
                   count(*) AS count,
                   max(risk_class_n) AS worst_class,
                   count(*) FILTER (WHERE risk_class_n >= 4) AS high,
                   coalesce(sum(learners) FILTER (WHERE risk_class_n >= 4), 0)
                       AS learners_high
            FROM p
            GROUP BY floor(ST_X(g) / %s), floor(ST_Y(g) / %s)
        ) t WHERE t.geom IS NOT NULL
    """
    return _fetch(sql, [*selection.params, z, x, y, z, x, y, cell, cell])


SERVICE_COLUMNS = """
    s.code, s.name_en, s.name_km, s.kind, s.contact, s.sensitive, s.hazard_level
"""


def service_tile(selection: Selection, z: int, x: int, y: int) -> bytes:
    """One point per service the selection holds (the caller has left out the
    sensitive services the user may not see)."""
    sql, params = _points_sql("services", SERVICE_COLUMNS, selection)
    return _fetch(sql, [*params, z, x, y, *selection.params, z, x, y])


def hazard_zone_tile(
    z: int, x: int, y: int, *, layer: int | None, within: str | None
) -> bytes:
    """Zones of the active layers (or of `layer`), optionally only those meeting
    `within` (EWKT, EPSG:4326), with their class, intensity and layer."""
    sql = f"""
        SELECT ST_AsMVT(t, 'hazard_zones', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(z.area, 3857),
                                ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)
                       AS geom,
                   z.id, z.hazard_class, z.intensity, z.layer_id,
                   l.name AS layer_name, l.hazard_type, l.units
            FROM hazards_hazardzone z
            JOIN hazards_hazardlayer l ON l.id = z.layer_id
            WHERE l.active
              AND (%s::bigint IS NULL OR z.layer_id = %s::bigint)
              AND (%s::text IS NULL OR ST_Intersects(z.area, ST_GeomFromEWKT(%s)))
              AND z.area && ST_Transform(
                  ST_TileEnvelope(%s, %s, %s, margin => {MARGIN}), 4326)
            ORDER BY z.hazard_class
        ) t WHERE t.geom IS NOT NULL
    """
    return _fetch(sql, [z, x, y, layer, layer, within, within, z, x, y])


def storm_track_tile(z: int, x: int, y: int, *, layer: int | None) -> bytes:
    """Track segments of the active storm layers (or `layer`) and their
    wind-radius buffers (metres in UTM 48N), as two tile layers."""
    where = """
        l.active AND l.representation = 'tracks'
        AND (%s::bigint IS NULL OR k.layer_id = %s::bigint)
    """
    buffers = f"""
        SELECT ST_AsMVT(t, 'wind_radius', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(
                       ST_Transform(ST_Buffer(k.path_utm, k.radius_km * 1000,
                                              'quad_segs=4'), 3857),
                       ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true) AS geom,
                   k.name, k.max_wind_kt, k.radius_km
            FROM hazards_stormtrack k JOIN hazards_hazardlayer l ON l.id = k.layer_id
            WHERE {where}
              AND ST_DWithin(k.path_utm,
                             ST_Transform(ST_TileEnvelope(%s, %s, %s), 32648),
                             k.radius_km * 1000)
        ) t WHERE t.geom IS NOT NULL
    """
    tracks = f"""
        SELECT ST_AsMVT(t, 'storm_tracks', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(k.path, 3857),
                                ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)
                       AS geom,
                   k.name, k.storm_id, k.max_wind_kt, k.radius_km, l.name AS layer_name
            FROM hazards_stormtrack k JOIN hazards_hazardlayer l ON l.id = k.layer_id
            WHERE {where}
              AND k.path && ST_Transform(
                  ST_TileEnvelope(%s, %s, %s, margin => {MARGIN}), 4326)
        ) t WHERE t.geom IS NOT NULL
    """
    params = [z, x, y, layer, layer, z, x, y]
    # Concatenated tiles are one tile with both layers (MVT is a list of layers).
    return _fetch(buffers, params) + _fetch(tracks, params)


def admin_area_tile(z: int, x: int, y: int, *, level: str) -> bytes:
    """Current boundaries of one level (province, district or commune)."""
    sql = f"""
        SELECT ST_AsMVT(t, 'admin_areas', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(a.boundary, 3857),
                                ST_TileEnvelope(%s, %s, %s), {EXTENT}, {BUFFER}, true)
                       AS geom,
                   a.code, a.level, a.name_en, a.name_km
            FROM preparedness_adminarea a
            WHERE a.level = %s AND a.valid_to IS NULL AND a.boundary IS NOT NULL
              AND a.boundary && ST_Transform(
                  ST_TileEnvelope(%s, %s, %s, margin => {MARGIN}), 4326)
        ) t WHERE t.geom IS NOT NULL
    """
    return _fetch(sql, [z, x, y, level, z, x, y])
