"""Vector tiles `/tiles/{layer}/{z}/{x}/{y}.pbf`: which rows each layer holds for
this user and these filters; the SQL that cuts the tile is in `maps.tile_sql`.

Layers: `schools` (the priority list with the map's filters, gridded into
clusters up to zoom CLUSTER_MAX_ZOOM), `services` (sensitive services only
where the user may see them), `hazard_zones`, `storm_tracks` (tracks and their
wind-radius buffers) and `admin_areas` (provinces, districts or communes by
zoom). Checklist details go only to logged-in roles, as in the API.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from maps import tile_sql
from maps.filters import MapFilterSerializer
from preparedness.access import access_for
from preparedness.serializers import validated_query
from schools.models import School, Service
from schools.risk.selectors import priority_list
from schools.selectors import visible_services_q

LAYERS = ("schools", "services", "hazard_zones", "storm_tracks", "admin_areas")
MAX_ZOOM = 22
CLUSTER_MAX_ZOOM = 10
MAX_AGE = 300  # seconds a browser may keep a tile
CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def _tile_address(layer: str, z: str, x: str, y: str) -> tuple[int, int, int]:
    """Check the layer name and z/x/y; a 400 names the part at fault."""
    errors: dict[str, list[str]] = {}
    if layer not in LAYERS:
        errors["layer"] = [
            _("Unknown layer %(layer)s; use one of %(layers)s.")
            % {"layer": layer, "layers": ", ".join(LAYERS)}
        ]
    numbers: dict[str, int] = {}
    for name, text in (("z", z), ("x", x), ("y", y)):
        if not text.isdigit() or len(text) > 8:
            errors[name] = [_("Give a whole number of zero or more.")]
        else:
            numbers[name] = int(text)
    if "z" in numbers and numbers["z"] > MAX_ZOOM:
        errors["z"] = [_("Zoom goes from 0 to %(max)d.") % {"max": MAX_ZOOM}]
    elif "z" in numbers:
        size = 2 ** numbers["z"]
        for name in ("x", "y"):
            if name in numbers and numbers[name] >= size:
                errors[name] = [
                    _("At zoom %(z)d, %(name)s goes from 0 to %(max)d.")
                    % {"z": numbers["z"], "name": name, "max": size - 1}
                ]
    if errors:
        raise serializers.ValidationError(errors)
    return numbers["z"], numbers["x"], numbers["y"]


def _compiled(queryset: QuerySet[Any, Any]) -> tile_sql.Selection:
    sql, params = queryset.query.sql_with_params()
    return tile_sql.Selection(sql=sql, params=params)


def school_rows(filters: dict[str, Any]) -> QuerySet[School, Any]:
    """The priority list with the map's filters, as the columns tiles carry,
    riskiest last (drawn on top)."""
    return (
        priority_list(filters=filters)
        .order_by("risk__score", "code")
        .values(
            "code",
            "name_en",
            "name_km",
            "level",
            "hazard_level",
            "hazard_levels",
            "location",
            learners=F("n_learners"),
            risk_class_n=F("risk__risk_class"),
            risk_score=F("risk__score"),
            assessed=F("risk__assessed"),
            css_score=F("safety__score"),
            css_area_scores=F("safety__area_scores"),
            critical_gaps=F("safety__critical_gaps"),
        )
    )


def service_rows(user: Any, filters: dict[str, Any]) -> QuerySet[Service, Any]:
    """Open services the user may see, in the filters' areas."""
    queryset = Service.objects.filter(status=Service.Status.OPEN).filter(
        visible_services_q(user)
    )
    for key in ("province", "district", "commune"):
        if filters.get(key):
            queryset = queryset.filter(commune__code__startswith=filters[key])
    for key in ("bbox", "within"):
        if filters.get(key) is not None:
            queryset = queryset.filter(location__intersects=filters[key])
    return queryset.order_by("code").values(
        "code",
        "name_en",
        "name_km",
        "kind",
        "contact",
        "sensitive",
        "hazard_level",
        "location",
    )


def admin_level(z: int) -> str:
    """Provinces at national zooms, districts in between, communes close up."""
    if z <= 7:
        return "province"
    return "district" if z <= 9 else "commune"


def tile_bytes(
    layer: str, z: int, x: int, y: int, *, user: Any, filters: dict[str, Any]
) -> bytes:
    """The tile of `layer` at z/x/y for this user and these filters."""
    if layer == "schools":
        rows = school_rows(filters)
        if z <= CLUSTER_MAX_ZOOM:
            # Clusters need no drawing order.
            return tile_sql.school_cluster_tile(_compiled(rows.order_by()), z, x, y)
        selection = _compiled(rows)
        details = access_for(user).authenticated
        return tile_sql.school_tile(selection, z, x, y, details=details)
    if layer == "services":
        return tile_sql.service_tile(_compiled(service_rows(user, filters)), z, x, y)
    if layer == "hazard_zones":
        within = filters.get("within")
        return tile_sql.hazard_zone_tile(
            z,
            x,
            y,
            layer=filters.get("layer"),
            within=None if within is None else within.ewkt,
        )
    if layer == "storm_tracks":
        return tile_sql.storm_track_tile(z, x, y, layer=filters.get("layer"))
    return tile_sql.admin_area_tile(z, x, y, level=admin_level(z))


class TileView(APIView):
    """A Mapbox Vector Tile of one layer; 204 when nothing falls in the tile."""

    @extend_schema(
        tags=["maps"],
        parameters=[MapFilterSerializer],
        responses={
            (200, CONTENT_TYPE): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="Mapbox Vector Tile"
            ),
            204: OpenApiResponse(description="Nothing in this tile."),
        },
    )
    def get(self, request: Request, layer: str, z: str, x: str, y: str) -> HttpResponse:
        zxy = _tile_address(layer, z, x, y)
        filters = validated_query(request, MapFilterSerializer)
        data = tile_bytes(layer, *zxy, user=request.user, filters=filters)
        response = HttpResponse(
            data, content_type=CONTENT_TYPE, status=200 if data else 204
        )
        scope = "private" if request.user.is_authenticated else "public"
        response["Cache-Control"] = f"{scope}, max-age={MAX_AGE}"
        response["Vary"] = "Cookie, Authorization, Accept-Language"
        return response
