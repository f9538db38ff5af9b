"""Storm tracks against many points at once, in numpy.

A track layer is a set of line segments, each with a maximum sustained wind (kt)
and a wind radius (km). For every point, `track_exposure` gives the distance to
the nearest segment and the strongest wind among the segments whose radius
covers it; it works in metres on UTM 48N (EPSG:32648), where planar distances
are within 0.5 % of geodesic ones over Cambodia.

Why numpy and not a PostGIS join: a storm's radius (50-250 km) covers a third of
the country, so a national layer of 20 storms puts each school within the radius
of about a hundred segments. PostGIS spends about 1 us on each (segment, point)
pair (a function call, a geometry read); a vectorised loop over the segments
spends about 10 ns (docs/benchmarks.md: 0.03 s instead of 1.2 s at 15,000
schools). The method is PostGIS's (`lw_dist2d_pt_seg`): the point is projected
on the segment's line, clamped to its ends. The operations are ordered for numpy,
so a distance can differ from `ST_Distance` in its last bits (2e-13 km at most on
the demo's 13,000 schools and Ketsana's track).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from hazards.sql import track_segments

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Segments:
    """The segments of a track layer: ends (metres, UTM 48N), wind (kt), radius (m)."""

    start_x: FloatArray
    start_y: FloatArray
    end_x: FloatArray
    end_y: FloatArray
    wind_kt: FloatArray
    radius_m: FloatArray


def layer_segments(layer_id: int) -> Segments:
    """The straight segments of every track of a layer (one query)."""
    query = track_segments(layer_id=layer_id)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        rows = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 6)
    return Segments(*(np.ascontiguousarray(rows[:, i]) for i in range(6)))


def track_exposure(
    segments: Segments, x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """For points (x, y) in metres, UTM 48N: the distance (m) to the nearest
    segment (inf if there are no segments), and the strongest wind (kt) of the
    segments whose radius covers the point (distance <= radius), NaN where none
    does.

    Cost: one pass of ten array operations over the points per segment, and no
    Python object per point.
    """
    px = np.asarray(x, dtype=np.float64)
    py = np.asarray(y, dtype=np.float64)
    nearest2 = np.full(px.shape, np.inf)  # squared distances
    wind = np.full(px.shape, -np.inf)
    dx_, dy_ = np.empty_like(px), np.empty_like(px)
    along, d2 = np.empty_like(px), np.empty_like(px)
    for ax, ay, bx, by, kt, radius in zip(
        segments.start_x,
        segments.start_y,
        segments.end_x,
        segments.end_y,
        segments.wind_kt,
        segments.radius_m,
        strict=True,
    ):
        sx, sy = bx - ax, by - ay
        length2 = sx * sx + sy * sy
        np.subtract(px, ax, out=dx_)
        np.subtract(py, ay, out=dy_)
        if length2 > 0:
            # How far along the segment the point projects, clamped to its ends.
            np.multiply(dx_, sx / length2, out=along)
            along += dy_ * (sy / length2)
            np.clip(along, 0.0, 1.0, out=along)
            dx_ -= along * sx
            dy_ -= along * sy
        np.multiply(dx_, dx_, out=d2)
        d2 += dy_ * dy_
        np.minimum(nearest2, d2, out=nearest2)
        np.maximum(wind, kt, out=wind, where=d2 <= radius * radius)
    wind[np.isneginf(wind)] = np.nan
    return np.sqrt(nearest2), wind
