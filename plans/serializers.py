"""API shapes of plans, actions and activations."""

from typing import Any

from rest_framework import serializers

from hazards.classes import HazardType
from plans.models import Action, Activation, Plan, Sector, Transition, Trigger
from preparedness.serializers import area_code_field


class PlanFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Plan.Status.choices, required=False)
    hazard = serializers.ChoiceField(choices=HazardType.choices, required=False)
    organization = serializers.IntegerField(required=False, min_value=1)
    province = area_code_field(2, help_text="Province code, e.g. 07.")
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


class TriggerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Trigger.Kind.choices)
    min_wind_kt = serializers.FloatField(required=False, allow_null=True)
    distance_km = serializers.FloatField(required=False, allow_null=True)
    min_class = serializers.IntegerField(required=False, allow_null=True)
    min_schools = serializers.IntegerField(required=False, allow_null=True)
    met = serializers.BooleanField(read_only=True)
    met_layer = serializers.IntegerField(source="met_layer_id", read_only=True)
    met_at = serializers.DateTimeField(read_only=True)
    schools = serializers.JSONField(read_only=True)


class PlanInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    hazard_types = serializers.ListField(
        child=serializers.ChoiceField(choices=HazardType.choices), allow_empty=False
    )
    season = serializers.CharField(max_length=100, required=False, allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    lead = serializers.IntegerField(min_value=1, help_text="Organization id.")
    co_lead = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    sectors = serializers.ListField(
        child=serializers.ChoiceField(choices=Sector.choices), required=False
    )
    coverage = serializers.ListField(
        child=serializers.CharField(max_length=8),
        allow_empty=False,
        help_text="Administrative area codes (provinces, districts or communes).",
    )
    triggers = serializers.CharField(required=False, allow_blank=True)
    review_on = serializers.DateField(required=False, allow_null=True)
    documents = serializers.ListField(child=serializers.URLField(), required=False)
    measurable_triggers = TriggerSerializer(
        many=True,
        required=False,
        help_text="storm: min_wind_kt and distance_km; flood: min_class and "
        "min_schools. Checked after every hazard layer change.",
    )


class PlanUpdateSerializer(PlanInputSerializer):
    version = serializers.IntegerField(min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False


class TransitionInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Plan.Status.choices)
    why = serializers.CharField(max_length=2000)
    trigger = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    areas = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False
    )


class ActionInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    sector = serializers.ChoiceField(choices=Sector.choices)
    organization = serializers.IntegerField(min_value=1)
    focal_person = serializers.CharField(
        max_length=150, required=False, allow_blank=True
    )
    due_on = serializers.DateField()
    status = serializers.ChoiceField(choices=Action.Status.choices, required=False)
    progress = serializers.CharField(required=False, allow_blank=True)
    areas = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False
    )
    schools = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False
    )


class ActionUpdateSerializer(ActionInputSerializer):
    version = serializers.IntegerField(min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False


class ActionSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.__str__", read_only=True
    )
    areas: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    schools: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = (
            "id",
            "title",
            "sector",
            "organization",
            "organization_name",
            "focal_person",
            "due_on",
            "status",
            "overdue",
            "progress",
            "areas",
            "schools",
            "version",
            "updated_at",
        )
        read_only_fields = fields

    def get_overdue(self, action: Action) -> bool:
        from django.utils import timezone

        return (
            action.status != Action.Status.DONE and action.due_on < timezone.localdate()
        )


class TransitionSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.get_username", read_only=True, default=None)

    class Meta:
        model = Transition
        fields = ("from_status", "to_status", "by", "at", "why")
        read_only_fields = fields


class ActivationSerializer(serializers.ModelSerializer):
    areas: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Activation
        fields = ("id", "trigger", "activated_on", "areas", "schools", "created_at")
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    lead_name = serializers.CharField(source="lead.__str__", read_only=True)
    coverage: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Plan
        fields: tuple[str, ...] = (
            "id",
            "title",
            "status",
            "hazard_types",
            "season",
            "starts_on",
            "ends_on",
            "lead",
            "lead_name",
            "co_lead",
            "sectors",
            "coverage",
            "triggers",
            "review_on",
            "documents",
            "version",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields


class PlanDetailSerializer(PlanSerializer):
    """The plan detail's shape (the API schema): the plan with what it holds."""

    readiness = serializers.DictField(read_only=True)
    actions = ActionSerializer(many=True, read_only=True)
    transitions = TransitionSerializer(many=True, read_only=True)
    activations = ActivationSerializer(many=True, read_only=True)
    measurable_triggers = TriggerSerializer(many=True, read_only=True)

    class Meta(PlanSerializer.Meta):
        fields = (
            *PlanSerializer.Meta.fields,
            "readiness",
            "actions",
            "transitions",
            "activations",
            "measurable_triggers",
        )
        read_only_fields = fields
