"""Set-based PostGIS queries the ORM cannot say: locating many points at once.

A table of points goes in (row, x, y, SRID); a constant handful of statements
transforms them to EPSG:4326, tests that they lie in the country and finds
their commune.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction

from preparedness.models import AdminArea
from preparedness.readers import InputError

WGS84 = 4326
# Boundaries are simplified: a point this close to one still counts as inside.
NEAR_M = 2000
# ... searched within this many degrees of latitude (2.2 km), widened for longitude.
NEAR_DEG = 0.02
# Where Cambodia is when no province boundary is loaded (lon, lat).
CAMBODIA_BBOX = (102.3, 10.3, 107.7, 14.7)
# A generous neighbourhood of Cambodia; points outside it are not transformed,
# so a wild coordinate cannot make PROJ fail the whole query.
REGION_BBOX = (92.0, 0.0, 118.0, 25.0)
# The temporary table of points that locate_points fills and drops.
POINTS_TABLE = "salasafe_locate_point"


class UnknownSRID(InputError):
    """A coordinate reference system that PostGIS cannot use here."""


@dataclass(frozen=True, slots=True)
class PointIn:
    """One input point: the caller's row number, its coordinates and their SRID."""

    row: int
    x: float
    y: float
    srid: int


@dataclass(frozen=True, slots=True)
class Located:
    """Where a point is: lon/lat (None when far away), in Cambodia?, its commune."""

    lon: float | None
    lat: float | None
    in_cambodia: bool
    commune_code: str | None


