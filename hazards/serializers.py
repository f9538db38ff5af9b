"""API representations of hazard layers, zones and tracks, and the upload form."""

from typing import Any

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from hazards.classes import HazardType, check_breaks
from hazards.errors import HazardInputError
from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.services import HAZARD_TYPE_ALIASES, hazard_type_value
from hazards.vectors import SUFFIXES
from preparedness.readers import ReadError, parse_mapping
from preparedness.serializers import BBoxField


class LayerSerializer(serializers.ModelSerializer):
    """A layer without its features, for lists."""

    zone_count = serializers.IntegerField(read_only=True)
    track_count = serializers.IntegerField(read_only=True)
    # Read-only model fields lose `allow_blank`: say that "" (no scenario) occurs.
    scenario = serializers.ChoiceField(
        choices=HazardLayer.Scenario.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = HazardLayer
        fields: tuple[str, ...] = (
            "id",
            "name",
            "hazard_type",
            "representation",
            "scenario",
            "event_date",
            "return_period",
            "valid_time",
            "units",
            "breaks",
            "source",
            "active",
            "zone_count",
            "track_count",
            "created_at",
        )
        read_only_fields = fields


class LayerDetailSerializer(LayerSerializer):
    """A layer with what its import read, repaired, rejected and dropped."""

    class Meta(LayerSerializer.Meta):
        fields = (*LayerSerializer.Meta.fields, "updated_at", "import_summary")
        read_only_fields = fields


class LayerFilterSerializer(serializers.Serializer):
    """Query parameters of the layer list."""

    hazard_type = serializers.ChoiceField(choices=HazardType.choices, required=False)
    representation = serializers.ChoiceField(
        choices=HazardLayer.Representation.choices, required=False
    )
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class BreaksField(serializers.CharField):
    """Class breaks as `0.5,1.5,3.0`: one to three increasing positive numbers."""

    def to_internal_value(self, data: Any) -> list[float]:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            breaks = [float(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError(
                "Expected numbers separated by commas, e.g. 0.5,1.5,3.0."
            ) from None
        problems = check_breaks(breaks)
        if problems:
            raise serializers.ValidationError(problems)
        return breaks


class LayerImportSerializer(serializers.Serializer):
    """A hazard file upload with the options of `manage.py import_hazard`."""

    file = serializers.FileField(
        help_text="GeoJSON, GeoPackage, zipped Shapefile (.zip), KML, best-track "
        "CSV or single-band GeoTIFF."
    )
    # Not a ChoiceField: its choices (types and aliases) would clash in the schema
    # with the layer's `hazard_type` enum.
    hazard_type = serializers.CharField(
        max_length=32,
        help_text="One of "
        + ", ".join([*HazardType.values, *HAZARD_TYPE_ALIASES])
        + " (flood, typhoon and cyclone are aliases).",
    )
    name = serializers.CharField(
        max_length=200, help_text="Layer name; a layer of this name is replaced."
    )
    intensity_field = serializers.CharField(required=False, max_length=200)
    class_field = serializers.CharField(required=False, max_length=200)
    breaks = BreaksField(
        required=False, help_text="Intensities where classes 2, 3 and 4 start."
    )
    return_period = serializers.IntegerField(required=False, min_value=1)
    event_date = serializers.DateField(required=False)
    valid_time = serializers.DateTimeField(required=False)
    # DRF's metaclass takes declared fields out of the class, so `Field.source`
    # is not shadowed at run time.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, max_length=500, default=""
    )
    srid = serializers.IntegerField(
        required=False, min_value=1, help_text="EPSG code of a file without a CRS."
    )
    skip_bad_rows = serializers.BooleanField(required=False, default=False)
    map = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Best-track columns, e.g. storm_id=SID,time=ISO_TIME,wind=USA_WIND.",
    )
    wind_field = serializers.CharField(required=False, max_length=200)
    radius_field = serializers.CharField(required=False, max_length=200)

    def validate_file(self, upload: Any) -> Any:
        suffix = "." + str(upload.name).rsplit(".", 1)[-1].lower()
        if "." not in str(upload.name) or suffix not in SUFFIXES:
            raise serializers.ValidationError(
                f"Not a hazard file type; use one of {', '.join(SUFFIXES)}."
            )
        return upload

    def validate_hazard_type(self, value: str) -> str:
        try:
            return hazard_type_value(value)
        except HazardInputError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_map(self, value: str) -> dict[str, str]:
        try:
            return parse_mapping(value)
        except ReadError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ZoneFeatureSerializer(GeoFeatureModelSerializer):
    """A hazard zone as a GeoJSON Feature (EPSG:4326 MultiPolygon)."""

    class Meta:
        model = HazardZone
        geo_field = "area"
        fields = ("id", "intensity", "hazard_class", "properties")


class TrackFeatureSerializer(GeoFeatureModelSerializer):
    """A storm track segment as a GeoJSON Feature (EPSG:4326 LineString)."""

    class Meta:
        model = StormTrack
        geo_field = "path"
        fields = (
            "id",
            "storm_id",
            "name",
            "max_wind_kt",
            "radius_km",
            "starts_at",
            "ends_at",
            "properties",
        )


class FeatureFilterSerializer(serializers.Serializer):
    """Query parameters of the zone and track lists."""

    bbox = BBoxField(required=False)
