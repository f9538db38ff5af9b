"""Set-based PostGIS queries the ORM cannot say: locating many points at once.

A table of points goes in (row, x, y, SRID); one query transforms them to
EPSG:4326, tests that they lie in the country and finds their commune.
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
    """Locate each point in EPSG:4326, in Cambodia and in its commune, in one query.

    The commune is the current commune whose boundary contains the point, else
    the nearest within NEAR_M metres. Raises UnknownSRID naming an SRID that
    spatial_ref_sys lacks or that cannot express points near Cambodia.
    """
    if not points:
        return {}
    for p in points:
        if not (math.isfinite(p.x) and math.isfinite(p.y)):
            raise ValueError(f"row {p.row}: coordinates are not finite")
    frames = {srid: region_in(srid) for srid in sorted({p.srid for p in points})}
    table = connection.ops.quote_name(AdminArea._meta.db_table)
    sql = f"""
        WITH frame AS (
            SELECT * FROM unnest(%s::int[], %s::float8[], %s::float8[],
                                 %s::float8[], %s::float8[])
                AS f(srid, xmin, ymin, xmax, ymax)
        ), pt AS (
            SELECT t.i, CASE
                WHEN t.x BETWEEN f.xmin AND f.xmax AND t.y BETWEEN f.ymin AND f.ymax
                THEN ST_Transform(ST_SetSRID(ST_MakePoint(t.x, t.y), t.srid), {WGS84})
            END AS geom
            FROM unnest(%s::int[], %s::float8[], %s::float8[], %s::int[])
                AS t(i, x, y, srid)
            JOIN frame f USING (srid)
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
        FROM pt CROSS JOIN flag
        LEFT JOIN LATERAL (
            SELECT a.code FROM {table} a
            WHERE a.level = %s AND a.valid_to IS NULL AND a.boundary IS NOT NULL
              AND ST_Intersects(a.boundary, pt.geom)
            ORDER BY a.code LIMIT 1
        ) inside ON true
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
    params: list[Any] = [
        list(frames),
        *([box[k] for box in frames.values()] for k in range(4)),
        [p.row for p in points],
        [p.x for p in points],
        [p.y for p in points],
        [p.srid for p in points],
        province,
        province, dx, dy, NEAR_M, x0, x1, y0, y1,
        commune,
        commune, dx, dy, NEAR_M,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            row: Located(lon, lat, bool(inside), code)
            for row, lon, lat, inside, code in cursor.fetchall()
        }


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
