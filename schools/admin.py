"""Django admin of schools and services, with their points on a map."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from preparedness.admin import NameKeySearchMixin
from schools.models import Assessment, RiskSettings, SafetyFramework, School, Service
from schools.risk.services import SETTING_FIELDS, check_settings, risk_settings_update
from schools.risk.settings import risk_settings


class PlaceAdmin(NameKeySearchMixin, LeafletGeoAdmin):
    """What the school and service admins share; plain ModelAdmin saves for now."""

    autocomplete_fields = ["commune"]
    search_fields = ["^code", "name_key__contains"]
    exclude = ["name_key"]
    # Computed from the hazard layers by the exposure engine, never typed in.
    readonly_fields = ["hazard_level", "hazard_levels", "created_at", "updated_at"]

    @admin.display(description=_("commune"), ordering="commune")
    def commune_code(self, obj) -> str:
        # The code is the foreign key's value: no join to the (heavy) area row.
        return obj.commune_id


@admin.register(School)
class SchoolAdmin(PlaceAdmin):
    list_display = [
        "code",
        "name_en",
        "name_km",
        "level",
        "commune_code",
        "status",
        "evacuation_centre",
        "hazard_level",
    ]
    list_filter = ["level", "status", "evacuation_centre", "hazard_level"]


@admin.register(Service)
class ServiceAdmin(PlaceAdmin):
    list_display = [
        "code",
        "name_en",
        "name_km",
        "kind",
        "commune_code",
        "status",
        "sensitive",
        "hazard_level",
    ]
    list_filter = ["kind", "status", "sensitive", "hazard_level"]


class RiskSettingsForm(forms.ModelForm):
    class Meta:
        model = RiskSettings
        fields = list(SETTING_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        current = {f: getattr(self.instance, f) for f in SETTING_FIELDS}
        try:
            check_settings({**current, **cleaned})
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(RiskSettings)
class RiskSettingsAdmin(admin.ModelAdmin):
    """How risk is computed; saving recomputes every school's risk (audited)."""

    form = RiskSettingsForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RiskSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        data = {
            f: form.cleaned_data[f] for f in form.changed_data if f in SETTING_FIELDS
        }
        if not change:
            risk_settings()
        risk_settings_update(by=request.user, data=data)


@admin.register(SafetyFramework)
class SafetyFrameworkAdmin(admin.ModelAdmin):
    """Framework versions are loaded from files (`load_framework`), never typed in."""

    list_display = ["version", "title_en", "published_on", "loaded_at"]
    readonly_fields = [
        "version",
        "title_en",
        "title_km",
        "published_on",
        "document",
        "loaded_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Read-only: answers change through the checklist form or the API (audited)."""

    list_display = [
        "school",
        "assessed_on",
        "status",
        "score",
        "grade",
        "assessor_name",
        "source",
    ]
    list_filter = ["status", "source", "grade", "framework"]
    search_fields = ["^school__code"]
    raw_id_fields = ["school"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
