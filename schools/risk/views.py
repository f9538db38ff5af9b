"""The priority list page: which schools to act on first, and why."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from hazards.classes import HazardType
from schools.models import RiskClass
from schools.risk import selectors
from schools.risk.serializers import PriorityFilterSerializer
from schools.risk.settings import risk_settings


def priorities_page(request: HttpRequest) -> HttpResponse:
    """Schools ranked by risk with the three dimensions that explain each rank."""
    query: dict[str, str] = {
        k: str(v) for k, v in request.GET.items() if v != "" and k != "page"
    }
    form = PriorityFilterSerializer(data=query)
    errors: dict[str, Any] = {}
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.validated_data.items() if v not in (None, "")}
    else:
        errors = form.errors
    schools = selectors.priority_list(filters=filters)
    page = Paginator(schools, 50).get_page(request.GET.get("page"))
    settings = risk_settings()
    visible = set()
    if page.object_list:
        visible = selectors.sensitive_visible(
            request.user, selectors.sensitive_codes(page.object_list)
        )
    rows = [
        (
            page.start_index() + i,
            school,
            selectors.priority_properties(
                school, visible, settings.focal_point_km, user=request.user
            ),
        )
        for i, school in enumerate(page.object_list)
    ]
    encoded = urlencode(query)
    class_options = [
        (selectors.RISK_CLASS_CODES[value], label) for value, label in RiskClass.choices
    ] + [("high,very_high", _("High or very high"))]
    return render(
        request,
        "risk/priorities.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "encoded": encoded,
            "errors": errors,
            "class_options": class_options,
            "hazard_types": HazardType.choices,
            "settings": settings,
        },
        status=400 if errors else 200,
    )
