"""API representations of the core, and the query-parameter fields every app shares."""

import math
from typing import Any

from django.contrib.gis.geos import Polygon
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from preparedness.models import AdminArea


def validated_query(
    request: Request, serializer_class: type[serializers.Serializer]
) -> dict:
    """Validated query parameters; a bad value is a 400 naming the parameter."""
    # A plain dict, not the QueryDict: DRF reads an absent boolean in form data
    # as False, which would turn every missing flag into a filter.
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}


@extend_schema_field(OpenApiTypes.STR)
class BBoxField(serializers.Field):
    """`minx,miny,maxx,maxy` in EPSG:4326 degrees, read as a Polygon."""

    default_error_messages = {
        "invalid": "Expected four numbers minx,miny,maxx,maxy in EPSG:4326 degrees.",
        "order": "minx must be below maxx and miny below maxy.",
        "range": "Longitudes lie in [-180, 180] and latitudes in [-90, 90].",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Bounding box minx,miny,maxx,maxy (EPSG:4326).")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Polygon:
        try:
            minx, miny, maxx, maxy = (float(part) for part in str(data).split(","))
        except ValueError:
            self.fail("invalid")
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
            self.fail("invalid")
        if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
            self.fail("range")
        if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            self.fail("range")
        if minx >= maxx or miny >= maxy:
            self.fail("order")
        return Polygon.from_bbox((minx, miny, maxx, maxy))

    def to_representation(self, value: Polygon) -> str:
        return ",".join(str(v) for v in value.extent)


def area_code_field(length: int, **kwargs: Any) -> serializers.RegexField:
    """A query parameter holding an NCDD code of `length` digits."""
    return serializers.RegexField(
        rf"^[0-9]{{{length}}}$",
        required=False,
        error_messages={"invalid": f"Expected an NCDD code of {length} digits."},
        **kwargs,
    )


class AdminAreaFilterSerializer(serializers.Serializer):
    """Query parameters of the administrative-area list."""

    level = serializers.ChoiceField(choices=AdminArea.Level.choices, required=False)
    # DRF's metaclass takes declared fields out of the class, so `Field.parent`
    # is not shadowed at run time.
    parent = serializers.RegexField(  # type: ignore[assignment]
        r"^[0-9]{2}([0-9]{2}){0,3}$",
        required=False,
        help_text="Code of the parent area: 07 lists the districts of Kampot.",
        error_messages={"invalid": "Expected an NCDD code of 2, 4, 6 or 8 digits."},
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Part of the English or Khmer name "
        "(case and zero-width spaces ignored).",
    )


class AdminAreaSerializer(serializers.ModelSerializer):
    """An area without its boundary, for lists."""

    parent = serializers.CharField(  # type: ignore[assignment]
        source="parent.code", read_only=True, allow_null=True
    )
    lon = serializers.SerializerMethodField(help_text="Gazetteer centroid longitude.")
    lat = serializers.SerializerMethodField(help_text="Gazetteer centroid latitude.")

    class Meta:
        model = AdminArea
        fields: tuple[str, ...] = (
            "code",
            "level",
            "kind",
            "name_en",
            "name_km",
            "parent",
            "valid_from",
            "valid_to",
            "lon",
            "lat",
        )

    def get_lon(self, area: AdminArea) -> float | None:
        return area.centroid.x if area.centroid else None

    def get_lat(self, area: AdminArea) -> float | None:
        return area.centroid.y if area.centroid else None


class AdminAreaFeatureSerializer(GeoFeatureModelSerializer, AdminAreaSerializer):
    """An area as a GeoJSON Feature with its boundary; the feature id is the code."""

    id = serializers.CharField(source="code", read_only=True)

    class Meta(AdminAreaSerializer.Meta):
        geo_field = "boundary"
        id_field = "id"
        fields = ("id", *AdminAreaSerializer.Meta.fields, "boundary")
