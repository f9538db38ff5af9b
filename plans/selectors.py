"""Reads of plans: lists with readiness, a plan's schools ranked by risk, gaps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from plans.models import Action, Plan
from schools.models import RiskClass, School


def overdue_q(prefix: str = "") -> Q:
    """Actions past their due date and not done."""
    return Q(**{f"{prefix}due_on__lt": timezone.localdate()}) & ~Q(
        **{f"{prefix}status": Action.Status.DONE}
    )


def plan_list(*, filters: Mapping[str, Any]) -> QuerySet[Plan]:
    """Plans with their readiness counts, filtered (status, hazard, organization,
    province, overdue)."""
    qs = Plan.objects.select_related("lead", "co_lead").annotate(
        actions_total=Count("actions", distinct=True),
        actions_done=Count(
            "actions", filter=Q(actions__status=Action.Status.DONE), distinct=True
        ),
        actions_overdue=Count("actions", filter=overdue_q("actions__"), distinct=True),
        actions_blocked=Count(
            "actions", filter=Q(actions__status=Action.Status.BLOCKED), distinct=True
        ),
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("hazard"):
        qs = qs.filter(hazard_types__contains=[filters["hazard"]])
    if filters.get("organization"):
        org = filters["organization"]
        qs = qs.filter(
            Q(lead_id=org)
            | Q(co_lead_id=org)
            | Exists(Action.objects.filter(plan=OuterRef("pk"), organization_id=org))
        )
    if filters.get("province"):
        # A plan covering the province, or any district or commune in it.
        qs = qs.filter(coverage__code__startswith=filters["province"]).distinct()
    if filters.get("overdue"):
        qs = qs.filter(Exists(Action.objects.filter(overdue_q(), plan=OuterRef("pk"))))
    return qs.order_by("-starts_on", "title")


def readiness(plan: Plan) -> dict[str, Any]:
    """Share of actions done and the overdue and blocked counts."""
    counts = plan.actions.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=Action.Status.DONE)),
        overdue=Count("pk", filter=overdue_q()),
        blocked=Count("pk", filter=Q(status=Action.Status.BLOCKED)),
    )
    counts["share_done"] = share_done(counts["done"], counts["total"])
    return counts


def share_done(done: int, total: int) -> float | None:
    """Share of a plan's actions done (0-1, four decimals); None without actions."""
    return round(done / total, 4) if total else None


def percent_done(plans: list[Plan]) -> list[Plan]:
    """Set `percent_done` (0-100) on plans annotated by `plan_list`, for pages."""
    for plan in plans:
        share = share_done(plan.actions_done, plan.actions_total)  # type: ignore[attr-defined]
        plan.percent_done = None if share is None else round(100 * share)  # type: ignore[attr-defined]
    return plans


def coverage_q(plan: Plan) -> Q:
    q = Q(pk__in=[])
    for code in plan.coverage.values_list("code", flat=True):
        q |= Q(commune__code__startswith=code)
    return q


def plan_schools(plan: Plan) -> QuerySet[School]:
    """Open schools in the plan's coverage, riskiest first, each flagged
    `named` when an action of the plan names it and `coverage_gap` when it is at
    high or very high risk and no action names it."""
    named = Exists(
        Action.schools.through.objects.filter(
            action__plan=plan, school_id=OuterRef("pk")
        )
    )
    return (
        School.objects.filter(coverage_q(plan), status=School.Status.OPEN)
        .select_related("risk", "safety")
        .annotate(named=named)
        .annotate(coverage_gap=Q(risk__risk_class__gte=RiskClass.HIGH) & ~Q(named=True))
        .order_by("-risk__score", "code")
    )


def coverage_gap_count(plan: Plan) -> int:
    """High- and very-high-risk schools of the coverage that no action names."""
    named = Action.schools.through.objects.filter(
        action__plan=plan, school_id=OuterRef("pk")
    )
    return (
        School.objects.filter(
            coverage_q(plan),
            status=School.Status.OPEN,
            risk__risk_class__gte=RiskClass.HIGH,
        )
        .exclude(Exists(named))
        .count()
    )
