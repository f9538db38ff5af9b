"""Set-based exposure of any set of points to one hazard layer, as SQL.

A table of points goes in, a table of results comes out. The points are a query
(`Points`) selecting `id` and `geom` (EPSG:4326); select them straight from an
indexed column so that PostGIS can use its GiST index. Each exposure function
returns a `Query` yielding the columns `id, intensity, hazard_class,
distance_km` for the caller to wrap, e.g. in an `INSERT ... SELECT`. Nothing here
knows what the points are.

Strategies (timed against bare queries by bench/exposure.py):
- zones: the layer's zones drive a LATERAL join into the points' GiST index,
  so each polygon is prepared once for all the points it covers. The plain
  points -> zones join lets PostgreSQL loop over the points and re-prepare a
  polygon for each; ST_Subdivide only helps that plain form.
- tracks: the segments go out (`track_segments`, metres on UTM 48N) to numpy
  (`hazards.tracks`), which is 20-40x faster than a radius join here: a
  storm's radius covers a third of the country, so PostGIS would evaluate
  millions of (segment, point) pairs at about 1 us each.
- values computed outside the database (raster cells read by
  `hazards.rasters.sample`, track winds and distances): a table filled by
  binary COPY in (`sampled_exposure`), the same columns out, with the class
  computed by `class_sql`.
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
    """A relation of points: SQL selecting `id, geom (4326)`."""

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


def track_segments(*, layer_id: int) -> Query:
    """The straight segments of a track layer's paths in metres (UTM 48N), with
    their track's wind and radius: rows of `start_x, start_y, end_x, end_y,
    wind_kt, radius_m`, for `hazards.tracks.track_exposure`."""
    track = _table(StormTrack)
    sql = f"""
        SELECT ST_X(ST_StartPoint(s.geom)), ST_Y(ST_StartPoint(s.geom)),
               ST_X(ST_EndPoint(s.geom)), ST_Y(ST_EndPoint(s.geom)),
               t.max_wind_kt, t.radius_km * 1000.0
        FROM {track} t CROSS JOIN LATERAL ST_DumpSegments(t.path_utm) s
        WHERE t.layer_id = %s
        ORDER BY t.id, s.path
    """
    return Query(sql, (layer_id,))


def sampled_exposure(*, table: str, breaks: Sequence[float]) -> Query:
    """Values computed outside the database, in a table `table (id int8,
    intensity float8, distance_km float8)` (e.g. a temporary one filled by binary
    COPY), with their class under `breaks`.

    NaN stands for "none": a raster cell has an intensity and no distance; a
    point beyond every wind radius has a distance and no intensity (class 0).
    `table` is SQL (a quoted name), never user input.
    """
    sql = f"""
        SELECT v.id, nullif(v.intensity, 'NaN') AS intensity,
               {class_sql("v.intensity")} AS hazard_class,
               nullif(v.distance_km, 'NaN') AS distance_km
        FROM {table} v
    """
    return Query(sql, (list(breaks),))


def _table(model: type[HazardZone] | type[StormTrack]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
