"""The one set of filters shared by the map, vector tiles, exports and the
OGC API: the priority list's filters plus an area of interest.

A filtered selection of schools is always `schools.risk.selectors.priority_list`
(so the map, the lists and every export hold the same rows); `aoi` becomes its
`within` geometry here.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from maps.models import AreaOfInterest
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
