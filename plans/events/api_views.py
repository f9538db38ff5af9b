"""API of emergency events: events, school status reports, the situation
report and its files. Reads need a signed-in account; coordinators open and
close events; officials report on the schools of their areas."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from plans.events import exports, selectors, services
from plans.events.serializers import (
    EventDetailSerializer,
    EventInputSerializer,
    EventSerializer,
    EventUpdateSerializer,
    ReportBatchSerializer,
    ReportSerializer,
    SitrepQuerySerializer,
)
from plans.models import Event
from preparedness.api import PageNumberPagination
from preparedness.schema import feature_collection_schema, field, geometry_schema
from preparedness.serializers import validated_query

# `schools.geojson`: each school's latest report (plans/events/exports.py).
SCHOOLS_GEOJSON = feature_collection_schema(
    properties={
        "school": field("string"),
        "name_en": field("string"),
        "name_km": field("string"),
        "commune": field("string"),
        "reported_on": field("string", format="date"),
        "status": field("string", enum=["open", "closed"]),
        "flooded": field("boolean"),
        "damaged": field("boolean"),
        "shelter": field("boolean"),
        "learners_affected": field("integer"),
        "note": field("string"),
    },
    geometry=geometry_schema("Point"),
    feature_id=field("string", description="The school's code."),
)

TAGS = ["events"]


def _event(pk: int) -> Event:
    try:
        return Event.objects.prefetch_related("provinces").get(pk=pk)
    except Event.DoesNotExist:
        raise Http404("No such event.") from None


def sitrep_data(report: dict[str, Any]) -> dict[str, Any]:
    """The situation report as JSON: areas by code and names."""
    rows = []
    for row in report["rows"]:
        area = row["area"]
        rows.append(
            {
                **{k: v for k, v in row.items() if k != "area"},
                "name_en": area.name_en if area else None,
                "name_km": area.name_km if area else None,
            }
        )
    return {**report, "rows": rows}


class EventListView(APIView):
    """Events, latest first; coordinators POST a new one."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination

    @extend_schema(tags=TAGS, responses=EventSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.event_list(), request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS, request=EventInputSerializer, responses={201: EventSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_create(by=request.user, data=serializer.validated_data)
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)


class EventDetailView(APIView):
    """One event with its current situation report; coordinators PATCH it
    (close it by setting `ends_on`)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses=EventDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        event = _event(pk)
        return Response(
            {
                **EventSerializer(event).data,
                "sitrep": sitrep_data(selectors.sitrep(event)),
            }
        )

    @extend_schema(tags=TAGS, request=EventUpdateSerializer, responses=EventSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        _event(pk)
        serializer = EventUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_update(
            by=request.user, event_id=pk, data=serializer.validated_data
        )
        return Response(EventSerializer(event).data)


def _flat_errors(errors: Any) -> dict[str, Any]:
    """`{"reports": [{}, {"status": [...]}]}` -> `{"reports[1].status": [...]}`."""
    rows = errors.get("reports") if isinstance(errors, dict) else None
    if isinstance(rows, list):
        rows = dict(enumerate(rows))
    if not isinstance(rows, dict):
        return errors
    flat: dict[str, Any] = {}
    for i, row in rows.items():
        if isinstance(row, dict):
            flat.update({f"reports[{i}].{k}": v for k, v in row.items()})
    return flat or errors


class ReportListView(APIView):
    """Each reported school's latest status (`?as_of=` a day); officials and
    coordinators POST `{"reports": [...]}`, all written or none."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=TAGS,
        parameters=[SitrepQuerySerializer],
        responses=ReportSerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        event = _event(pk)
        as_of = validated_query(request, SitrepQuerySerializer).get("as_of")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.latest_reports(event, as_of), request, view=self
        )
        return paginator.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=ReportBatchSerializer,
        responses={201: ReportSerializer(many=True)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _event(pk)
        if not services.may_report(request.user):
            raise PermissionDenied(
                _("Only education officials and coordinators report school status.")
            )
        serializer = ReportBatchSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(_flat_errors(serializer.errors))
        reports = services.reports_submit(
            by=request.user, event_id=pk, rows=serializer.validated_data["reports"]
        )
        return Response(
            ReportSerializer(reports, many=True).data, status=status.HTTP_201_CREATED
        )


class SitrepCountsSerializer(serializers.Serializer):
    reporting = serializers.IntegerField(help_text="Schools that reported.")
    closed = serializers.IntegerField()
    flooded = serializers.IntegerField()
    damaged = serializers.IntegerField()
    shelter = serializers.IntegerField(help_text="Schools used as shelters.")
    learners_affected = serializers.IntegerField(help_text="Learners out of school.")


class SitrepRowSerializer(SitrepCountsSerializer):
    level = serializers.ChoiceField(choices=["province", "district", "total"])
    province = serializers.CharField(allow_null=True)
    district = serializers.CharField(allow_null=True)
    name_en = serializers.CharField(allow_null=True)
    name_km = serializers.CharField(allow_null=True)
    change = SitrepCountsSerializer(help_text="Since the previous report day.")


class SitrepSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    previous = serializers.DateField(
        allow_null=True, help_text="The previous report day, if any."
    )
    rows = SitrepRowSerializer(
        many=True,
        help_text="Provinces, each followed by its districts; the total last.",
    )


class SitrepView(APIView):
    """The situation report: by province and district, schools reporting,
    closed, flooded, damaged, used as shelter, learners out of school, and the
    change of each since the previous report day."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        parameters=[SitrepQuerySerializer],
        responses=SitrepSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        event = _event(pk)
        as_of = validated_query(request, SitrepQuerySerializer).get("as_of")
        return Response(sitrep_data(selectors.sitrep(event, as_of)))


class SitrepFileView(APIView):
    """Files: `sitrep.csv` (the table), `schools.csv` and `schools.geojson`
    (each school's latest status), all with `?as_of=`."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="events_file",
        parameters=[
            SitrepQuerySerializer,
            OpenApiParameter("id", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                enum=["sitrep.csv", "schools.csv", "schools.geojson"],
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="CSV file"
            ),
            (200, "application/geo+json"): OpenApiResponse(
                SCHOOLS_GEOJSON, description="GeoJSON FeatureCollection"
            ),
        },
    )
    def get(self, request: Request, pk: int, name: str) -> HttpResponse:
        event = _event(pk)
        as_of = validated_query(request, SitrepQuerySerializer).get("as_of")
        filename = f"salasafe-event-{event.pk}-{name}"
        if name == "sitrep.csv":
            response = HttpResponse(
                exports.sitrep_csv(selectors.sitrep(event, as_of)),
                content_type="text/csv; charset=utf-8",
            )
        elif name == "schools.csv":
            response = HttpResponse(
                exports.schools_csv(selectors.latest_reports(event, as_of)),
                content_type="text/csv; charset=utf-8",
            )
        else:
            response = JsonResponse(
                exports.schools_geojson(selectors.latest_reports(event, as_of)),
                content_type="application/geo+json; charset=utf-8",
                json_dumps_params={"ensure_ascii": False},
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
