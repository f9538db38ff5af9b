"""Django admin of schools and services, with their points on a map."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from preparedness.admin import NameKeySearchMixin
from schools.models import School, Service


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
