"""The one set of filters shared by the map, vector tiles, exports and the
OGC API: the priority list's filters plus an area of interest.

A filtered selection of schools is always `schools.risk.selectors.priority_list`
(so the map, the lists and every export hold the same rows); `aoi` becomes its
`within` geometry here.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hazards.classes import HazardType
from maps.models import AreaOfInterest
from plans.models import Plan
from preparedness.models import AdminArea
from preparedness.serializers import BBoxField, area_code_field
from schools.models import Service
from schools.risk.serializers import PriorityFilterSerializer


class MapFilterSerializer(PriorityFilterSerializer):
    aoi = serializers.PrimaryKeyRelatedField(
        queryset=AreaOfInterest.objects.all(),
        required=False,
        help_text="Only what lies inside this area of interest (id).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        aoi = attrs.pop("aoi", None)
        if aoi is not None:
            attrs["within"] = aoi.area
        return attrs


class _AreaFilters(serializers.Serializer):
    """Filters every feature collection accepts: area codes, bbox, area of
    interest (`aoi` becomes the `within` geometry)."""

    province = area_code_field(2, help_text="Province code, e.g. 07.")
    district = area_code_field(4, help_text="District code, e.g. 0701.")
    commune = area_code_field(6, help_text="Commune code, e.g. 070101.")
    bbox = BBoxField(required=False)
    aoi = serializers.PrimaryKeyRelatedField(
        queryset=AreaOfInterest.objects.all(),
        required=False,
        help_text="Only what lies inside this area of interest (id).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        aoi = attrs.pop("aoi", None)
        if aoi is not None:
            attrs["within"] = aoi.area
        return attrs


class ServiceFilterSerializer(_AreaFilters):
    kind = serializers.ChoiceField(choices=Service.Kind.choices, required=False)


class HazardZoneFilterSerializer(_AreaFilters):
    layer = serializers.IntegerField(
        required=False, min_value=1, help_text="Hazard layer id (default: active)."
    )
    hazard_type = serializers.ChoiceField(choices=HazardType.choices, required=False)


class AdminAreaFilterSerializer(_AreaFilters):
    admin_level = serializers.ChoiceField(
        choices=AdminArea.Level.choices,
        required=False,
        help_text="province (the default), district or commune.",
    )


class PlanCoverageFilterSerializer(_AreaFilters):
    status = serializers.ChoiceField(choices=Plan.Status.choices, required=False)
