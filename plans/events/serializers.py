"""API shapes of emergency events and school status reports."""

from rest_framework import serializers

from hazards.classes import HazardType
from plans.models import Event, StatusReport


class EventInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    hazard_type = serializers.ChoiceField(choices=HazardType.choices)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    provinces = serializers.ListField(
        child=serializers.CharField(max_length=8),
        allow_empty=False,
        help_text="Codes of the affected provinces, e.g. ['08', '21'].",
    )
    activation = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Plan activation id."
    )


class EventUpdateSerializer(EventInputSerializer):
    def __init__(self, *args, **kwargs):  # every field optional in a PATCH
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class EventSerializer(serializers.ModelSerializer):
    provinces: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    plan = serializers.IntegerField(
        source="activation.plan_id", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Event
        fields: tuple[str, ...] = (
            "id",
            "name",
            "hazard_type",
            "starts_on",
            "ends_on",
            "provinces",
            "activation",
            "plan",
            "created_at",
        )


class ReportInputSerializer(serializers.Serializer):
    school = serializers.CharField(max_length=32, help_text="School code (EMIS).")
    reported_on = serializers.DateField(
        required=False, help_text="The day reported on (default today)."
    )
    status = serializers.ChoiceField(choices=StatusReport.Status.choices)
    flooded = serializers.BooleanField(required=False, default=False)
    damaged = serializers.BooleanField(required=False, default=False)
    shelter = serializers.BooleanField(
        required=False, default=False, help_text="Used as a shelter."
    )
    learners_affected = serializers.IntegerField(
        required=False, default=0, min_value=0, help_text="Learners out of school."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReportBatchSerializer(serializers.Serializer):
    reports = ReportInputSerializer(many=True, allow_empty=False)


class ReportSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="school.code")
    name_en = serializers.CharField(source="school.name_en")
    name_km = serializers.CharField(source="school.name_km")
    commune = serializers.CharField(source="school.commune_id")

    class Meta:
        model = StatusReport
        fields = (
            "school",
            "name_en",
            "name_km",
            "commune",
            "reported_on",
            "status",
            "flooded",
            "damaged",
            "shelter",
            "learners_affected",
            "note",
            "updated_at",
        )


class SitrepQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, help_text="The day (default: the latest report day)."
    )


class EventDetailSerializer(EventSerializer):
    """The event detail's shape (the API schema): the event and its sitrep."""

    sitrep = serializers.DictField(read_only=True)

    class Meta(EventSerializer.Meta):
        fields = (*EventSerializer.Meta.fields, "sitrep")
