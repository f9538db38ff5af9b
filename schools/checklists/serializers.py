"""API shapes of frameworks and assessments (answers travel as {item code: answer})."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from schools.models import Assessment, ChecklistItem, FrameworkArea, SafetyFramework

ANSWER_SCHEMA = {
    "oneOf": [
        {"type": "string", "enum": ["yes", "partial", "no", "na"]},
        {"type": "number"},
    ]
}


@extend_schema_field({"type": "object", "additionalProperties": ANSWER_SCHEMA})
class AnswersField(serializers.DictField):
    """{item code: answer}: "yes", "partial", "no", "na" or a number; null clears."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)


class ChecklistItemSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.code", read_only=True)
    number = serializers.SerializerMethodField()
    critical_rule = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistItem
        fields = (
            "code",
            "area",
            "answer_type",
            "weight",
            "critical",
            "question_en",
            "question_km",
            "help_en",
            "help_km",
            "km_reviewed",
            "number",
            "critical_rule",
        )
        read_only_fields = fields

    def _raw(self, item: ChecklistItem) -> dict:
        for area in item.framework.document["areas"]:
            for raw in area["items"]:
                if raw["code"] == item.code:
                    return raw
        return {}

    @extend_schema_field({"type": "object", "nullable": True})
    def get_number(self, item: ChecklistItem) -> dict | None:
        return self._raw(item).get("number")

    @extend_schema_field({"type": "object", "nullable": True})
    def get_critical_rule(self, item: ChecklistItem) -> dict | None:
        return self._raw(item).get("critical")


class FrameworkAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkArea
        fields = ("code", "weight", "name_en", "name_km", "km_reviewed")
        read_only_fields = fields


class FrameworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = SafetyFramework
        fields: tuple[str, ...] = ("version", "title_en", "title_km", "published_on")
        read_only_fields: tuple[str, ...] = fields


class FrameworkDetailSerializer(FrameworkSerializer):
    areas = FrameworkAreaSerializer(many=True, read_only=True)
    items = ChecklistItemSerializer(many=True, read_only=True)
    grades = serializers.JSONField(source="document.grades", read_only=True)

    class Meta(FrameworkSerializer.Meta):
        fields = (*FrameworkSerializer.Meta.fields, "grades", "areas", "items")
        read_only_fields = fields


class AssessmentSerializer(serializers.ModelSerializer):
    """An assessment and its scores; `version` must be sent back with every change."""

    school = serializers.CharField(source="school.code", read_only=True)
    framework = serializers.CharField(source="framework.version", read_only=True)
    assessor = serializers.CharField(source="assessor_name", read_only=True)
    verified_by = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields: tuple[str, ...] = (
            "id",
            "school",
            "framework",
            "assessed_on",
            "status",
            "assessor",
            "source",
            "version",
            "score",
            "area_scores",
            "critical_gaps",
            "grade",
            "notes",
            "submitted_at",
            "verified_at",
            "verified_by",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_verified_by(self, assessment: Assessment) -> str | None:
        user = assessment.verified_by
        return user.get_username() if user else None


class AssessmentDetailSerializer(AssessmentSerializer):
    answers = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()

    class Meta(AssessmentSerializer.Meta):
        fields = (*AssessmentSerializer.Meta.fields, "answers", "comments")
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": ANSWER_SCHEMA})
    def get_answers(self, assessment: Assessment) -> dict:
        return self.context["answers"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_comments(self, assessment: Assessment) -> dict:
        return self.context["comments"]


class AssessmentCreateSerializer(serializers.Serializer):
    school = serializers.CharField(max_length=32, help_text="EMIS code of the school.")
    framework = serializers.CharField(
        max_length=32, required=False, help_text="Framework version (default: latest)."
    )
    assessed_on = serializers.DateField(required=False)
    answers = AnswersField(required=False)
    comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    submit = serializers.BooleanField(required=False, default=False)


class AssessmentUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; 409 if it changed since."
    )
    assessed_on = serializers.DateField(required=False)
    answers = AnswersField(required=False)
    comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000), required=False
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read; 409 if it changed since."
    )


class AssessmentFilterSerializer(serializers.Serializer):
    school = serializers.CharField(required=False, max_length=32)
    status = serializers.ChoiceField(choices=Assessment.Status.choices, required=False)


class EvidenceUploadSerializer(serializers.Serializer):
    photo = serializers.FileField(
        help_text="JPEG, PNG or WebP, up to 8 MB; resized to 1280 px."
    )


class AuditEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    who = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    assessment = serializers.CharField(source="subject_id")
    changes = serializers.JSONField()
