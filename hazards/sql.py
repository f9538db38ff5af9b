"""Set-based exposure of any set of points to one hazard layer, as SQL.

A table of points goes in, a table of results comes out. The points are a query
(`Points`) selecting `id`, `geom` (EPSG:4326) and `geom_utm` (EPSG:32648, UTM
48N, metres); select them straight from indexed columns so that PostGIS can use
their GiST indexes. Each function returns a `Query` yielding the columns
`id, intensity, hazard_class, distance_km` for the caller to wrap, e.g. in an
`INSERT ... SELECT`. Nothing here knows what the points are.

Strategies (timed against bare queries by bench/exposure.py):
- zones: the layer's zones drive a LATERAL join into the points' GiST index,
  so each polygon is prepared once for all the points it covers. The plain
  points -> zones join lets PostgreSQL loop over the points and re-prepare a
  polygon for each; ST_Subdivide only helps that plain form.
- tracks: metres on the UTM 48N columns: a track segment drives a radius join
  into the points' index, whose distances also give most points their nearest
  segment; a nearest-neighbour (`<->`) look-up in the (layer, path) index gives
  the others theirs. Geography casts are ~90x slower; nearest-neighbour on
  degrees picks a wrong segment for a few points in 1000.
- values already sampled (rasters, read by `hazards.rasters.sample`): arrays
  (`value_exposure`) or a table (`sampled_exposure`, filled by binary COPY) in,
  the same columns out, with the class computed by `class_sql`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from hazards.classes import MAX_CLASS
from hazards.models import HazardZone, StormTrack

# The columns every query here yields, in this order.
COLUMNS = ("id", "intensity", "hazard_class", "distance_km")


@dataclass(frozen=True, slots=True)
class Points:
    """A relation of points: SQL selecting `id, geom (4326), geom_utm (32648)`."""

    sql: str
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Query:
    """SQL text with `%s` placeholders and its parameters, in order."""

    sql: str
    params: tuple[Any, ...]


def class_sql(intensity: str) -> str:
    """SQL for the hazard class (0-4) of the SQL expression `intensity`, with one
    placeholder for the breaks (a float8 array).

    Mirrors `hazards.classes.intensity_class`: 0 for NULL, NaN or <= 0, else
    1 + the number of breaks <= intensity, at most 4 (`width_bucket` counts the
    elements <= its operand in an increasing array).
    """
    return f"""(CASE WHEN {intensity} > 0 AND {intensity} <> 'NaN'::float8
        THEN least({MAX_CLASS}, 1 + width_bucket({intensity}, %s::float8[]))
        ELSE 0 END)::smallint"""


def zone_exposure(*, points: Points, layer_id: int) -> Query:
    """The points inside the zones of a layer: the highest intensity and class of
    the zones that contain each point (distance NULL).

    A point on a zone's boundary counts as inside (`ST_Intersects`); a point in
    a hole does not. Points outside every zone yield no row.
    """
    zone = _table(HazardZone)
    sql = f"""
        SELECT p.id,
               max(z.intensity)::float8 AS intensity,
               max(z.hazard_class)::smallint AS hazard_class,
               NULL::float8 AS distance_km
        FROM {zone} z
        CROSS JOIN LATERAL (
            SELECT q.id FROM ({points.sql}) q
            WHERE ST_Intersects(z.area, q.geom)
        ) p
        WHERE z.layer_id = %s
        GROUP BY p.id
    """
    return Query(sql, (*points.params, layer_id))


def track_exposure(*, points: Points, layer_id: int, breaks: Sequence[float]) -> Query:
    """Every point's distance (km, UTM 48N) to the nearest track segment of a layer,
    and, within the wind radius of one or more segments, the strongest of their
    winds (kt) as intensity with its class under `breaks`.

    Beyond every radius the intensity is NULL and the class 0, the distance kept.
    A layer without tracks yields no row.

    One pass over the (segment, point) pairs within the segments' radii gives
    both the wind and, for most points, the distance: if the nearest segment
    *within its radius* is closer than the layer's smallest radius, no segment
    can be closer (it would be within its own radius too), so that distance is
    the nearest. Only the other points (beyond or near the edge of every radius)
    look the nearest segment up in the (layer, path) GiST index. `ST_DWithin`
    is `ST_Distance <= radius` with the same arithmetic, so the distance is
    computed once per pair (the OFFSET 0 keeps PostgreSQL from computing it
    again for the filter).

    The pairs' aggregate is estimated at a few rows (the index scans are
    parameterised), so the planner may choose to sort millions of pairs;
    callers running it at scale should `SET LOCAL enable_sort = off` so that
    they are hashed instead (as `schools.exposure` does).
    """
    track = _table(StormTrack)
    # The layer id is cast to bigint so that btree_gist can use it in the
    # (layer_id, path_utm) index: it has no int4-int8 operator.
    sql = f"""
        SELECT p.id,
               c.wind AS intensity,
               {class_sql("c.wind")} AS hazard_class,
               CASE WHEN c.near < m.radius THEN c.near ELSE (
                   SELECT ST_Distance(t.path_utm, p.geom_utm) FROM {track} t
                   WHERE t.layer_id = %s::bigint
                   ORDER BY t.path_utm <-> p.geom_utm
                   LIMIT 1)
               END / 1000.0 AS distance_km
        FROM ({points.sql}) p
        CROSS JOIN (
            SELECT min(t.radius_km * 1000.0) AS radius FROM {track} t
            WHERE t.layer_id = %s::bigint
        ) m
        LEFT JOIN (
            SELECT q.id, max(t.max_wind_kt)::float8 AS wind, min(q.d) AS near
            FROM {track} t
            CROSS JOIN LATERAL (
                SELECT r.id, ST_Distance(t.path_utm, r.geom_utm) AS d
                FROM ({points.sql}) r
                WHERE r.geom_utm && ST_Expand(t.path_utm, t.radius_km * 1000.0)
                OFFSET 0
            ) q
            WHERE t.layer_id = %s::bigint AND q.d <= t.radius_km * 1000.0
            GROUP BY q.id
        ) c ON c.id = p.id
        WHERE m.radius IS NOT NULL
    """
    # Parameters in the order of their placeholders in the text.
    params = (
        list(breaks),
        layer_id,
        *points.params,
        layer_id,
        *points.params,
        layer_id,
    )
    return Query(sql, params)


def value_exposure(
    *, ids: Sequence[int], values: Sequence[float], breaks: Sequence[float]
) -> Query:
    """Sampled intensities (e.g. raster cells) with their class under `breaks`.

    `values` must be finite; leave out the points with no value (nodata, outside
    the raster) rather than sending NaN.
    """
    sql = f"""
        SELECT v.id, v.intensity, {class_sql("v.intensity")} AS hazard_class,
               NULL::float8 AS distance_km
        FROM unnest(%s::bigint[], %s::float8[]) AS v(id, intensity)
    """
    # Placeholders in text order: the class's breaks, then the two arrays.
    return Query(sql, (list(breaks), list(ids), list(values)))


def sampled_exposure(*, table: str, breaks: Sequence[float]) -> Query:
    """`value_exposure` for values already in a table `table (id, intensity)`,
    e.g. a temporary table filled by binary COPY: Django binds arrays client-side
    as SQL text, at about 5 us a value.

    `table` is SQL (a quoted name), never user input. Its intensities must be
    finite, as for `value_exposure`.
    """
    sql = f"""
        SELECT v.id, v.intensity, {class_sql("v.intensity")} AS hazard_class,
               NULL::float8 AS distance_km
        FROM {table} v
    """
    return Query(sql, (list(breaks),))


def _table(model: type[HazardZone] | type[StormTrack]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
