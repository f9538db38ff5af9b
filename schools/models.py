"""Schools and the child-protection services around them."""

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import Transform
from django.contrib.postgres.indexes import GistIndex
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hazards.classes import HazardClass
from hazards.models import UTM_48N, HazardLayer
from preparedness.db import SearchKey
from preparedness.models import AdminArea


class Place(models.Model):
    """What schools and services share: a code, names, a commune and a point."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_key = models.GeneratedField(
        expression=SearchKey("code", "name_en", "name_km"),
        output_field=models.TextField(),
        db_persist=True,
    )
    commune = models.ForeignKey(
        AdminArea,
        to_field="code",
        db_column="commune_code",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": AdminArea.Level.COMMUNE},
        verbose_name=_("commune"),
    )
    location = models.PointField(_("location"), srid=4326)
    # The same point in metres (UTM 48N) for fast, correct distances.
    location_utm = models.GeneratedField(
        expression=Transform("location", UTM_48N),
        output_field=models.PointField(srid=UTM_48N, spatial_index=False),
        db_persist=True,
    )
    hazard_level = models.PositiveSmallIntegerField(
        _("hazard level"),
        choices=HazardClass.choices,
        default=HazardClass.NONE,
        help_text=_("Highest hazard class over the active layers."),
    )
    hazard_levels = models.JSONField(
        _("hazard level by type"),
        default=dict,
        blank=True,
        help_text=_('Highest class per hazard type, e.g. {"riverine_flood": 3}.'),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en or self.name_km}"


class School(Place):
    """A school in the national EMIS, located by a point."""

    class Level(models.TextChoices):
        PRESCHOOL = "preschool", _("Preschool")
        PRIMARY = "primary", _("Primary")
        LOWER_SECONDARY = "lower_secondary", _("Lower secondary")
        UPPER_SECONDARY = "upper_secondary", _("Upper secondary")

    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    enrolment_girls = models.PositiveIntegerField(_("girls enrolled"), default=0)
    enrolment_boys = models.PositiveIntegerField(_("boys enrolled"), default=0)
    evacuation_centre = models.BooleanField(
        _("designated evacuation centre"), default=False
    )

    class Meta(Place.Meta):
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        indexes = [
            models.Index(fields=["level"], name="school_level"),
            GistIndex(fields=["location_utm"], name="school_location_utm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name_en="") | ~Q(name_km=""),
                name="school_has_a_name",
                violation_error_message=_("Give a name in English or in Khmer."),
            ),
        ]

    @property
    def learners(self) -> int:
        return self.enrolment_girls + self.enrolment_boys


class Service(Place):
    """A child-protection or emergency service near schools."""

    class Kind(models.TextChoices):
        CCWC = "ccwc", _("Commune committee for women and children (CCWC)")
        WCCC = "wccc", _("Women and children consultative committee (WCCC)")
        SOCIAL_WORKER = "social_worker", _("Community social worker")
        SAFE_SHELTER = "safe_shelter", _("Safe shelter")
        HEALTH_CENTRE = "health_centre", _("Health centre")
        REFERRAL_HOSPITAL = "referral_hospital", _("Referral hospital")
        POLICE_POST = "police_post", _("Police post")
        PSYCHOSOCIAL_SUPPORT = "psychosocial_support", _("Psychosocial support")
        EVACUATION_CENTRE = "evacuation_centre", _("Evacuation centre")

    SENSITIVE_BY_DEFAULT = frozenset({Kind.SAFE_SHELTER})

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_(
            "Exact location and contact are shown only to coordinators and the "
            "officials of its area (on by default for safe shelters)."
        ),
    )

    class Meta(Place.Meta):
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [
            models.Index(fields=["kind"], name="service_kind"),
            GistIndex(fields=["location_utm"], name="service_location_utm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name_en="") | ~Q(name_km=""),
                name="service_has_a_name",
                violation_error_message=_("Give a name in English or in Khmer."),
            ),
        ]


class Exposure(models.Model):
    """Where one school or service stands on one hazard layer.

    Replaced set-wise whenever the layer or the places change; the layer gives
    the provenance (name, scenario, source) and `computed_at` says when.
    """

    # Indexed through the (layer, school) and (layer, service) unique constraints.
    layer = models.ForeignKey(
        HazardLayer,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("layer"),
    )
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exposures",
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exposures",
    )
    intensity = models.FloatField(_("intensity"), null=True, blank=True)
    hazard_class = models.PositiveSmallIntegerField(
        _("hazard class"), choices=HazardClass.choices
    )
    distance_km = models.FloatField(
        _("distance to the nearest track (km)"), null=True, blank=True
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("exposure")
        verbose_name_plural = _("exposures")
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=True) ^ Q(service__isnull=True),
                name="exposure_one_place",
            ),
            models.UniqueConstraint(
                fields=["layer", "school"], name="exposure_layer_school"
            ),
            models.UniqueConstraint(
                fields=["layer", "service"], name="exposure_layer_service"
            ),
        ]

    def __str__(self) -> str:
        place = self.school_id or self.service_id
        return f"{place} on {self.layer_id}: {self.hazard_class}"
