"""API of school risk: the priority list, its exports, and the settings.

Thin adapters over `selectors` and `services`. Every list and export shares the
same filters, so an export holds exactly the rows the list shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from preparedness.access import Role
from preparedness.api import GeoJsonPagination, role_permission
from preparedness.csvexport import csv_lines
from preparedness.schema import feature_collection_schema, field, geometry_schema
from preparedness.serializers import validated_query
from schools.models import School
from schools.risk import selectors, services
from schools.risk.serializers import PriorityFilterSerializer, RiskSettingsSerializer
from schools.risk.settings import risk_settings

TAGS = ["risk"]
EXPORT_CHUNK = 2000


def _visible_sensitive(request: Request) -> set[str]:
    """Codes of the sensitive services this user may see exactly (a small set)."""
    return selectors.sensitive_visible(request.user)


def _feature(
    school: School, visible: set[str], focal_km: float, user: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": school.code,
        "geometry": {
            "type": "Point",
            "coordinates": [school.location.x, school.location.y],
        },
        "properties": selectors.priority_properties(
            school, visible, focal_km, user=user
        ),
    }


def _priorities(request: Request) -> QuerySet[School]:
    return selectors.priority_list(
        filters=validated_query(request, PriorityFilterSerializer)
    )


def _priority_properties_schema() -> dict[str, dict[str, Any]]:
    """The schema of `selectors.priority_properties` (one school's fields)."""
    text, number, integer, flag = "string", "number", "integer", "boolean"
    hidden = "None when the reader may not see checklist details."
    schema = {
        "code": field(text),
        "name_en": field(text),
        "name_km": field(text),
        "province": field(text),
        "district": field(text),
        "commune": field(text),
        "level": field(text),
        "learners": field(integer),
        "girls": field(integer),
        "boys": field(integer),
        "learners_with_disabilities": field(integer),
        "evacuation_centre": field(flag),
        "risk_score": field(number),
        "risk_class": field(text, enum=list(selectors.RISK_CLASS_CODES.values())),
        "hazard_exposure": field(number),
        "vulnerability": field(number),
        "coping_gap": field(number),
        "hazard_level": field(integer, minimum=0, maximum=4),
        "hazard_levels": field(
            "object",
            additionalProperties=field(integer),
            description="Highest hazard class by hazard type.",
        ),
        "assessed": field(flag),
        "css_score": field(number, nullable=True),
        "css_grade": field(text, nullable=True),
        "css_area_scores": field(
            "object",
            nullable=True,
            additionalProperties=field(number, nullable=True),
            description=hidden,
        ),
        "critical_gaps": field(
            "array", nullable=True, items=field(text), description=hidden
        ),
        "assessed_on": field(text, format="date", nullable=True),
        "focal_point_km": field(number, nullable=True),
        "access_gap": field(flag),
    }
    for kind in selectors.ACCESS_KINDS:
        schema |= {
            f"nearest_{kind}_km": field(number, nullable=True),
            f"nearest_{kind}_code": field(text, nullable=True),
            f"nearest_{kind}_unavailable": field(flag),
            f"nearest_available_{kind}_km": field(number, nullable=True),
            f"nearest_available_{kind}_code": field(text, nullable=True),
        }
    return schema


class PriorityListView(APIView):
    """Schools ranked by risk (highest first), with the fields that explain the
    rank: hazard level, learners, CSS score, critical gaps, nearest services."""

    pagination_class = GeoJsonPagination

    @extend_schema(
        tags=TAGS,
        parameters=[PriorityFilterSerializer],
        responses={
            200: OpenApiResponse(
                response=feature_collection_schema(
                    properties=_priority_properties_schema(),
                    geometry=geometry_schema("Point"),
                    feature_id=field("string", description="The EMIS code."),
                    paginated=True,
                ),
                description="A GeoJSON FeatureCollection (count, next, previous, "
                "features) of schools; each feature's properties are the "
                "explanation fields of the CSV export.",
            )
        },
    )
    def get(self, request: Request) -> Response:
        queryset = _priorities(request)
        paginator = GeoJsonPagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        visible, focal = _visible_sensitive(request), risk_settings().focal_point_km
        features = [_feature(s, visible, focal, request.user) for s in page]
        return paginator.get_paginated_response({"features": features})


CSV_FIXED = (
    "code",
    "name_en",
    "name_km",
    "province",
    "district",
    "commune",
    "level",
    "learners",
    "girls",
    "boys",
    "learners_with_disabilities",
    "evacuation_centre",
    "risk_score",
    "risk_class",
    "hazard_exposure",
    "vulnerability",
    "coping_gap",
    "hazard_level",
    "assessed",
    "css_score",
    "css_grade",
    "assessed_on",
    "critical_gaps",
    "focal_point_km",
    "access_gap",
)


def _csv_rows(queryset: QuerySet[School], request: Request) -> Iterator[str]:
    from hazards.classes import HazardType
    from schools.risk.selectors import ACCESS_KINDS

    visible, focal = _visible_sensitive(request), risk_settings().focal_point_km
    nearest = [
        f"nearest_{prefix}{kind}_{what}"
        for kind in ACCESS_KINDS
        for prefix, whats in (
            ("", ("km", "code", "unavailable")),
            ("available_", ("km", "code")),
        )
        for what in whats
    ]
    hazards = [f"hazard_{t}" for t in HazardType.values]
    header = [
        *CSV_FIXED,
        *hazards,
        "css_F",
        "css_P1",
        "css_P2",
        "css_P3",
        *nearest,
        "lon",
        "lat",
    ]
    rows = _csv_values(queryset, visible, focal, nearest, request.user)
    yield from csv_lines(header, rows)


def _csv_values(
    queryset: QuerySet[School],
    visible: set[str],
    focal: float,
    nearest: list[str],
    user: Any,
) -> Iterator[list[Any]]:
    from hazards.classes import HazardType

    for school in queryset.iterator(chunk_size=EXPORT_CHUNK):
        p = selectors.priority_properties(school, visible, focal, user=user)
        gaps = p["critical_gaps"]
        row = [
            p[c] if c != "critical_gaps" else gaps and ";".join(gaps) for c in CSV_FIXED
        ]
        row += [p["hazard_levels"].get(t, 0) for t in HazardType.values]
        row += [(p["css_area_scores"] or {}).get(a) for a in ("F", "P1", "P2", "P3")]
        row += [p[n] for n in nearest]
        row += [school.location.x, school.location.y]
        yield row


def _geojson_rows(queryset: QuerySet[School], request: Request) -> Iterator[str]:
    visible, focal = _visible_sensitive(request), risk_settings().focal_point_km
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for school in queryset.iterator(chunk_size=EXPORT_CHUNK):
        prefix = "" if first else ",\n"
        first = False
        feature = _feature(school, visible, focal, request.user)
        yield prefix + json.dumps(feature, ensure_ascii=False)
    yield "]}\n"


class PriorityExportView(APIView):
    """The whole priority list (same filters) as CSV or GeoJSON, UTF-8."""

    @extend_schema(
        tags=TAGS,
        parameters=[
            PriorityFilterSerializer,
            OpenApiParameter(
                "fmt", str, OpenApiParameter.PATH, enum=["csv", "geojson"]
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="CSV file"
            ),
            (200, "application/geo+json"): OpenApiResponse(
                feature_collection_schema(
                    properties=_priority_properties_schema(),
                    geometry=geometry_schema("Point"),
                    feature_id=field("string", description="The EMIS code."),
                ),
                description="GeoJSON FeatureCollection",
            ),
        },
    )
    def get(self, request: Request, fmt: str) -> StreamingHttpResponse:
        queryset = _priorities(request)
        if fmt == "csv":
            response = StreamingHttpResponse(
                _csv_rows(queryset, request), content_type="text/csv; charset=utf-8"
            )
        else:
            response = StreamingHttpResponse(
                _geojson_rows(queryset, request),
                content_type="application/geo+json; charset=utf-8",
            )
        response["Content-Disposition"] = (
            f'attachment; filename="salasafe-priorities.{fmt}"'
        )
        return response


class RiskSettingsView(APIView):
    """How risk is computed (everyone may read it); administrators PATCH it,
    which recomputes every school's risk."""

    permission_classes = [role_permission(Role.ADMINISTRATOR)]

    @extend_schema(tags=TAGS, responses=RiskSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(RiskSettingsSerializer(risk_settings()).data)

    @extend_schema(
        tags=TAGS, request=RiskSettingsSerializer, responses=RiskSettingsSerializer
    )
    def patch(self, request: Request) -> Response:
        serializer = RiskSettingsSerializer(
            risk_settings(), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        settings = services.risk_settings_update(
            by=request.user, data=serializer.validated_data
        )
        return Response(RiskSettingsSerializer(settings).data)
