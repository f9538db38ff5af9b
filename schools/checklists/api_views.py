"""API of checklists: frameworks, assessments, submit/verify, evidence, history.

Thin adapters: validation of shapes here, every rule in `services`. A stale
`version` answers 409, an unknown item or bad answer 400 naming the item code.
"""

from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from preparedness.api import PageNumberPagination
from preparedness.serializers import validated_query
from schools.checklists import selectors, services
from schools.checklists.serializers import (
    AssessmentCreateSerializer,
    AssessmentDetailSerializer,
    AssessmentFilterSerializer,
    AssessmentSerializer,
    AssessmentUpdateSerializer,
    AuditEntrySerializer,
    EvidenceUploadSerializer,
    FrameworkDetailSerializer,
    FrameworkSerializer,
    VersionSerializer,
)
from schools.models import Answer, Assessment, ChecklistItem, SafetyFramework, School

TAGS = ["checklists"]
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Assessment id.")


def _detail(assessment: Assessment) -> dict[str, Any]:
    context = {
        "answers": selectors.assessment_answers(assessment),
        "comments": selectors.assessment_comments(assessment),
    }
    return AssessmentDetailSerializer(assessment, context=context).data


@extend_schema_view(get=extend_schema(tags=TAGS))
class FrameworkListView(generics.ListAPIView):
    """Versions of the school safety framework, newest first (public)."""

    serializer_class = FrameworkSerializer
    queryset = SafetyFramework.objects.order_by("-published_on", "-id")


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("version", str, OpenApiParameter.PATH)],
    )
)
class FrameworkDetailView(generics.RetrieveAPIView):
    """One framework version: areas, items, answer types and scoring rules (public)."""

    serializer_class = FrameworkDetailSerializer

    def get_object(self) -> SafetyFramework:
        framework = selectors.framework_get(self.kwargs["version"])
        # Items read their rules from the framework's document: no query each.
        prefetch_related_objects(
            [framework],
            "areas",
            Prefetch(
                "items", ChecklistItem.objects.select_related("area", "framework")
            ),
        )
        return framework


@extend_schema_view(
    get=extend_schema(tags=TAGS, parameters=[AssessmentFilterSerializer]),
    post=extend_schema(
        tags=TAGS,
        request=AssessmentCreateSerializer,
        responses={201: AssessmentDetailSerializer},
    ),
)
class AssessmentListView(generics.ListAPIView):
    """Assessments in your scope (officials: their areas); POST adds one."""

    serializer_class = AssessmentSerializer
    pagination_class = PageNumberPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> QuerySet[Assessment]:
        filters = validated_query(self.request, AssessmentFilterSerializer)
        qs = selectors.assessment_list(user=self.request.user)
        if filters.get("school"):
            qs = qs.filter(school__code=filters["school"])
        if filters.get("status"):
            qs = qs.filter(status=filters["status"])
        return qs

    def post(self, request: Request) -> Response:
        serializer = AssessmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        school = School.objects.filter(code=data["school"]).first()
        if school is None:
            return Response({"school": ["No school has this code."]}, status=400)
        framework = None
        if data.get("framework"):
            framework = SafetyFramework.objects.filter(
                version=data["framework"]
            ).first()
            if framework is None:
                return Response(
                    {"framework": ["No such framework version."]}, status=400
                )
        assessment = services.assessment_create(
            school=school,
            by=request.user,
            framework=framework,
            assessed_on=data.get("assessed_on"),
            answers=data.get("answers"),
            comments=data.get("comments"),
            notes=data.get("notes", ""),
            source=Assessment.Source.API,
            submit=data["submit"],
        )
        return Response(_detail(assessment), status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(tags=TAGS, parameters=[ID], responses=AssessmentDetailSerializer),
    patch=extend_schema(
        tags=TAGS,
        parameters=[ID],
        request=AssessmentUpdateSerializer,
        responses={200: AssessmentDetailSerializer, 409: None},
    ),
)
class AssessmentDetailView(APIView):
    """One assessment with its answers; PATCH with the `version` you read."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(selectors.assessment_get(user=request.user, pk=pk)))

    def patch(self, request: Request, pk: int) -> Response:
        assessment = selectors.assessment_get(user=request.user, pk=pk)
        serializer = AssessmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assessment = services.assessment_update(
            assessment_id=assessment.pk,
            by=request.user,
            version=data["version"],
            answers=data.get("answers"),
            comments=data.get("comments"),
            notes=data.get("notes"),
            assessed_on=data.get("assessed_on"),
        )
        return Response(_detail(assessment))


class _TransitionView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    action = ""

    def post(self, request: Request, pk: int) -> Response:
        assessment = selectors.assessment_get(user=request.user, pk=pk)
        serializer = VersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = getattr(services, f"assessment_{self.action}")
        assessment = change(
            assessment_id=assessment.pk,
            by=request.user,
            version=serializer.validated_data["version"],
        )
        return Response(_detail(assessment))


@extend_schema_view(
    post=extend_schema(
        tags=TAGS,
        parameters=[ID],
        request=VersionSerializer,
        responses={200: AssessmentDetailSerializer, 409: None},
    )
)
class AssessmentSubmitView(_TransitionView):
    """Submit a draft once every item is answered (400 lists the missing items)."""

    action = "submit"


@extend_schema_view(
    post=extend_schema(
        tags=TAGS,
        parameters=[ID],
        request=VersionSerializer,
        responses={200: AssessmentDetailSerializer, 409: None},
    )
)
class AssessmentVerifyView(_TransitionView):
    """Verify a submitted assessment ; not by its assessor."""

    action = "verify"


@extend_schema_view(
    post=extend_schema(
        tags=TAGS,
        parameters=[ID, OpenApiParameter("code", str, OpenApiParameter.PATH)],
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: None},
    )
)
class EvidenceUploadView(APIView):
    """Attach a photo to the answer of one item (resized to 1280 px JPEG)."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request, pk: int, code: str) -> Response:
        assessment = selectors.assessment_get(user=request.user, pk=pk)
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = Answer.objects.filter(assessment=assessment, item__code=code).first()
        if answer is None:
            raise NotFound("Answer this item before adding a photo.")
        evidence = services.evidence_add(
            answer=answer, by=request.user, upload=serializer.validated_data["photo"]
        )
        return Response(
            {
                "item": code,
                "url": evidence.image.url,
                "width": evidence.width,
                "height": evidence.height,
                "bytes": evidence.size_bytes,
            },
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(get=extend_schema(tags=TAGS, parameters=[ID]))
class AssessmentHistoryView(generics.ListAPIView):
    """Who changed what in this assessment and when (answers, scores, status)."""

    serializer_class = AuditEntrySerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = PageNumberPagination

    def get_queryset(self) -> Any:
        assessment = selectors.assessment_get(
            user=self.request.user, pk=self.kwargs["pk"]
        )
        return selectors.assessment_history([assessment.pk])
