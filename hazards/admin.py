"""Django admin of hazard layers, zones and tracks, with their shapes on a map.

Layers are imported with `manage.py import_hazard` or the API, not typed in:
here they are switched on and off and deleted through the services (so the
layer-change follow-ups run), and their features are shown read-only.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.services import hazard_layer_delete, hazard_layer_set_active


@admin.register(HazardLayer)
class HazardLayerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "hazard_type",
        "representation",
        "scenario",
        "event_date",
        "return_period",
        "active",
        "created_at",
    ]
    list_filter = ["hazard_type", "representation", "active"]
    search_fields = ["name", "source"]
    actions = ["activate", "deactivate"]
    readonly_fields = [
        field.name for field in HazardLayer._meta.fields if field.name != "id"
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # import_hazard or the API import files

    @admin.action(description=_("Switch the selected layers on"))
    def activate(self, request: HttpRequest, queryset: QuerySet[HazardLayer]) -> None:
        self._switch(request, queryset, active=True)

    @admin.action(description=_("Switch the selected layers off"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[HazardLayer]) -> None:
        self._switch(request, queryset, active=False)

    def _switch(
        self, request: HttpRequest, queryset: QuerySet[HazardLayer], *, active: bool
    ) -> None:
        for layer in queryset:
            hazard_layer_set_active(layer=layer, active=active, by=request.user)
        self.message_user(request, _("Layers updated."), messages.SUCCESS)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """Counts instead of listing every zone (a layer may hold many thousands)."""
        layers = list(objs)
        ids = [layer.pk for layer in layers]
        counts = {
            str(HazardLayer._meta.verbose_name_plural): len(layers),
            str(HazardZone._meta.verbose_name_plural): HazardZone.objects.filter(
                layer__in=ids
            ).count(),
            str(StormTrack._meta.verbose_name_plural): StormTrack.objects.filter(
                layer__in=ids
            ).count(),
        }
        return [str(layer) for layer in layers], counts, set(), []

    def delete_model(self, request: HttpRequest, obj: HazardLayer) -> None:
        hazard_layer_delete(layer=obj, by=request.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[HazardLayer]
    ) -> None:
        for layer in queryset:
            hazard_layer_delete(layer=layer, by=request.user)


class FeatureAdmin(LeafletGeoAdmin):
    """Zones and tracks on a map, read-only: a layer is replaced by re-importing it."""

    modifiable = False  # the map shows the shape without editing handles
    list_select_related = ["layer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(HazardZone)
class HazardZoneAdmin(FeatureAdmin):
    list_display = ["id", "layer", "intensity", "hazard_class"]
    list_filter = ["hazard_class", "layer"]
    readonly_fields = ["layer", "intensity", "hazard_class", "properties"]


@admin.register(StormTrack)
class StormTrackAdmin(FeatureAdmin):
    list_display = ["id", "layer", "storm_id", "name", "max_wind_kt", "radius_km"]
    list_filter = ["layer"]
    search_fields = ["storm_id", "name"]
    exclude = ["path_utm"]
    readonly_fields = [
        "layer",
        "storm_id",
        "name",
        "max_wind_kt",
        "radius_km",
        "starts_at",
        "ends_at",
        "properties",
    ]
