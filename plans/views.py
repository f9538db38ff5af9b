"""Plan pages: the list, one plan, and the Forum overview."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hazards.classes import HazardType
from plans import selectors
from plans.models import Action, Plan, Sector
from plans.serializers import PlanFilterSerializer
from schools.models import RiskClass, School


@login_required
def plan_list_page(request: HttpRequest) -> HttpResponse:
    """Plans with readiness, filtered by status, hazard, province and overdue."""
    query = {k: v for k, v in request.GET.items() if v != ""}
    form = PlanFilterSerializer(data=query)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.validated_data.items() if v not in (None, "")}
    plans = selectors.percent_done(list(selectors.plan_list(filters=filters)))
    return render(
        request,
        "plans/plan_list.html",
        {
            "plans": plans,
            "query": query,
            "errors": form.errors if not form.is_valid() else {},
            "statuses": Plan.Status.choices,
            "hazards": HazardType.choices,
        },
        status=200 if form.is_valid() else 400,
    )


@login_required
def plan_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One plan: readiness, actions, status log, activations, schools by risk."""
    try:
        plan = Plan.objects.select_related("lead", "co_lead").get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404("No such plan.") from None
    schools = Paginator(selectors.plan_schools(plan), 50).get_page(
        request.GET.get("page")
    )
    actions = plan.actions.select_related("organization").prefetch_related("areas")
    overdue_ids = set(
        plan.actions.filter(selectors.overdue_q()).values_list("pk", flat=True)
    )
    return render(
        request,
        "plans/plan.html",
        {
            "plan": plan,
            "readiness": selectors.readiness(plan),
            "actions": actions,
            "overdue_ids": overdue_ids,
            "transitions": plan.transitions.select_related("by"),
            "activations": plan.activations.all(),
            "coverage": plan.coverage.order_by("code"),
            "schools": schools,
            "gaps": selectors.coverage_gap_count(plan),
            "measurable": plan.measurable.select_related("met_layer"),
            "hazard_labels": [
                HazardType(h).label for h in plan.hazard_types if h in HazardType.values
            ],
            "sector_labels": [
                Sector(x).label for x in plan.sectors if x in Sector.values
            ],
        },
    )


@login_required
def forum_overview(request: HttpRequest) -> HttpResponse:
    """Active plans and their readiness, overdue actions by organization, and the
    high-risk schools that no active plan covers."""
    live = [Plan.Status.ACTIVE, Plan.Status.ACTIVATED]
    plans = selectors.percent_done(
        list(selectors.plan_list(filters={}).filter(status__in=live))
    )
    overdue = (
        Action.objects.filter(selectors.overdue_q(), plan__status__in=live)
        .values("organization__acronym", "organization__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "organization__name")
    )
    covered = Q(pk__in=[])
    for plan in plans:
        covered |= selectors.coverage_q(plan)
    uncovered = (
        School.objects.filter(
            status=School.Status.OPEN, risk__risk_class__gte=RiskClass.HIGH
        )
        .exclude(covered)
        .select_related("risk")
        .order_by("-risk__score", "code")
    )
    return render(
        request,
        "plans/overview.html",
        {
            "plans": plans,
            "overdue": overdue,
            "uncovered": uncovered[:100],
            "uncovered_count": uncovered.count(),
        },
    )
