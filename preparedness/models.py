"""Shared core: administrative areas, organizations and who may do what where."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from preparedness.db import SearchKey

CODE_LENGTH = {"province": 2, "district": 4, "commune": 6}


class AdminArea(models.Model):
    """A province or the capital, district (srok/khan/krong) or commune (khum/sangkat).

    Codes are the national NCDD codes, stored as strings: province 2 digits,
    district 4, commune 6, each starting with its parent's code.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    code = models.CharField(_("code"), max_length=8, unique=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(
        _("unit type"), max_length=32, blank=True, help_text=_("Khaet, Srok, Khum, ...")
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200, blank=True)
    name_key = models.GeneratedField(
        expression=SearchKey("name_en", "name_km"),
        output_field=models.TextField(),
        db_persist=True,
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(
        _("valid to"),
        null=True,
        blank=True,
        help_text=_("Set when the unit is no longer in the official list."),
    )
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    centroid = models.PointField(
        _("gazetteer centroid"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("Geocoded centre from the NCDD gazetteer; for map zoom only."),
    )

    class Meta:
        verbose_name = _("administrative area")
        verbose_name_plural = _("administrative areas")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "code"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="province", code__regex=r"^[0-9]{2}$", parent__isnull=True)
                    | Q(
                        level="district",
                        code__regex=r"^[0-9]{4}$",
                        parent__isnull=False,
                    )
                    | Q(
                        level="commune", code__regex=r"^[0-9]{6}$", parent__isnull=False
                    )
                ),
                name="adminarea_code_matches_level",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="adminarea_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class Organization(models.Model):
    """A government body, UN agency, NGO, Red Cross society or donor."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government")
        UN_AGENCY = "un_agency", _("UN agency")
        NGO = "ngo", _("NGO")
        RED_CROSS = "red_cross", _("Red Cross / Red Crescent")
        DONOR = "donor", _("Donor")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    acronym = models.CharField(_("acronym"), max_length=32, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    forum_member = models.BooleanField(
        _("Humanitarian Response Forum member"), default=False
    )

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.acronym or self.name


class Membership(models.Model):
    """A user's role, organization and the areas the role applies to."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Forum coordinator")
        EDUCATION_OFFICIAL = "education_official", _("Education official")
        PLANNER = "planner", _("Planner")
        ADMINISTRATOR = "administrator", _("Administrator")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("organization"),
    )
    areas = models.ManyToManyField(
        AdminArea,
        blank=True,
        related_name="memberships",
        verbose_name=_("areas in scope"),
        help_text=_(
            "An area covers everything inside it (a province covers its communes)."
        ),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditEntry(models.Model):
    """One change someone made: who, when, to what, and the values before and after.

    Written by the services that make the change (never by signals), for
    checklist answers, scores and statuses, plans and situation reports.
    """

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept when the account is later removed, and for imports with no account.
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    subject_type = models.CharField(_("record type"), max_length=40)
    subject_id = models.CharField(_("record"), max_length=64)
    action = models.CharField(_("action"), max_length=40)
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        help_text=_('Field -> [before, after], e.g. {"P2.04": [0, 2]}.'),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "at"], name="audit_subject"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} "
            f"{self.subject_type} {self.subject_id}"
        )


class DataChange(models.Model):
    """A committed write to SalaSafe's data: the rows' summed weight is the data
    version (`preparedness.data_version`). Written only by the trigger
    `salasafe_data_changed` and by folding."""

    id = models.BigAutoField(primary_key=True)
    weight = models.BigIntegerField(default=1)

    class Meta:
        db_table = "salasafe_data_change"