def point_problem(x: float, y: float, srid: int) -> str | None:
    """Why a point cannot be located before asking PostGIS, or None."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return "coordinates are not finite numbers"
    if srid == WGS84:
        if 9 <= x <= 15 and 102 <= y <= 108:
            return "coordinates look swapped (lat, lon)"
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            return "not a longitude/latitude in degrees"
    return None


def locate_points(points: Sequence[PointIn]) -> dict[int, Located]:
    """Locate each point in EPSG:4326, in Cambodia and in its commune, set-based.

    The commune is the current commune whose boundary contains the point, else
    the nearest within NEAR_M metres. Raises UnknownSRID naming an SRID that
    spatial_ref_sys lacks or that cannot express points near Cambodia.

    The points are copied into a temporary table with a GiST index, so that
    each commune drives one index scan over the points it covers and PostGIS
    prepares its boundary once for all of them; looking up each point in the
    admin areas' index instead is several times slower (docs/benchmarks.md).
    The number of statements does not depend on the number of points.
    """
    if not points:
        return {}
    for p in points:
        if not (math.isfinite(p.x) and math.isfinite(p.y)):
            raise ValueError(f"row {p.row}: coordinates are not finite")
    frames = {srid: region_in(srid) for srid in sorted({p.srid for p in points})}
    table = connection.ops.quote_name(AdminArea._meta.db_table)
    transform = f"""
        CREATE TEMPORARY TABLE {POINTS_TABLE} ON COMMIT DROP AS
        SELECT t.i, CASE
            WHEN t.x BETWEEN f.xmin AND f.xmax AND t.y BETWEEN f.ymin AND f.ymax
            THEN ST_Transform(ST_SetSRID(ST_MakePoint(t.x, t.y), t.srid), {WGS84})
        END::geometry(Point, {WGS84}) AS geom
        FROM {POINTS_TABLE}_in t
        JOIN unnest(%s::int[], %s::float8[], %s::float8[], %s::float8[],
                    %s::float8[]) AS f(srid, xmin, ymin, xmax, ymax) USING (srid)
    """
    locate = f"""
        WITH inside AS (
            SELECT DISTINCT ON (pt.i) pt.i, a.code
            FROM {table} a
            JOIN {POINTS_TABLE} pt ON ST_Intersects(a.boundary, pt.geom)
            WHERE a.level = %s AND a.valid_to IS NULL AND a.boundary IS NOT NULL
            ORDER BY pt.i, a.code
        ), flag AS (
            SELECT EXISTS (
                SELECT 1 FROM {table}
                WHERE level = %s AND boundary IS NOT NULL
            ) AS have_provinces
        )
        SELECT pt.i, ST_X(pt.geom), ST_Y(pt.geom),
            CASE
                WHEN pt.geom IS NULL THEN false
                WHEN coalesce(inside.code, near.code) IS NOT NULL THEN true
                WHEN flag.have_provinces THEN EXISTS (
                    SELECT 1 FROM {table} a
                    WHERE a.level = %s AND a.boundary IS NOT NULL
                      AND a.boundary && ST_Expand(pt.geom, %s, %s)
                      AND ST_DWithin(a.boundary::geography, pt.geom::geography, %s)
                )
                ELSE ST_X(pt.geom) BETWEEN %s AND %s AND ST_Y(pt.geom) BETWEEN %s AND %s
            END,
            coalesce(inside.code, near.code)
        FROM {POINTS_TABLE} pt CROSS JOIN flag
        LEFT JOIN inside ON inside.i = pt.i
        LEFT JOIN LATERAL (
            SELECT a.code FROM {table} a
            WHERE inside.code IS NULL
              AND a.level = %s AND a.valid_to IS NULL AND a.boundary IS NOT NULL
              AND a.boundary && ST_Expand(pt.geom, %s, %s)
              AND ST_DWithin(a.boundary::geography, pt.geom::geography, %s)
            ORDER BY ST_Distance(a.boundary::geography, pt.geom::geography), a.code
            LIMIT 1
        ) near ON true
    """
    dx, dy = NEAR_DEG / math.cos(math.radians(CAMBODIA_BBOX[3])), NEAR_DEG
    x0, y0, x1, y1 = CAMBODIA_BBOX
    province, commune = AdminArea.Level.PROVINCE, AdminArea.Level.COMMUNE
    frame_params: list[Any] = [
        list(frames),
        *([box[k] for box in frames.values()] for k in range(4)),
    ]
    locate_params: list[Any] = [
        commune,
        province,
        province, dx, dy, NEAR_M, x0, x1, y0, y1,
        commune, dx, dy, NEAR_M,
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT would spend 0.3-0.8 s compiling queries whose time is in PostGIS:
        # off for these statements, then back to what it was.
        cursor.execute("SELECT current_setting('jit')")
        (jit,) = cursor.fetchone()
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {POINTS_TABLE}_in "
            "(i int4, x float8, y float8, srid int4) ON COMMIT DROP"
        )
        copy_in = f"COPY {POINTS_TABLE}_in FROM STDIN (FORMAT BINARY)"
        with cursor.copy(copy_in) as copy:
            copy.set_types(["int4", "float8", "float8", "int4"])
            for p in points:
                copy.write_row((p.row, p.x, p.y, p.srid))
        cursor.execute(transform, frame_params)
        cursor.execute(f"CREATE INDEX ON {POINTS_TABLE} USING gist (geom)")
        cursor.execute(locate, locate_params)
        located = {
            row: Located(lon, lat, bool(inside), code)
            for row, lon, lat, inside, code in cursor.fetchall()
        }
        cursor.execute(f"DROP TABLE {POINTS_TABLE}, {POINTS_TABLE}_in")
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    return located


def region_in(srid: int) -> tuple[float, float, float, float]:
    """The neighbourhood of Cambodia as (xmin, ymin, xmax, ymax) in `srid` units.

    Raises UnknownSRID if PostGIS does not know `srid` or cannot transform to it.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", [srid])
        if cursor.fetchone() is None:
            raise UnknownSRID(f"EPSG:{srid} is not a known coordinate reference system")
        try:
            with transaction.atomic():
                cursor.execute(
                    """
                    SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
                    FROM ST_Transform(ST_Segmentize(
                        ST_MakeEnvelope(%s, %s, %s, %s, %s), 1), %s) AS b
                    """,
                    [*REGION_BBOX, WGS84, srid],
                )
                xmin, ymin, xmax, ymax = cursor.fetchone()
        except DatabaseError:
            raise UnknownSRID(
                f"EPSG:{srid} cannot express coordinates in Cambodia"
            ) from None
    return float(xmin), float(ymin), float(xmax), float(ymax)
