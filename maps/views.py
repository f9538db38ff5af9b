"""The risk map page, its raster overlays, school search and areas of interest.

Views are thin: they validate the query with `MapFilterSerializer`, read with
the selectors (`maps.map_data`, `schools.risk.aggregates`, `maps.aoi`), and
hand data to `maps.render`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hazards.models import HazardLayer
from maps import aoi as aois
from maps import map_data, overlays
from maps import render as renderer
from maps.filters import MapFilterSerializer
from maps.models import AreaOfInterest
from preparedness.access import Role, access_for
from preparedness.api import role_permission
from preparedness.serializers import validated_query
from preparedness.uploads import check_request_size
from schools.models import School
from schools.risk.aggregates import risk_aggregates

TAGS = ["maps"]
HIGH_CODES = ("high", "very_high")
EXPORT_FORMATS = ("geojson", "csv", "gpkg", "kml")
TILE_LAYERS = ("schools", "services", "hazard_zones", "storm_tracks", "admin_areas")


def _query_params(request: HttpRequest) -> dict[str, str]:
    """The filter parameters as given (known names, non-empty), to echo in links."""
    known = MapFilterSerializer().fields
    return {k: str(v) for k, v in request.GET.items() if k in known and v != ""}


# The choropleth's numbers change only when risk is recomputed: kept a minute
# in the shared cache per scope of what a user may see.
PROVINCES_CACHE_SECONDS = 60


def _provinces_collection(user: Any) -> dict[str, Any]:
    """Province shapes with the aggregates of `schools.risk.aggregates`
    (cached for a minute per role and areas, which decide what is counted)."""
    access = access_for(user)
    key = "map-provinces:{}:{}".format(access.role or "-", ",".join(access.area_codes))
    collection = cache.get(key)
    if collection is None:
        collection = _provinces_uncached(user)
        cache.set(key, collection, PROVINCES_CACHE_SECONDS)
    return collection


def _provinces_uncached(user: Any) -> dict[str, Any]:
    shapes = map_data.province_shapes()
    rows = risk_aggregates(level="province", user=user)[1:]
    features = []
    for row in rows:
        if row["code"] not in shapes:
            continue
        schools = row["schools"]
        high = sum(row[f"schools_{c}"] for c in HIGH_CODES)
        learners = sum(row[f"learners_{c}"] for c in HIGH_CODES)
        share = high / schools if schools else None
        features.append(
            {
                "type": "Feature",
                "geometry": shapes[row["code"]],
                "properties": {
                    "code": row["code"],
                    "name": f"{row['name_en']} · {row['name_km']}",
                    "share_high": share,
                    "mean_css": row["mean_css"],
                    "learners_at_risk": learners,
                    "label_share": "–" if share is None else f"{share:.0%} ({high})",
                    "label_css": "–"
                    if row["mean_css"] is None
                    else f"{row['mean_css']:.0f}",
                    "label_learners": f"{learners:,}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _raster_overlays(
    request: HttpRequest, layers: list[HazardLayer]
) -> list[renderer.RasterOverlay]:
    found = []
    for layer in layers:
        if (
            layer.representation != HazardLayer.Representation.RASTER
            or not layer.raster
        ):
            continue
        overlay = overlays.raster_overlay(layer)
        found.append(
            renderer.RasterOverlay(
                name=layer.name,
                # Absolute: folium reads a relative string as a local file.
                url=request.build_absolute_uri(
                    reverse("map-raster", args=[layer.pk]) + f"?v={overlay.stem}"
                ),
                bounds=overlay.bounds,
            )
        )
    return found


@require_GET
def map_page(request: HttpRequest) -> HttpResponse:
    """The national risk map with the filters of the query string."""
    given = _query_params(request)
    serializer = MapFilterSerializer(data=given)
    if not serializer.is_valid():
        return render(
            request,
            "maps/bad_request.html",
            {"errors": serializer.errors},
            status=400,
        )
    access = access_for(request.user)
    query = urlencode(given)
    suffix = f"?{query}" if query else ""
    tile_urls = {
        layer: f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf{suffix}" for layer in TILE_LAYERS
    }
    aoi = None
    if given.get("aoi"):
        aoi = AreaOfInterest.objects.get(pk=given["aoi"])
    layers = list(map_data.hazard_layers())
    downloads = [(fmt, f"/api/schools/export.{fmt}{suffix}") for fmt in EXPORT_FORMATS]
    data = renderer.MapData(
        provinces=_provinces_collection(request.user),
        tile_urls=tile_urls,
        plans=map_data.plan_coverage() if access.authenticated else (),
        rasters=_raster_overlays(request, layers),
        aoi=None if aoi is None else map_data.area_of_interest_feature(aoi),
        details=access.authenticated,
        can_draw=access.has_role(Role.COORDINATOR, Role.ADMINISTRATOR),
        urls={
            "search": reverse("school-search"),
            "aois": reverse("aoi-create"),
            "summary": "" if aoi is None else reverse("aoi-summary", args=[aoi.pk]),
            "school": "/schools/{code}/",
            "map": reverse("map"),
            "image": "/map/image.png",
            "query": query,
        },
    )
    nonce = str(request.csp_nonce)  # type: ignore[attr-defined]  # CSPMiddleware
    parts = renderer.map_parts(renderer.build_map(data), nonce=nonce)
    context = {
        "parts": parts,
        "given": given,
        "risk_classes": [
            (code, label) for code, label in renderer._labels()["risk"].items()
        ],
        "chosen_classes": given.get("risk_class", "").split(","),
        "provinces": map_data.provinces(),
        "layers": layers,
        "levels": School.Level.choices,
        "downloads": downloads,
        "aoi": aoi,
        "can_draw": data.can_draw,
        "legend": renderer.legend_items(),
    }
    return render(request, "maps/map.html", context)


@require_GET
def raster_png(request: HttpRequest, layer_id: int) -> FileResponse:
    """The cached PNG overlay of an active raster layer."""
    layer = HazardLayer.objects.filter(
        pk=layer_id, active=True, representation=HazardLayer.Representation.RASTER
    ).first()
    if layer is None or not layer.raster:
        raise Http404(_("No active raster layer has this id."))
    overlay = overlays.raster_overlay(layer)
    response = FileResponse(overlay.open(), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        min_length=2, max_length=100, help_text="A school code or part of a name."
    )


class SearchResultSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_km = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    url = serializers.CharField(help_text="The school's page.")


class SearchResponseSerializer(serializers.Serializer):
    results = SearchResultSerializer(many=True)


class SchoolSearchView(APIView):
    """Schools by code or name (English or Khmer), at most ten, for the map."""

    @extend_schema(
        tags=TAGS,
        parameters=[SearchQuerySerializer],
        responses=SearchResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        q = validated_query(request, SearchQuerySerializer)["q"]
        results = [
            {
                "code": s.code,
                "name_en": s.name_en,
                "name_km": s.name_km,
                "lon": round(s.location.x, 6),
                "lat": round(s.location.y, 6),
                "url": f"/schools/{s.code}/",
            }
            for s in map_data.school_search(q=q)
        ]
        return Response({"results": results})


class AreaOfInterestInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    file = serializers.FileField(required=False)
    geometry = serializers.JSONField(required=False)
    srid = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("file" in attrs) == ("geometry" in attrs):
            raise serializers.ValidationError(
                {"file": [_("Upload one file, or send one drawn geometry.")]}
            )
        return attrs


BBOX = serializers.ListField(
    child=serializers.FloatField(),
    min_length=4,
    max_length=4,
    help_text="west, south, east, north (EPSG:4326)",
)


class AreaOfInterestSchoolsSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="Open schools in the area.")
    schools = serializers.IntegerField(help_text="Of those, schools with a risk.")
    learners = serializers.IntegerField()
    schools_very_low = serializers.IntegerField()
    schools_low = serializers.IntegerField()
    schools_medium = serializers.IntegerField()
    schools_high = serializers.IntegerField()
    schools_very_high = serializers.IntegerField()
    learners_at_risk = serializers.IntegerField(
        help_text="Learners in high and very high risk schools."
    )
    never_assessed = serializers.IntegerField()


class AreaOfInterestServicesSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_kind = serializers.DictField(
        child=serializers.IntegerField(), help_text="Open services by kind."
    )


class AreaOfInterestExposureSerializer(serializers.Serializer):
    layer = serializers.IntegerField()
    name = serializers.CharField()
    hazard_type = serializers.CharField()
    schools_by_class = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Open schools by hazard class, keys 0 to 4.",
    )


class AreaOfInterestSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    bbox = BBOX
    schools = AreaOfInterestSchoolsSerializer()
    services = AreaOfInterestServicesSerializer()
    exposures = AreaOfInterestExposureSerializer(many=True)


class AreaOfInterestCreateView(APIView):
    """Create an area of interest from an upload (GeoJSON, zipped Shapefile,
    KML) or a drawn GeoJSON geometry; coordinators and administrators only."""

    permission_classes = [
        role_permission(Role.COORDINATOR, Role.ADMINISTRATOR, read_open=False)
    ]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        tags=TAGS,
        request=AreaOfInterestInput,
        responses={
            201: OpenApiResponse(
                # inline: a declared field named `source` would shadow Field.source
                response=inline_serializer(
                    "AreaOfInterestCreated",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "source": serializers.CharField(
                            help_text="The uploaded file's name, if any."
                        ),
                        "bbox": BBOX,
                        "map": serializers.CharField(
                            help_text="The risk map limited to the area."
                        ),
                        "summary": serializers.CharField(
                            help_text="The area's summary (API)."
                        ),
                    },
                ),
                description="The new area, with links to its map and summary.",
            )
        },
    )
    def post(self, request: Request) -> Response:
        check_request_size(request, kind="aoi")
        data = request.data
        if isinstance(data, dict) and data.get("type") in (
            "Feature",
            "FeatureCollection",
            "Polygon",
            "MultiPolygon",
        ):
            data = {
                "geometry": data,
                "name": data.get("properties", {}).get("name", ""),
            }
        form = AreaOfInterestInput(data=data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        try:
            if "file" in values:
                upload = values["file"]
                area = aois.area_from_upload(
                    upload.name, upload.chunks(), srid=values.get("srid")
                )
                source = upload.name
            else:
                area = aois.area_from_geojson(values["geometry"])
                source = ""
        except aois.HazardInputError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        name = values.get("name") or source or _("Drawn area")
        aoi = aois.aoi_create(name=name, area=area, source=source, by=request.user)
        return Response(
            {
                "id": aoi.pk,
                "name": aoi.name,
                "source": aoi.source,
                "bbox": list(area.extent),
                "map": f"{reverse('map')}?aoi={aoi.pk}",
                "summary": reverse("aoi-summary", args=[aoi.pk]),
            },
            status=status.HTTP_201_CREATED,
        )


class AreaOfInterestSummaryView(APIView):
    """Schools, services, exposures and risk aggregates inside an area."""

    @extend_schema(tags=TAGS, responses=AreaOfInterestSummarySerializer)
    def get(self, request: Request, pk: int) -> Response:
        aoi = AreaOfInterest.objects.filter(pk=pk).first()
        if aoi is None:
            raise Http404(_("No area of interest has this id."))
        return Response(aois.aoi_summary(aoi=aoi, user=request.user))
