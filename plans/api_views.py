"""API of plans: list/create, read/update, transitions, actions, schools in coverage.

Reads need a signed-in account (plans are the Forum's working documents);
coordinators write; an organization's members update its actions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from plans import selectors, services
from plans.models import Action, Plan
from plans.serializers import (
    ActionInputSerializer,
    ActionSerializer,
    ActionUpdateSerializer,
    ActivationSerializer,
    PlanDetailSerializer,
    PlanFilterSerializer,
    PlanInputSerializer,
    PlanSerializer,
    PlanUpdateSerializer,
    TransitionInputSerializer,
    TransitionSerializer,
    TriggerSerializer,
)
from preparedness.api import PageNumberPagination
from preparedness.serializers import validated_query

TAGS = ["plans"]


def _plan(pk: int) -> Plan:
    try:
        return Plan.objects.select_related("lead", "co_lead").get(pk=pk)
    except Plan.DoesNotExist:
        raise Http404("No such plan.") from None


def _detail(plan: Plan) -> dict[str, Any]:
    return {
        **PlanSerializer(plan).data,
        "readiness": selectors.readiness(plan),
        "actions": ActionSerializer(
            plan.actions.select_related("organization").prefetch_related(
                "areas", "schools"
            ),
            many=True,
        ).data,
        "transitions": TransitionSerializer(
            plan.transitions.select_related("by"), many=True
        ).data,
        "activations": ActivationSerializer(
            plan.activations.prefetch_related("areas"), many=True
        ).data,
        "measurable_triggers": TriggerSerializer(plan.measurable.all(), many=True).data,
    }


class PlanListView(generics.ListAPIView):
    """Plans with readiness (actions done, overdue, blocked); coordinators POST."""

    serializer_class = PlanSerializer
    pagination_class = PageNumberPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Plan]:
        return selectors.plan_list(
            filters=validated_query(self.request, PlanFilterSerializer)
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        rows = []
        for plan in page:
            row = dict(PlanSerializer(plan).data)
            total, done = plan.actions_total, plan.actions_done  # type: ignore[attr-defined]
            row["readiness"] = {
                "total": total,
                "done": done,
                "overdue": plan.actions_overdue,  # type: ignore[attr-defined]
                "blocked": plan.actions_blocked,  # type: ignore[attr-defined]
                "share_done": selectors.share_done(done, total),
            }
            rows.append(row)
        return self.get_paginated_response(rows)

    @extend_schema(tags=TAGS, parameters=[PlanFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request)

    @extend_schema(
        tags=TAGS, request=PlanInputSerializer, responses={201: PlanSerializer}
    )
    def post(self, request: Request) -> Response:
        serializer = PlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.plan_create(by=request.user, data=serializer.validated_data)
        return Response(_detail(plan), status=status.HTTP_201_CREATED)


class PlanDetailView(APIView):
    """One plan with readiness, actions, transitions and activations; PATCH with
    the `version` you read (409 if it changed)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses=PlanDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(_plan(pk)))

    @extend_schema(
        tags=TAGS, request=PlanUpdateSerializer, responses=PlanDetailSerializer
    )
    def patch(self, request: Request, pk: int) -> Response:
        _plan(pk)
        serializer = PlanUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        plan = services.plan_update(
            by=request.user, plan_id=pk, version=version, data=data
        )
        return Response(_detail(plan))


class PlanTransitionView(APIView):
    """Change a plan's status: draft -> active, active -> activated or closed,
    activated -> active or closed; `why` is required; activating snapshots the
    schools of the affected areas (default: the coverage) with their risk."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        request=TransitionInputSerializer,
        responses=PlanDetailSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        _plan(pk)
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.plan_transition(
            by=request.user,
            plan_id=pk,
            to=data["to"],
            why=data["why"],
            trigger=data.get("trigger", ""),
            areas=data.get("areas"),
        )
        return Response(_detail(plan))


class ActionListView(APIView):
    """A plan's actions; coordinators POST new ones."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(tags=TAGS, responses=ActionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        plan = _plan(pk)
        actions = plan.actions.select_related("organization").prefetch_related(
            "areas", "schools"
        )
        return Response(ActionSerializer(actions, many=True).data)

    @extend_schema(
        tags=TAGS, request=ActionInputSerializer, responses={201: ActionSerializer}
    )
    def post(self, request: Request, pk: int) -> Response:
        _plan(pk)
        serializer = ActionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action = services.action_create(
            by=request.user, plan_id=pk, data=serializer.validated_data
        )
        return Response(ActionSerializer(action).data, status=status.HTTP_201_CREATED)


class ActionDetailView(APIView):
    """PATCH an action with the `version` you read: coordinators any field,
    members of its organization status, progress and focal person."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS, request=ActionUpdateSerializer, responses=ActionSerializer
    )
    def patch(self, request: Request, pk: int, action_id: int) -> Response:
        if not Action.objects.filter(pk=action_id, plan_id=pk).exists():
            raise Http404("No such action in this plan.")
        serializer = ActionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        action = services.action_update(
            by=request.user, action_id=action_id, version=version, data=data
        )
        return Response(ActionSerializer(action).data)


class PlanSchoolSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_en = serializers.CharField()
    name_km = serializers.CharField()
    commune = serializers.CharField(help_text="The commune's code.")
    learners = serializers.IntegerField()
    risk_score = serializers.FloatField(allow_null=True)
    risk_class = serializers.IntegerField(allow_null=True, min_value=1, max_value=5)
    named_by_an_action = serializers.BooleanField()
    coverage_gap = serializers.BooleanField(
        help_text="High or very high risk, and no action of the plan names it."
    )


class PlanSchoolsView(APIView):
    """Schools in the plan's coverage ranked by risk; `coverage_gap` marks the
    high- and very-high-risk schools that no action of the plan names."""

    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination  # documents the page (get() pages)

    @extend_schema(tags=TAGS, responses=PlanSchoolSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        plan = _plan(pk)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.plan_schools(plan), request, view=self
        )
        rows = [
            {
                "code": s.code,
                "name_en": s.name_en,
                "name_km": s.name_km,
                "commune": s.commune_id,
                "learners": s.enrolment_girls + s.enrolment_boys,
                "risk_score": getattr(getattr(s, "risk", None), "score", None),
                "risk_class": getattr(getattr(s, "risk", None), "risk_class", None),
                "named_by_an_action": s.named,  # type: ignore[attr-defined]
                "coverage_gap": s.coverage_gap,  # type: ignore[attr-defined]
            }
            for s in page or []
        ]
        return paginator.get_paginated_response(rows)
