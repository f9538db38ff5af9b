"""Reads of the core."""

from django.db.models import Q, QuerySet

from preparedness.models import AdminArea
from preparedness.text import search_key

# Administrative areas


def area_list(
    *,
    level: str | None = None,
    parent: str | None = None,
    q: str | None = None,
    include_retired: bool = False,
) -> QuerySet[AdminArea]:
    """Current areas by code, without boundaries; `q` matches names or a code prefix."""
    areas = AdminArea.objects.select_related("parent").defer(
        "boundary", "parent__boundary"
    )
    if not include_retired:
        areas = areas.filter(valid_to__isnull=True)
    if level:
        areas = areas.filter(level=level)
    if parent:
        areas = areas.filter(parent__code=parent)
    key = search_key(q)
    if key:
        areas = areas.filter(Q(name_key__contains=key) | Q(code__startswith=key))
    return areas.order_by("code")


def area_get(*, code: str) -> AdminArea:
    """One area by code, with its boundary; raises AdminArea.DoesNotExist."""
    return AdminArea.objects.select_related("parent").get(code=code)
