"""Plan pages: the list, one plan, the Forum overview, and the forms that
create and edit plans and actions (through `plans.services`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from hazards.classes import HazardType
from plans import selectors, services
from plans.forms import (
    ActionForm,
    PlanForm,
    TransitionForm,
    forum_members,
    put_errors,
)
from plans.models import Action, Plan, Sector
from plans.serializers import PlanFilterSerializer
from preparedness.access import access_for
from preparedness.errors import Conflict
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
            "may_manage": services.may_manage_plans(request.user),
            "organizations": forum_members(),
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
            "may_manage": services.may_manage_plans(request.user),
            "my_organization": access_for(request.user).organization_id,
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


# ---------------------------------------------------------------- forms


def _render_form(
    request: HttpRequest, form: Any, title: str, back: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "plans/form.html",
        {"form": form, "title": title, "back": back},
        status=400 if form.errors else status,
    )


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    """Create a draft plan (coordinators)."""
    if not services.may_manage_plans(request.user):
        raise PermissionDenied(_("Only Forum coordinators manage plans."))
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(by=request.user, data=form.service_data())
        except ValidationError as error:
            put_errors(form, error)
        else:
            messages.success(request, _("Plan created as a draft."))
            return redirect("plan-page", pk=plan.pk)
    return _render_form(request, form, _("New plan"), reverse("plan-list"))


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a plan; a save over someone else's newer save is refused."""
    if not services.may_manage_plans(request.user):
        raise PermissionDenied(_("Only Forum coordinators manage plans."))
    plan = get_object_or_404(Plan, pk=pk)
    initial = PlanForm.initial_for(plan)
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            # The service records only what differs from the saved plan.
            services.plan_update(
                by=request.user,
                plan_id=pk,
                version=form.cleaned_data.get("version"),
                data=form.service_data(),
            )
        except ValidationError as error:
            put_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict))
        else:
            messages.success(request, _("Plan saved."))
            return redirect("plan-page", pk=pk)
    return _render_form(request, form, plan.title, reverse("plan-page", args=[pk]))


@login_required
def plan_transition_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a plan's status, saying why (activating snapshots the schools)."""
    if not services.may_manage_plans(request.user):
        raise PermissionDenied(_("Only Forum coordinators manage plans."))
    plan = get_object_or_404(Plan, pk=pk)
    form = TransitionForm(request.POST or None)
    allowed = Plan.TRANSITIONS[Plan.Status(plan.status)]
    form.fields["to"].choices = [(s.value, s.label) for s in allowed]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_transition(
                by=request.user,
                plan_id=pk,
                to=form.cleaned_data["to"],
                why=form.cleaned_data["why"],
                trigger=form.cleaned_data["trigger"],
            )
        except ValidationError as error:
            put_errors(form, error)
        else:
            messages.success(request, _("Plan status changed."))
            return redirect("plan-page", pk=pk)
    title = _("Change the status of %(plan)s") % {"plan": plan.title}
    return _render_form(request, form, title, reverse("plan-page", args=[pk]))


@login_required
def action_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an action to a plan (coordinators)."""
    if not services.may_manage_plans(request.user):
        raise PermissionDenied(_("Only Forum coordinators manage plans."))
    plan = get_object_or_404(Plan, pk=pk)
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_create(
                by=request.user, plan_id=pk, data=form.service_data()
            )
        except ValidationError as error:
            put_errors(form, error)
        else:
            messages.success(request, _("Action added."))
            return redirect("plan-page", pk=pk)
    title = _("New action for %(plan)s") % {"plan": plan.title}
    return _render_form(request, form, title, reverse("plan-page", args=[pk]))


@login_required
def action_edit(request: HttpRequest, pk: int, action_id: int) -> HttpResponse:
    """Coordinators edit any field; the action's organization its status,
    progress notes and focal person."""
    action = get_object_or_404(Action, pk=action_id, plan_id=pk)
    if not services.may_update_action(request.user, action):
        raise PermissionDenied(
            _("Only coordinators and the action's organization update it.")
        )
    member_only = not services.may_manage_plans(request.user)
    initial = ActionForm.initial_for(action)
    form = ActionForm(request.POST or None, initial=initial, member_only=member_only)
    if request.method == "POST" and form.is_valid():
        try:
            services.action_update(
                by=request.user,
                action_id=action_id,
                version=form.cleaned_data.get("version"),
                data=form.service_data(initial),
            )
        except ValidationError as error:
            put_errors(form, error)
        except Conflict as conflict:
            form.add_error(None, str(conflict))
        else:
            messages.success(request, _("Action saved."))
            return redirect("plan-page", pk=pk)
    return _render_form(request, form, action.title, reverse("plan-page", args=[pk]))
