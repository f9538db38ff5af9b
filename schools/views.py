"""Home page and API of schools and services: thin adapters over selectors."""

from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hazards.classes import HazardClass
from hazards.models import HazardLayer
from preparedness.access import access_for, may_edit_in_area
from preparedness.api import GeoJsonPagination, role_permission
from preparedness.models import AdminArea, Membership
from preparedness.serializers import validated_query
from schools.models import School, Service
from schools.selectors import (
    school_exposures,
    school_get,
    school_list,
    service_get,
    service_list,
)
from schools.serializers import (
    SchoolFeatureSerializer,
    SchoolFilterSerializer,
    SchoolUpdateSerializer,
    ServiceFeatureSerializer,
    ServiceFilterSerializer,
)
from schools.services import school_update

Role = Membership.Role

CODE_PARAMETER = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="EMIS or service code."
)


def home(request: HttpRequest) -> HttpResponse:
    """What SalaSafe shows, live counts and, for officials, their schools."""
    access = access_for(request.user)
    my_schools = None
    if access.role == Role.EDUCATION_OFFICIAL:
        my_schools = (
            School.objects.filter(status=School.Status.OPEN)
            .filter(access.scope_q("commune__code"))
            .count()
        )
    return render(
        request,
        "schools/home.html",
        {"counts": _home_counts(), "my_schools": my_schools},
    )


def _home_counts() -> dict[str, int]:
    """Current areas by level and open schools, learners and services: two queries."""
    level = AdminArea.Level
    counts = AdminArea.objects.filter(valid_to__isnull=True).aggregate(
        provinces=Count("pk", filter=Q(level=level.PROVINCE)),
        districts=Count("pk", filter=Q(level=level.DISTRICT)),
        communes=Count("pk", filter=Q(level=level.COMMUNE)),
    )
    # One row per table; aggregating without GROUP BY answers 0 on empty tables.
    schools = (
        School.objects.filter(status=School.Status.OPEN)
        .order_by()
        .values(table=Value("schools"))
        .annotate(
            n=Count("pk"),
            enrolled=Coalesce(Sum(F("enrolment_girls") + F("enrolment_boys")), 0),
        )
    )
    services = (
        Service.objects.filter(status=Service.Status.OPEN)
        .order_by()
        .values(table=Value("services"))
        .annotate(n=Count("pk"), enrolled=Value(0))
    )
    for row in schools.union(services, all=True):
        counts[row["table"]] = row["n"]
        if row["table"] == "schools":
            counts["learners"] = row["enrolled"]
    return counts


class MayEditInArea(permissions.BasePermission):
    """Writes to a record need `may_edit_in_area` for the record's commune."""

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return may_edit_in_area(request.user, obj.commune_id)


@extend_schema_view(
    get=extend_schema(tags=["schools"], parameters=[SchoolFilterSerializer])
)
class SchoolListView(generics.ListAPIView):
    """Schools as a paginated GeoJSON FeatureCollection."""

    serializer_class = SchoolFeatureSerializer
    pagination_class = GeoJsonPagination

    def get_queryset(self) -> QuerySet[School]:
        filters = validated_query(self.request, SchoolFilterSerializer)
        return school_list(user=self.request.user, filters=filters)


@extend_schema_view(
    get=extend_schema(tags=["schools"], parameters=[CODE_PARAMETER]),
    patch=extend_schema(
        tags=["schools"],
        parameters=[CODE_PARAMETER],
        request=SchoolUpdateSerializer,
        responses=SchoolFeatureSerializer,
    ),
)
class SchoolDetailView(generics.RetrieveAPIView):
    """One school as a GeoJSON Feature; administrators and officials in scope PATCH."""

    serializer_class = SchoolFeatureSerializer
    permission_classes = [
        role_permission(Role.ADMINISTRATOR, Role.EDUCATION_OFFICIAL),
        MayEditInArea,
    ]

    def get_object(self) -> School:
        try:
            school = school_get(code=self.kwargs["code"])
        except School.DoesNotExist:
            raise NotFound() from None
        self.check_object_permissions(self.request, school)
        return school

    def patch(self, request: Request, code: str) -> Response:
        school = self.get_object()
        serializer = SchoolUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        school = school_update(
            school=school, by=request.user, data=serializer.validated_data
        )
        return Response(
            SchoolFeatureSerializer(school, context={"request": request}).data
        )


@extend_schema_view(
    get=extend_schema(tags=["services"], parameters=[ServiceFilterSerializer])
)
class ServiceListView(generics.ListAPIView):
    """Child-protection services as a paginated GeoJSON FeatureCollection.

    Sensitive services (safe shelters) appear only to coordinators, administrators
    and the education officials of their area.
    """

    serializer_class = ServiceFeatureSerializer
    pagination_class = GeoJsonPagination

    def get_queryset(self) -> QuerySet[Service]:
        filters = validated_query(self.request, ServiceFilterSerializer)
        return service_list(user=self.request.user, filters=filters)


@extend_schema_view(get=extend_schema(tags=["services"], parameters=[CODE_PARAMETER]))
class ServiceDetailView(generics.RetrieveAPIView):
    """One service as a GeoJSON Feature; 404 for a sensitive service out of reach."""

    serializer_class = ServiceFeatureSerializer

    def get_object(self) -> Service:
        try:
            service = service_get(user=self.request.user, code=self.kwargs["code"])
        except Service.DoesNotExist:
            raise NotFound() from None
        self.check_object_permissions(self.request, service)
        return service


class SchoolExposureSerializer(serializers.ModelSerializer):
    """One active hazard layer, its provenance and the school's exposure on it.

    (Belongs in schools/serializers.py; kept here until that file's owner moves it.)
    """

    layer = serializers.IntegerField(source="pk", read_only=True)
    intensity = serializers.FloatField(read_only=True, allow_null=True)
    hazard_class = serializers.ChoiceField(choices=HazardClass.choices, read_only=True)
    distance_km = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Distance to the nearest track."
    )
    computed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    scenario = serializers.ChoiceField(
        choices=HazardLayer.Scenario.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = HazardLayer
        fields = (
            "layer",
            "name",
            "hazard_type",
            "representation",
            "scenario",
            "event_date",
            "return_period",
            "valid_time",
            "source",
            "intensity",
            "units",
            "hazard_class",
            "distance_km",
            "computed_at",
        )
        read_only_fields = fields


@extend_schema_view(get=extend_schema(tags=["schools"], parameters=[CODE_PARAMETER]))
class SchoolExposureView(generics.ListAPIView):
    """The school's exposure on every active hazard layer, with each layer's
    provenance (scenario, source) and when it was computed; class 0 = not exposed."""

    serializer_class = SchoolExposureSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[HazardLayer]:
        code = self.kwargs["code"]
        if not School.objects.filter(code=code).exists():
            raise NotFound()
        return school_exposures(code=code)
