"""3W view and exports of plans (signed-in users, like the rest of the plans API)."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from plans import exports
from plans.models import Plan
from preparedness.schema import feature_collection_schema, field, geometry_schema
from preparedness.serializers import area_code_field, validated_query

TAGS = ["plans"]
CSV_TYPE = "text/csv; charset=utf-8"
ROWS_SCHEMA = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}


class ThreeWFilterSerializer(serializers.Serializer):
    plan = serializers.IntegerField(required=False, min_value=1, help_text="Plan id.")
    status = serializers.ChoiceField(
        choices=Plan.Status.choices, required=False, help_text="The plan's status."
    )
    province = area_code_field(2, help_text="Province code, e.g. 07.")


def _rows(request: Request) -> list[dict]:
    return exports.three_w(filters=validated_query(request, ThreeWFilterSerializer))


def _attachment(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _plan(pk: int) -> Plan:
    try:
        return Plan.objects.get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404("No such plan.") from None


class _FileView(APIView):
    """A view answering with a file whatever the Accept header (a client asking
    for text/csv gets the CSV, not a 406); errors still render as JSON."""

    permission_classes = [permissions.IsAuthenticated]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[Any, str]:
        return super().perform_content_negotiation(request, force=True)


class ThreeWView(APIView):
    """Who does what where: one row per organization, sector, province, district
    and action. An action happens in its own areas, else in its plan's coverage."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        parameters=[ThreeWFilterSerializer],
        responses=OpenApiResponse(
            response=ROWS_SCHEMA,
            description="List of rows: "
            + ", ".join(c for c, _ in exports.THREE_W_COLUMNS),
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(_rows(request))


class ThreeWCSVView(_FileView):
    """The 3W rows as CSV (UTF-8 with a BOM): the header, the HXL hashtag row,
    then the data."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="plans_3w_csv",
        parameters=[ThreeWFilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="CSV file with an HXL row"
            )
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return _attachment(
            exports.three_w_csv(_rows(request)), CSV_TYPE, "salasafe-3w.csv"
        )


class ThreeWSummaryView(APIView):
    """Actions counted by organization, sector and province."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        parameters=[ThreeWFilterSerializer],
        responses=OpenApiResponse(
            response=ROWS_SCHEMA,
            description="List of {organization, organization_acronym, sector, "
            "adm1_code, adm1_name, adm1_name_km, actions}",
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(exports.three_w_summary(_rows(request)))


class PlanActionsCSVView(_FileView):
    """A plan's actions as CSV (UTF-8 with a BOM); areas and schools as
    `;`-joined codes."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="plans_actions_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="CSV file"
            )
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        plan = _plan(pk)
        return _attachment(
            exports.plan_actions_csv(plan), CSV_TYPE, f"salasafe-plan-{pk}-actions.csv"
        )


class PlanCoverageGeoJSONView(_FileView):
    """The plan's coverage (the union of its areas) as a GeoJSON FeatureCollection
    of one Feature, EPSG:4326."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="plans_coverage_geojson",
        responses={
            (200, "application/geo+json"): OpenApiResponse(
                response=feature_collection_schema(
                    properties={
                        "id": field("integer", description="The plan's id."),
                        "title": field("string"),
                        "status": field("string"),
                        "coverage": field(
                            "array",
                            items=field("string"),
                            description="Codes of the areas it covers.",
                        ),
                    },
                    geometry=geometry_schema("Polygon", "MultiPolygon", nullable=True),
                ),
                description="GeoJSON FeatureCollection of one Feature: the union "
                "of the plan's areas (no geometry when they have no boundary).",
            )
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        plan = _plan(pk)
        return _attachment(
            json.dumps(exports.plan_coverage_geojson(plan), ensure_ascii=False),
            "application/geo+json; charset=utf-8",
            f"salasafe-plan-{pk}-coverage.geojson",
        )
