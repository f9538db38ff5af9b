"""Query and input shapes of the risk API."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hazards.classes import HazardType
from preparedness.serializers import BBoxField, area_code_field
from schools.models import RiskSettings, School
from schools.risk.selectors import ORDERINGS, RISK_CLASS_CODES
from schools.risk.services import SETTING_FIELDS

CLASS_BY_CODE = {code: n for n, code in RISK_CLASS_CODES.items()}


@extend_schema_field(OpenApiTypes.STR)
class RiskClassesField(serializers.Field):
    """Comma-separated risk classes: very_low, low, medium, high, very_high."""

    def to_internal_value(self, data: Any) -> list[int]:
        names = [part.strip() for part in str(data).split(",") if part.strip()]
        unknown = [n for n in names if n not in CLASS_BY_CODE]
        if unknown or not names:
            raise serializers.ValidationError(
                "Use one or more of: " + ", ".join(CLASS_BY_CODE) + "."
            )
        return [CLASS_BY_CODE[n] for n in names]


class PriorityFilterSerializer(serializers.Serializer):
    province = area_code_field(2, help_text="Province code, e.g. 07.")
    district = area_code_field(4, help_text="District code, e.g. 0701.")
    commune = area_code_field(6, help_text="Commune code, e.g. 070101.")
    hazard_type = serializers.ChoiceField(
        choices=HazardType.choices,
        required=False,
        help_text="Only schools exposed to this hazard type (class 1 or more).",
    )
    layer = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Only schools exposed (class 1 or more) on this hazard layer (id).",
    )
    bbox = BBoxField(required=False)
    risk_class = RiskClassesField(required=False, help_text="e.g. high,very_high")
    never_assessed = serializers.BooleanField(
        required=False, allow_null=True, default=None
    )
    access_gap = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="No CCWC or social worker within the configured distance.",
    )
    level = serializers.ChoiceField(choices=School.Level.choices, required=False)
    evacuation_centre = serializers.BooleanField(
        required=False, allow_null=True, default=None
    )
    order = serializers.ChoiceField(
        choices=list(ORDERINGS),
        required=False,
        help_text="risk (highest first, the default) or -risk.",
    )


class RiskSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = RiskSettings
        fields = (*SETTING_FIELDS, "updated_at")
        read_only_fields = ("updated_at",)
