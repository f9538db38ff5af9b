"""API of risk aggregates (the tables pasted into reports) and of safe places.

Thin adapters over `schools.risk.aggregates`. Public reads, like the school
list, except that sensitive services are counted only for users who may see
them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from preparedness.api import GeoJsonPagination
from preparedness.csvexport import csv_text
from preparedness.models import AdminArea
from preparedness.serializers import validated_query
from schools.risk import aggregates

TAGS = ["risk"]
SENSITIVE_NOTE = (
    "Sensitive services (safe shelters by default) are counted only for users "
    "who may see them: coordinators and administrators everywhere, education "
    "officials in their own areas. For everyone else (the public, planners) they "
    "are left out of the service counts entirely."
)


def _code_field(lengths: str, help_text: str, message: Any) -> serializers.RegexField:
    return serializers.RegexField(
        rf"^[0-9]{{{lengths}}}$",
        required=False,
        help_text=help_text,
        error_messages={"invalid": message},
    )


class AggregateQuerySerializer(serializers.Serializer):
    """Query parameters of the risk aggregates and their CSV export."""

    level = serializers.ChoiceField(
        choices=AdminArea.Level.choices,
        required=False,
        default=AdminArea.Level.PROVINCE,
        help_text="One row per province (the default), district or commune.",
        error_messages={
            "invalid_choice": _("Choose province, district or commune."),
        },
    )
    # DRF's metaclass takes declared fields out of the class, so `Field.parent`
    # is not shadowed at run time.
    parent = serializers.RegexField(  # type: ignore[assignment]
        r"^[0-9]{2}([0-9]{2})?$",
        required=False,
        help_text="Only the units under this province (2 digits) or district "
        "(4 digits); the first row is then this area's total.",
        error_messages={
            "invalid": _("Expected the code of a province (2 digits) or district (4).")
        },
    )
    by = serializers.ChoiceField(
        choices=[("hazard", _("hazard type and class"))],
        required=False,
        help_text="hazard: one row per unit, hazard type and hazard class (0 = "
        "not exposed to that type) with schools and learners.",
        error_messages={"invalid_choice": _("The only breakdown is by=hazard.")},
    )


class SafePlaceFilterSerializer(serializers.Serializer):
    province = _code_field("2", "Province code, e.g. 07.", _("Expected 2 digits."))
    district = _code_field("4", "District code, e.g. 0701.", _("Expected 4 digits."))
    commune = _code_field("6", "Commune code, e.g. 070101.", _("Expected 6 digits."))


def _aggregate_rows(request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    query = validated_query(request, AggregateQuerySerializer)
    rows = aggregates.risk_aggregates(
        level=query["level"],
        parent=query.get("parent"),
        by_hazard=query.get("by") == "hazard",
        user=request.user,
    )
    return query, rows


ROW_EXAMPLE = (
    "Rows: code, name_en, name_km, schools, learners, schools_<class> and "
    "learners_<class> for the risk classes very_low..very_high, "
    "schools_not_computed / learners_not_computed (no risk computed yet), "
    "assessed, never_assessed, mean_css and mean_css_F/_P1/_P2/_P3 (over "
    "assessed schools, null if none), schools_critical_gaps, "
    "share_critical_gaps (0-1 of assessed schools, null if none), access_gaps "
    "(no CCWC or social worker within the configured distance), and "
    "services_<kind> / services_<kind>_exposed (open services, and those in "
    "hazard class 1 or more). With by=hazard: code, names, hazard_type, "
    "hazard_type_label, hazard_class (0-4), hazard_class_label, schools, learners."
)


class RiskAggregateView(APIView):
    """Open schools, learners and services per province, district or commune."""

    @extend_schema(
        tags=TAGS,
        parameters=[AggregateQuerySerializer],
        description=(
            "One row per administrative unit (current units, with zeros when "
            "empty), ordered by code, after a first total row: Cambodia (code "
            '"") or, with parent, that area; the unit rows add up to it. '
            + ROW_EXAMPLE
            + " "
            + SENSITIVE_NOTE
        ),
        responses=inline_serializer(
            "RiskAggregates",
            {
                "level": serializers.CharField(),
                "parent": serializers.CharField(allow_null=True),
                "by": serializers.CharField(allow_null=True),
                "rows": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        query, rows = _aggregate_rows(request)
        return Response(
            {
                "level": query["level"],
                "parent": query.get("parent"),
                "by": query.get("by"),
                "rows": rows,
            }
        )


class RiskAggregateExportView(APIView):
    """The same table as CSV (UTF-8 with a BOM, so spreadsheets read Khmer)."""

    @extend_schema(
        tags=TAGS,
        operation_id="risk_aggregates_export_csv",
        parameters=[AggregateQuerySerializer],
        description="The rows of /api/risk/aggregates/ as CSV, total first. "
        + SENSITIVE_NOTE,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="CSV file"
            )
        },
    )
    def get(self, request: Request) -> HttpResponse:
        query, rows = _aggregate_rows(request)
        header = list(rows[0]) if rows else ["code", "name_en", "name_km"]
        text = csv_text(header, ([row[c] for c in header] for row in rows))
        name = "-".join(
            part
            for part in ("salasafe-risk", query["level"], query.get("parent"))
            if part
        )
        if query.get("by"):
            name += "-by-" + query["by"]
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


SAFE_PROPERTIES = (
    "code",
    "name_en",
    "name_km",
    "province",
    "district",
    "commune",
    "level",
    "learners",
    "evacuation_centre",
    "nearest_exposed_km",
    "exposed_within_10km",
)


def _safe_feature(row: dict[str, Any]) -> dict[str, Any]:
    commune = row["commune_code"]
    km = row["nearest_exposed_km"]
    properties = {
        **row,
        "province": commune[:2],
        "district": commune[:4],
        "commune": commune,
        "nearest_exposed_km": None if km is None else round(float(km), 2),
    }
    return {
        "type": "Feature",
        "id": row["code"],
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
        "properties": {name: properties[name] for name in SAFE_PROPERTIES},
    }


class SafePlaceListView(APIView):
    """Open schools exposed to no active hazard layer: candidate safe places and
    alternative learning sites, closest to an exposed school first."""

    pagination_class = GeoJsonPagination

    @extend_schema(
        tags=TAGS,
        parameters=[SafePlaceFilterSerializer],
        description=(
            "Open schools with hazard level 0 (no active layer reaches them) as a "
            "paginated GeoJSON FeatureCollection, ordered by nearest_exposed_km "
            "(km to the nearest open school in hazard class 1 or more; null when "
            "no school is exposed) ascending, then code. exposed_within_10km "
            "counts the open exposed schools within 10 km."
        ),
        responses={200: OpenApiResponse(description="GeoJSON FeatureCollection")},
    )
    def get(self, request: Request) -> Response:
        filters = validated_query(request, SafePlaceFilterSerializer)
        places = aggregates.safe_places(filters=filters)
        paginator = GeoJsonPagination()
        page = paginator.paginate_queryset(places, request, view=self) or []
        features = [_safe_feature(row) for row in page]
        return paginator.get_paginated_response({"features": features})
