"""Core pages and API views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions as api_exceptions
from rest_framework import generics
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from preparedness import ratelimit
from preparedness.access import access_for
from preparedness.forms import AccountForm
from preparedness.models import AdminArea, Membership
from preparedness.serializers import (
    AdminAreaFeatureSerializer,
    AdminAreaFilterSerializer,
    AdminAreaSerializer,
    validated_query,
)
from preparedness.services import user_create, user_update
from preparedness.text import search_key

Role = Membership.Role

# URLs answered in the API's error shape even when no URL pattern matches.
API_PREFIXES = ("/api/", "/tiles/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 as `{"detail": [message]}` for API URLs (`/api/plans/x/`), else the page."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": [_("Not found.")]}, status=404)
    return defaults.page_not_found(request, exception)


# Accounts: administrators manage users on the app's own pages.


def administrator_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Anonymous users go to the sign-in page; signed-in non-administrators get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if access_for(request.user).role != Role.ADMINISTRATOR:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@administrator_required
def user_list(request: HttpRequest) -> HttpResponse:
    """Accounts with their role, organization, areas and active flag, 100 a page."""
    users = (
        get_user_model()
        .objects.select_related("membership__organization")
        .prefetch_related(
            Prefetch(
                "membership__areas",
                queryset=AdminArea.objects.only("id", "code").order_by("code"),
            )
        )
        .order_by("username")
    )
    page = Paginator(users, 100).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page})


@administrator_required
def user_new(request: HttpRequest) -> HttpResponse:
    """Create an account; the new user is emailed a link to set a password."""
    form = AccountForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                organization=data["organization"],
                areas=data["areas"],
                is_active=data["is_active"],
                by=request.user,
                domain=request.get_host(),
                use_https=request.is_secure(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Account %(username)s created; a password-set email was sent.")
                % {"username": user.get_username()},
            )
            return redirect("user-list")
    return render(request, "accounts/user_form.html", {"form": form, "account": None})


@administrator_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an account's details, role, organization, areas and active flag."""
    account = get_object_or_404(get_user_model(), pk=pk)
    if account.is_superuser and not request.user.is_superuser:
        raise PermissionDenied
    form = AccountForm(request.POST or None, instance=account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user_update(
                user=account,
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                organization=data["organization"],
                areas=data["areas"],
                is_active=data["is_active"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Account %(username)s saved.") % {"username": account.get_username()},
            )
            return redirect("user-list")
    return render(
        request, "accounts/user_form.html", {"form": form, "account": account}
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """`{"status", "database", "postgis"}`: 200 when the database answers and
    PostGIS works, 503 otherwise (for load balancers and monitoring)."""
    body: dict[str, str | None] = {"status": "ok", "database": "ok", "postgis": None}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # the point of a health check is to report any failure
        body.update(status="error", database="unreachable")
        return JsonResponse(body, status=503)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT postgis_lib_version(), ST_AsText(ST_Transform("
                "ST_SetSRID(ST_Point(104.9, 11.55), 4326), 32648))"
            )
            body["postgis"] = cursor.fetchone()[0]
    except Exception:
        body.update(status="error", postgis="not working")
        return JsonResponse(body, status=503)
    return JsonResponse(body)


@extend_schema(tags=["auth"])
class ObtainTokenView(ObtainAuthToken):
    """POST username and password; returns `{"token": ...}` for scripts.

    Paused like the sign-in page after too many failures (429)."""

    extra_error_codes = ("429",)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A JSON list or string is no form: AuthTokenSerializer refuses it (400).
        data = request.data if isinstance(request.data, dict) else {}
        username = str(data.get("username") or "")
        address = ratelimit.client_address(request)
        if ratelimit.sign_in_paused(username, address):
            raise Throttled(
                wait=ratelimit.minutes() * 60,
                detail=_("Too many failed sign-ins. Try again later."),
            )
        try:
            response = super().post(request, *args, **kwargs)
        except api_exceptions.ValidationError:
            ratelimit.sign_in_failed(username, address)
            raise
        ratelimit.sign_in_succeeded(username, address)
        return response


# API: administrative areas

ADMIN_AREA_LIST_FIELDS = (
    "code",
    "level",
    "kind",
    "name_en",
    "name_km",
    "parent__code",
    "valid_from",
    "valid_to",
    "centroid",
)


@extend_schema_view(
    get=extend_schema(tags=["admin areas"], parameters=[AdminAreaFilterSerializer])
)
class AdminAreaListView(generics.ListAPIView):
    """Provinces, districts and communes without their boundaries, ordered by code."""

    serializer_class = AdminAreaSerializer

    def get_queryset(self) -> QuerySet[AdminArea]:
        # TODO: call preparedness.selectors.area_list once it lands.
        filters = validated_query(self.request, AdminAreaFilterSerializer)
        queryset = AdminArea.objects.select_related("parent").only(
            *ADMIN_AREA_LIST_FIELDS
        )
        if filters.get("level"):
            queryset = queryset.filter(level=filters["level"])
        if filters.get("parent"):
            queryset = queryset.filter(parent__code=filters["parent"])
        key = search_key(filters.get("q"))
        if key:
            queryset = queryset.filter(name_key__contains=key)
        return queryset.order_by("code")


@extend_schema_view(get=extend_schema(tags=["admin areas"]))
class AdminAreaDetailView(generics.RetrieveAPIView):
    """One area as a GeoJSON Feature with its boundary (EPSG:4326)."""

    serializer_class = AdminAreaFeatureSerializer
    queryset = AdminArea.objects.select_related("parent")
    lookup_field = "code"
