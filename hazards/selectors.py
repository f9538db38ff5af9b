"""Reads of hazard layers, zones and tracks; each selector chooses what it loads."""

from collections.abc import Mapping
from typing import Any

from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from hazards.models import HazardLayer, HazardZone, StormTrack
from preparedness.models import AdminArea
from preparedness.spatial_sql import CAMBODIA_BBOX

Bounds = tuple[float, float, float, float]


def _feature_count(model: type[HazardZone] | type[StormTrack]) -> Coalesce:
    """The number of a layer's zones or tracks, as a correlated subquery."""
    counts = (
        model._default_manager.filter(layer=OuterRef("pk"))
        .order_by()
        .values("layer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _with_counts(layers: QuerySet[HazardLayer]) -> QuerySet[HazardLayer]:
    return layers.annotate(
        zone_count=_feature_count(HazardZone), track_count=_feature_count(StormTrack)
    )


def layer_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[HazardLayer]:
    """Layers by name with zone and track counts; filter by type, kind or active."""
    layers = HazardLayer.objects.defer("import_summary")
    filters = filters or {}
    for key in ("hazard_type", "representation", "active"):
        if filters.get(key) is not None:
            layers = layers.filter(**{key: filters[key]})
    return _with_counts(layers).order_by("name")


def layer_get(*, pk: int) -> HazardLayer:
    """One layer with its counts and import summary; raises HazardLayer.DoesNotExist."""
    return _with_counts(HazardLayer.objects.all()).get(pk=pk)


def zone_list(
    *, layer: HazardLayer, bbox: Polygon | None = None
) -> QuerySet[HazardZone]:
    """A layer's zones in insertion order; with `bbox`, those that intersect it."""
    zones = HazardZone.objects.filter(layer=layer)
    if bbox is not None:
        zones = zones.filter(area__intersects=bbox)
    return zones.order_by("pk")


def track_list(
    *, layer: HazardLayer, bbox: Polygon | None = None
) -> QuerySet[StormTrack]:
    """A layer's track segments by storm and time; with `bbox`, those crossing it."""
    tracks = StormTrack.objects.filter(layer=layer).defer("path_utm")
    if bbox is not None:
        tracks = tracks.filter(path__intersects=bbox)
    return tracks.order_by("storm_id", "starts_at", "pk")


def cambodia_extent() -> Bounds:
    """Lon/lat extent of the current provinces' boundaries, else Cambodia's bbox."""
    extent = AdminArea.objects.filter(
        level=AdminArea.Level.PROVINCE, valid_to__isnull=True, boundary__isnull=False
    ).aggregate(extent=Extent("boundary"))["extent"]
    return tuple(extent) if extent else CAMBODIA_BBOX
