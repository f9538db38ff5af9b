"""API representations of schools and services, and their query and input shapes."""

import datetime as dt
from typing import Any

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from preparedness.serializers import BBoxField, area_code_field
from schools.models import Place, School, SchoolSafety, Service
from schools.risk.selectors import checklist_details_visible, css_scores_visible


class AreaCodeField(serializers.CharField):
    """The code of the commune's district or province: a prefix of the commune code."""

    def __init__(self, length: int, **kwargs: Any) -> None:
        self.length = length
        kwargs.setdefault("source", "commune_id")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str:
        return str(value)[: self.length]


class PlaceFilterSerializer(serializers.Serializer):
    """Query parameters shared by the school and service lists."""

    province = area_code_field(2, help_text="Province code, e.g. 12.")
    district = area_code_field(4, help_text="District code, e.g. 1201.")
    commune = area_code_field(6, help_text="Commune code, e.g. 120101.")
    status = serializers.ChoiceField(choices=Place.Status.choices, required=False)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Part of the code or English or Khmer name "
        "(case and zero-width spaces ignored).",
    )
    bbox = BBoxField(required=False)


class SchoolFilterSerializer(PlaceFilterSerializer):
    """Query parameters of the school list."""

    level = serializers.ChoiceField(choices=School.Level.choices, required=False)
    evacuation_centre = serializers.BooleanField(
        required=False, allow_null=True, default=None
    )


class ServiceFilterSerializer(PlaceFilterSerializer):
    """Query parameters of the service list."""

    kind = serializers.ChoiceField(choices=Service.Kind.choices, required=False)


def _safety(school: School) -> SchoolSafety | None:
    try:
        return school.safety
    except SchoolSafety.DoesNotExist:
        return None


class SchoolFeatureSerializer(GeoFeatureModelSerializer):
    """A school as a GeoJSON Feature (EPSG:4326 point) whose id is the EMIS code.

    The `css_*` fields come from its current (latest submitted or verified)
    assessment; `assessed` is false for a school never assessed, whose score is
    unknown (null), never zero or safe.
    """

    id = serializers.CharField(source="code", read_only=True)
    assessed = serializers.SerializerMethodField()
    css_score = serializers.SerializerMethodField()
    css_grade = serializers.SerializerMethodField()
    css_critical_gaps = serializers.SerializerMethodField()
    css_assessed_on = serializers.SerializerMethodField()
    css_verified = serializers.SerializerMethodField()
    learners = serializers.IntegerField(read_only=True)
    commune = AreaCodeField(6)
    district = AreaCodeField(4)
    province = AreaCodeField(2)

    class Meta:
        model = School
        geo_field = "location"
        id_field = "id"
        fields = (
            "id",
            "code",
            "name_en",
            "name_km",
            "level",
            "enrolment_girls",
            "enrolment_boys",
            "learners",
            "learners_with_disabilities",
            "commune",
            "district",
            "province",
            "evacuation_centre",
            "status",
            "hazard_level",
            "hazard_levels",
            "assessed",
            "css_score",
            "css_grade",
            "css_critical_gaps",
            "css_assessed_on",
            "css_verified",
            "location",
        )
        read_only_fields = fields

    def get_assessed(self, school: School) -> bool:
        return _safety(school) is not None

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_css_score(self, school: School) -> float | None:
        safety = _safety(school)
        return safety.score if safety and css_scores_visible(self._user()) else None

    def get_css_grade(self, school: School) -> str | None:
        safety = _safety(school)
        return safety.grade if safety and css_scores_visible(self._user()) else None

    def get_css_critical_gaps(self, school: School) -> list[str]:
        """Checklist details: for logged-in roles only (empty for the public)."""
        safety = _safety(school)
        if safety is None or not checklist_details_visible(self._user()):
            return []
        return list(safety.critical_gaps)

    def get_css_assessed_on(self, school: School) -> dt.date | None:
        safety = _safety(school)
        return safety.assessed_on if safety else None

    def get_css_verified(self, school: School) -> bool:
        safety = _safety(school)
        return bool(safety and safety.verified)


class ServiceFeatureSerializer(GeoFeatureModelSerializer):
    """A service as a GeoJSON Feature (EPSG:4326 point); the feature id is its code."""

    id = serializers.CharField(source="code", read_only=True)
    commune = AreaCodeField(6)
    district = AreaCodeField(4)
    province = AreaCodeField(2)

    class Meta:
        model = Service
        geo_field = "location"
        id_field = "id"
        fields = (
            "id",
            "code",
            "kind",
            "name_en",
            "name_km",
            "contact",
            "commune",
            "district",
            "province",
            "status",
            "hazard_level",
            "hazard_levels",
            "location",
        )
        read_only_fields = fields


class SchoolUpdateSerializer(serializers.ModelSerializer):
    """The fields of a school that PATCH may change; any other field is refused."""

    class Meta:
        model = School
        fields = (
            "name_en",
            "name_km",
            "level",
            "enrolment_girls",
            "enrolment_boys",
            "learners_with_disabilities",
            "evacuation_centre",
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        return attrs
