"""API views of schools and services: thin adapters over selectors and services."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from preparedness.access import may_edit_in_area
from preparedness.api import GeoJsonPagination, role_permission
from preparedness.models import Membership
from preparedness.serializers import validated_query
from schools.models import School, Service
from schools.selectors import school_get, school_list, service_get, service_list
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
        return Response(SchoolFeatureSerializer(school).data)


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
