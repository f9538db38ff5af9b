"""Spatial SQL of the map images: geometry already clipped, simplified and in
pixels, and the per-pixel-cell grouping of points.

Every statement takes the image frame (UTM 48N metres, EPSG:32648) and returns
coordinates in image pixels (x to the right, y down), so the SVG and PNG
writers only draw. One statement per layer, whatever the number of features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import FloatField, Func

from hazards.models import UTM_48N, HazardLayer, HazardZone
from preparedness.models import AdminArea

# A polygon as rings of pixel coordinates: the exterior, then its holes.
Rings = list[list[tuple[float, float]]]


@dataclass(frozen=True)
class PixelFrame:
    """Where an image lies on the ground: its UTM 48N envelope and size."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    width: int
    height: int

    @property
    def scale(self) -> float:
        """Pixels per metre."""
        return self.width / (self.maxx - self.minx)

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Pixel position of a UTM 48N point."""
        return (x - self.minx) * self.scale, (self.maxy - y) * self.scale


class STX(Func):
    function = "ST_X"
    output_field = FloatField()


class STY(Func):
    function = "ST_Y"
    output_field = FloatField()


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# The frame's envelope with a margin of a few pixels (so clipped edges fall
# outside the picture), the same envelope in EPSG:4326 for index use, and the
# geometry pipeline: to UTM, clip, simplify to a third of a pixel, to pixels.
_FRAME_CTE = f"""
    frame AS (
        SELECT ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, {UTM_48N}) AS utm,
               ST_Transform(
                   ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, {UTM_48N}), 4326
               ) AS wgs
    )
"""


def _pixels(column: str) -> str:
    return f"""ST_AsGeoJSON(ST_Affine(
        ST_SimplifyPreserveTopology(
            ST_ClipByBox2D(ST_Transform({column}, {UTM_48N}), frame.utm),
            %(tolerance)s),
        %(s)s, 0, 0, -%(s)s, -%(minx)s * %(s)s, %(maxy)s * %(s)s), 1)"""


def _params(frame: PixelFrame) -> dict[str, Any]:
    margin = 4 / frame.scale
    return {
        "x0": frame.minx - margin,
        "y0": frame.miny - margin,
        "x1": frame.maxx + margin,
        "y1": frame.maxy + margin,
        "tolerance": 0.35 / frame.scale,
        "s": frame.scale,
        "minx": frame.minx,
        "maxy": frame.maxy,
    }


def _polygons(geojson: str | None) -> list[Rings]:
    """Pixel polygons of a GeoJSON (Multi)Polygon or collection; lines and
    points left by clipping are dropped."""
    if not geojson:
        return []
    geometry = orjson.loads(geojson)
    kind = geometry["type"]
    if kind == "Polygon":
        parts = [geometry["coordinates"]]
    elif kind == "MultiPolygon":
        parts = geometry["coordinates"]
    elif kind == "GeometryCollection":
        return [
            p
            for g in geometry["geometries"]
            for p in _polygons(orjson.dumps(g).decode())
        ]
    else:
        return []
    return [
        [[(x, y) for x, y, *_z in ring] for ring in part if len(ring) >= 4]
        for part in parts
        if part and len(part[0]) >= 4
    ]


def area_polygons(*, frame: PixelFrame, level: str) -> list[tuple[str, list[Rings]]]:
    """Current areas of `level` in the frame as (code, polygons), largest first
    (so an enclave such as Phnom Penh is drawn over the province around it)."""
    sql = f"""
        WITH {_FRAME_CTE}
        SELECT a.code, {_pixels("a.boundary")}
        FROM {_table(AdminArea)} a, frame
        WHERE a.level = %(level)s AND a.valid_to IS NULL
          AND a.boundary && frame.wgs
        ORDER BY ST_Area(a.boundary) DESC, a.code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(frame), "level": level})
        rows = cursor.fetchall()
    out = [(code, _polygons(geojson)) for code, geojson in rows]
    return [(code, polygons) for code, polygons in out if polygons]


def zone_polygons(
    *, frame: PixelFrame, layer_ids: Sequence[int] | None, hazard_type: str | None
) -> tuple[list[tuple[int, list[Rings]]], list[str]]:
    """Hazard zones of class 1+ in the frame as (class, polygons), lowest class
    first, and the sources of their layers. Active zone layers (of
    `hazard_type`), or the layers `layer_ids` whether active or not."""
    where = ["z.hazard_class >= 1", "z.area && frame.wgs"]
    params: dict[str, Any] = _params(frame)
    if layer_ids:
        where.append("l.id = ANY(%(layers)s)")
        params["layers"] = list(layer_ids)
    else:
        where.append("l.active")
    if hazard_type:
        where.append("l.hazard_type = %(hazard_type)s")
        params["hazard_type"] = hazard_type
    sql = f"""
        WITH {_FRAME_CTE}
        SELECT z.hazard_class, l.source, {_pixels("z.area")}
        FROM {_table(HazardZone)} z
        JOIN {_table(HazardLayer)} l ON l.id = z.layer_id, frame
        WHERE {" AND ".join(where)}
        ORDER BY z.hazard_class, z.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    zones = [(hazard_class, _polygons(geojson)) for hazard_class, _s, geojson in rows]
    sources = sorted({source for _c, source, _g in rows if source})
    return [(c, p) for c, p in zones if p], sources


def area_extent(code: str) -> tuple[float, float, float, float] | None:
    """The EPSG:4326 extent of an area's boundary (None without a boundary)."""
    extent = (
        AdminArea.objects.filter(code=code, boundary__isnull=False)
        .values_list("boundary", flat=True)
        .first()
    )
    return None if extent is None else extent.extent


def national_extent() -> tuple[float, float, float, float] | None:
    """The EPSG:4326 extent of all current provinces."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
                    SELECT ST_Extent(boundary) AS e FROM {_table(AdminArea)}
                    WHERE level = 'province' AND valid_to IS NULL) t"""
        )
        row = cursor.fetchone()
    return None if row is None or row[0] is None else tuple(row)
