"""Reads of schools and services; each selector chooses the columns it loads."""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from hazards.models import HazardLayer
from preparedness.access import sensitive_scope_q
from preparedness.text import search_key
from schools.models import Exposure, School, Service

User = AbstractBaseUser | AnonymousUser | None
PlaceT = TypeVar("PlaceT", School, Service)

SCHOOL_LIST_FIELDS = (
    "code",
    "name_en",
    "name_km",
    "level",
    "enrolment_girls",
    "enrolment_boys",
    "learners_with_disabilities",
    "commune",
    "evacuation_centre",
    "status",
    "location",
    "hazard_level",
    "hazard_levels",
    # The current safety state (CSS score), one LEFT JOIN.
    "safety__score",
    "safety__grade",
    "safety__assessed_on",
    "safety__critical_gaps",
    "safety__verified",
)
SERVICE_LIST_FIELDS = (
    "code",
    "kind",
    "name_en",
    "name_km",
    "contact",
    "commune",
    "status",
    "location",
    "hazard_level",
    "hazard_levels",
)


def _place_filters(
    queryset: QuerySet[PlaceT], filters: Mapping[str, Any]
) -> QuerySet[PlaceT]:
    """Apply the filters schools and services share: area codes, status, name, bbox."""
    for key in ("province", "district", "commune"):
        if filters.get(key):
            queryset = queryset.filter(commune__code__startswith=filters[key])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    key = search_key(filters.get("q"))
    if key:
        queryset = queryset.filter(name_key__contains=key)
    if filters.get("bbox") is not None:
        # A point on the edge of the box counts as inside.
        queryset = queryset.filter(location__intersects=filters["bbox"])
    return queryset


def school_list(*, user: User, filters: Mapping[str, Any]) -> QuerySet[School]:
    """Schools matching `filters` (every school is public), ordered by code."""
    queryset = School.objects.select_related("safety").only(*SCHOOL_LIST_FIELDS)
    queryset = _place_filters(queryset, filters)
    if filters.get("level"):
        queryset = queryset.filter(level=filters["level"])
    if filters.get("evacuation_centre") is not None:
        queryset = queryset.filter(evacuation_centre=filters["evacuation_centre"])
    return queryset.order_by("code")


def school_get(*, code: str) -> School:
    """The school with this EMIS code; raises School.DoesNotExist."""
    return School.objects.select_related("safety").get(code=code)


def visible_services_q(user: User) -> Q:
    """Services this user may see: every ordinary one, sensitive ones only in scope."""
    return Q(sensitive=False) | (
        Q(sensitive=True) & sensitive_scope_q(user, "commune__code")
    )


def service_list(*, user: User, filters: Mapping[str, Any]) -> QuerySet[Service]:
    """Services matching `filters` that `user` may see, ordered by code.

    Sensitive services outside the user's reach are left out of the rows and the
    count alike, so their existence does not leak.
    """
    queryset = Service.objects.filter(visible_services_q(user)).only(
        *SERVICE_LIST_FIELDS
    )
    queryset = _place_filters(queryset, filters)
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    return queryset.order_by("code")


def service_get(*, user: User, code: str) -> Service:
    """The service with this code if `user` may see it; raises Service.DoesNotExist."""
    return Service.objects.filter(visible_services_q(user)).get(code=code)


EXPOSURE_LAYER_FIELDS = (
    "name",
    "hazard_type",
    "representation",
    "scenario",
    "event_date",
    "return_period",
    "valid_time",
    "units",
    "source",
)


def school_exposures(*, code: str) -> QuerySet[HazardLayer]:
    """Every active layer with the school's exposure on it, in one query.

    Annotates `intensity`, `hazard_class` (0 where the school has no row: not
    exposed), `distance_km` (track layers) and `computed_at` (when the row's
    values were computed; null without a row).
    """
    rows = Exposure.objects.filter(layer=OuterRef("pk"), school__code=code)
    return (
        HazardLayer.objects.filter(active=True)
        .only(*EXPOSURE_LAYER_FIELDS)
        .annotate(
            intensity=Subquery(rows.values("intensity")[:1]),
            hazard_class=Coalesce(Subquery(rows.values("hazard_class")[:1]), Value(0)),
            distance_km=Subquery(rows.values("distance_km")[:1]),
            computed_at=Subquery(rows.values("computed_at")[:1]),
        )
        .order_by("hazard_type", "name")
    )
