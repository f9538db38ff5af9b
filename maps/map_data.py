"""Reads for the risk map: the few small layers the page carries itself
(province shapes for the choropleth, plan coverage, one area of interest), the
hazard layers to offer, and the school search.

Schools and services are never embedded in the page: they come as vector
tiles (`maps.tiles`).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Func, Q, QuerySet, Value

from hazards.models import HazardLayer
from maps.models import AreaOfInterest
from plans.models import Plan
from preparedness.models import AdminArea
from preparedness.text import search_key
from schools.models import School

# Degrees: about 2 km, invisible at the national zooms the choropleth is for.
SIMPLIFY_DEG = 0.02
SEARCH_LIMIT = 10


class SimplifyPreserveTopology(Func):
    """PostGIS ST_SimplifyPreserveTopology(geometry, tolerance)."""

    function = "ST_SimplifyPreserveTopology"
    output_field = GeometryField(srid=4326)


def _shape(field: str) -> AsGeoJSON:
    return AsGeoJSON(SimplifyPreserveTopology(field, Value(SIMPLIFY_DEG)), precision=3)


def province_shapes() -> dict[str, dict[str, Any]]:
    """Current provinces' simplified boundaries (GeoJSON geometry) by code."""
    rows = (
        AdminArea.objects.filter(
            level=AdminArea.Level.PROVINCE,
            valid_to__isnull=True,
            boundary__isnull=False,
        )
        .annotate(shape=_shape("boundary"))
        .values_list("code", "shape")
    )
    return {code: json.loads(shape) for code, shape in rows}


def provinces() -> QuerySet[AdminArea]:
    """Current provinces for the filter menu, by code."""
    return (
        AdminArea.objects.filter(level=AdminArea.Level.PROVINCE, valid_to__isnull=True)
        .order_by("code")
        .only("code", "name_en", "name_km")
    )


def plan_coverage() -> list[dict[str, Any]]:
    """Plans that are not closed, with their simplified coverage, as features."""
    rows = (
        Plan.objects.exclude(status=Plan.Status.CLOSED)
        .filter(coverage_area__isnull=False)
        .annotate(shape=_shape("coverage_area"))
        .order_by("title")
        .values("pk", "title", "status", "shape")
    )
    return [
        {
            "type": "Feature",
            "geometry": json.loads(row["shape"]),
            "properties": {
                "id": row["pk"],
                "title": row["title"],
                "status": str(Plan.Status(row["status"]).label),
            },
        }
        for row in rows
    ]


def area_of_interest_feature(aoi: AreaOfInterest) -> dict[str, Any]:
    """One area of interest as a GeoJSON feature (as stored: it is small)."""
    return {
        "type": "Feature",
        "geometry": json.loads(aoi.area.json),
        "properties": {"id": aoi.pk, "name": aoi.name},
    }


def hazard_layers() -> QuerySet[HazardLayer]:
    """Active hazard layers, for the filter menu and the raster overlays."""
    return (
        HazardLayer.objects.filter(active=True)
        .order_by("name")
        .only("name", "hazard_type", "representation", "raster", "breaks", "updated_at")
    )


def school_search(*, q: str) -> QuerySet[School]:
    """Open schools whose code starts with `q` or whose English or Khmer name
    contains it (the Khmer-aware search key), exact codes first."""
    key = search_key(q)
    return (
        School.objects.filter(status=School.Status.OPEN)
        .filter(Q(code__istartswith=q.strip()) | Q(name_key__contains=key))
        .only("code", "name_en", "name_km", "location")
        .order_by("code")[:SEARCH_LIMIT]
    )
