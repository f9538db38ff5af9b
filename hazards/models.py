"""Hazard layers: flood zones, storm tracks and rasters of intensity.

This app knows nothing of schools: it answers "what is the intensity and class
of these points on this layer?" for any set of points.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hazards.classes import HazardClass, HazardType

UTM_48N = 32648  # metres over all of Cambodia


class HazardLayer(models.Model):
    """One hazard map: a set of zones, storm tracks or a raster, with its scenario."""

    class Representation(models.TextChoices):
        ZONES = "zones", _("Zones (polygons)")
        TRACKS = "tracks", _("Storm tracks")
        RASTER = "raster", _("Raster grid")

    class Scenario(models.TextChoices):
        EVENT = "event", _("Historical event")
        RETURN_PERIOD = "return_period", _("Return period")
        FORECAST = "forecast", _("Forecast")

    name = models.CharField(_("name"), max_length=200, unique=True)
    hazard_type = models.CharField(
        _("hazard type"), max_length=32, choices=HazardType.choices
    )
    representation = models.CharField(
        _("representation"), max_length=16, choices=Representation.choices
    )
    scenario = models.CharField(
        _("scenario"), max_length=16, choices=Scenario.choices, blank=True
    )
    event_date = models.DateField(_("event date"), null=True, blank=True)
    return_period = models.PositiveIntegerField(
        _("return period (years)"), null=True, blank=True
    )
    valid_time = models.DateTimeField(_("forecast valid time"), null=True, blank=True)
    units = models.CharField(_("units"), max_length=32, blank=True)
    breaks = ArrayField(
        models.FloatField(),
        verbose_name=_("class breaks"),
        help_text=_("Increasing intensities where classes 2, 3 and 4 start."),
    )
    source = models.CharField(_("source / credit"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)
    raster = models.FileField(
        _("raster (Cloud-Optimized GeoTIFF)"), upload_to="hazards/", blank=True
    )
    import_summary = models.JSONField(_("import summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("hazard layer")
        verbose_name_plural = _("hazard layers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(return_period__isnull=True) | Q(return_period__gt=0),
                name="hazardlayer_return_period_positive",
            ),
            models.CheckConstraint(
                condition=~Q(representation="raster") | ~Q(raster=""),
                name="hazardlayer_raster_has_file",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HazardZone(models.Model):
    """A polygon of a zones layer with its intensity (e.g. flood depth) and class."""

    layer = models.ForeignKey(
        HazardLayer, on_delete=models.CASCADE, related_name="zones"
    )
    area = models.MultiPolygonField(_("area"), srid=4326)
    intensity = models.FloatField(_("intensity"), null=True, blank=True)
    hazard_class = models.PositiveSmallIntegerField(
        _("hazard class"), choices=HazardClass.choices
    )
    properties = models.JSONField(_("source attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("hazard zone")
        verbose_name_plural = _("hazard zones")
        indexes = [models.Index(fields=["layer"], name="hazardzone_layer")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hazard_class__lte=4), name="hazardzone_class_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.layer} #{self.pk}"


class StormTrack(models.Model):
    """A storm track segment with its 1-minute sustained wind and wind radius."""

    layer = models.ForeignKey(
        HazardLayer, on_delete=models.CASCADE, related_name="tracks"
    )
    storm_id = models.CharField(_("storm id"), max_length=64, blank=True)
    name = models.CharField(_("storm name"), max_length=200, blank=True)
    path = models.LineStringField(_("path"), srid=4326)
    path_utm = models.GeneratedField(
        expression=Transform("path", UTM_48N),
        output_field=models.LineStringField(srid=UTM_48N, spatial_index=False),
        db_persist=True,
    )
    max_wind_kt = models.FloatField(_("maximum sustained wind (kt)"))
    radius_km = models.FloatField(_("wind radius (km)"))
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    properties = models.JSONField(_("source attributes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("storm track")
        verbose_name_plural = _("storm tracks")
        indexes = [
            models.Index(fields=["layer"], name="stormtrack_layer"),
            GistIndex(fields=["path_utm"], name="stormtrack_path_utm"),
            # One layer's segments near a geometry (e.g. the nearest segment to
            # one place, `ORDER BY path_utm <-> point`): the scan reads only that
            # layer's segments (needs btree_gist; the layer id must be compared
            # as bigint). The exposure engine reads whole layers (hazards.tracks).
            GistIndex(fields=["layer", "path_utm"], name="stormtrack_layer_path_utm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_wind_kt__gte=0) & Q(radius_km__gte=0),
                name="stormtrack_wind_radius_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or self.storm_id} ({self.max_wind_kt:.0f} kt)"
