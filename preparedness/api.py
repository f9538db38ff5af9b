"""API conventions shared by every app: pagination, errors, role permissions."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, permissions, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_gis.pagination import GeoJsonPagination as _GeoJsonPagination

from preparedness.access import access_for
from preparedness.errors import Conflict


class PageNumberPagination(pagination.PageNumberPagination):
    """`{count, next, previous, results}`; `?page_size=` up to 1000."""

    page_size_query_param = "page_size"
    max_page_size = 1000


class GeoJsonPagination(_GeoJsonPagination):
    """A FeatureCollection carrying `count`, `next` and `previous`."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The list's FeatureCollection schema plus the page links.

        drf-gis renames `results` to `features` but leaves `results` required and
        wraps the FeatureCollection inside `features`.
        """
        page = super().get_paginated_response_schema(schema)
        links = {key: page["properties"][key] for key in ("count", "next", "previous")}
        return {
            "allOf": [
                schema,
                {"type": "object", "required": ["count"], "properties": links},
            ]
        }


def _as_lists(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _as_lists(value) for key, value in data.items()}
    if isinstance(data, list):
        return data
    return [data]


class ConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every error as `{field: [messages]}` (`detail` when no field applies)."""
    if isinstance(exc, Conflict):
        exc = ConflictError(str(exc))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"detail": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, list):
        data = {"detail": data}
    elif isinstance(data, dict) and NON_FIELD_ERRORS in data:
        data = {"non_field_errors": data.pop(NON_FIELD_ERRORS), **data}
    response.data = _as_lists(data)
    return response


class HasRole(permissions.BasePermission):
    """Lets users holding one of `roles` write; reads are open when `read_open`."""

    roles: tuple[str, ...] = ()
    read_open = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        if self.read_open and request.method in permissions.SAFE_METHODS:
            return True
        return access_for(request.user).has_role(*self.roles)


def role_permission(*roles: str, read_open: bool = True) -> type[HasRole]:
    """A permission class letting `roles` write (and everyone read when `read_open`)."""
    return type(
        "HasRole_" + "_".join(roles),
        (HasRole,),
        {"roles": roles, "read_open": read_open},
    )
