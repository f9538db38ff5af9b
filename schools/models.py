"""Schools and the child-protection services around them."""

from django.conf import settings
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
    learners_with_disabilities = models.PositiveIntegerField(
        _("learners with disabilities"), default=0
    )
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
            # Migration 0009 adds one partial GiST index per kind (open services
            # only), in SQL: a new kind needs its index added there.
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

    # No index on the layer: its rows are read by scanning (a recompute, a
    # deleted layer). Places are indexed by the partial (school, layer) and
    # (service, layer) unique indexes, which hold no NULLs: each row is written
    # to two indexes (with the primary key) instead of five.
    # No foreign-key constraints either (db_constraint=False): PostgreSQL checks
    # those once per inserted row. Django still cascades deletes, and
    # statement-level delete triggers (migration 0010) remove the rows of
    # places and layers deleted by SQL (docs/adr/0006).
    layer = models.ForeignKey(
        HazardLayer,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("layer"),
    )
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exposures",
        db_index=False,
        db_constraint=False,
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exposures",
        db_index=False,
        db_constraint=False,
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
                fields=["school", "layer"],
                condition=Q(school__isnull=False),
                name="exposure_school_layer",
            ),
            models.UniqueConstraint(
                fields=["service", "layer"],
                condition=Q(service__isnull=False),
                name="exposure_service_layer",
            ),
        ]

    def __str__(self) -> str:
        place = self.school_id or self.service_id
        return f"{place} on {self.layer_id}: {self.hazard_class}"


class SafetyFramework(models.Model):
    """One version of the school safety checklist (CSSF 2022-2030), as loaded.

    `document` keeps the version's file as loaded; its scoring rules never change
    once assessments use it (a reviewer may still correct the wording), so a new
    version never changes the scores of assessments made under an older one.
    """

    version = models.CharField(_("version"), max_length=32, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_km = models.CharField(_("title (Khmer)"), max_length=200)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    document = models.JSONField(_("framework document"))
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        verbose_name = _("safety framework")
        verbose_name_plural = _("safety frameworks")
        ordering = ["-published_on", "-id"]

    def __str__(self) -> str:
        return f"{self.version} {self.title_en}"


class FrameworkArea(models.Model):
    """The foundation or one pillar of a framework version."""

    framework = models.ForeignKey(
        SafetyFramework, on_delete=models.CASCADE, related_name="areas"
    )
    code = models.CharField(_("code"), max_length=8)
    order = models.PositiveSmallIntegerField(_("order"))
    weight = models.FloatField(_("weight"))
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_km = models.CharField(_("name (Khmer)"), max_length=200)
    km_reviewed = models.BooleanField(_("Khmer reviewed"), default=False)

    class Meta:
        verbose_name = _("framework area")
        verbose_name_plural = _("framework areas")
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="area_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class ChecklistItem(models.Model):
    """One question of a framework version, with how its answer scores."""

    class AnswerType(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        YNP = "ynp", _("Yes / partly / no")
        YNPNA = "ynpna", _("Yes / partly / no / not applicable")
        NUMBER = "number", _("Number")

    framework = models.ForeignKey(
        SafetyFramework, on_delete=models.CASCADE, related_name="items"
    )
    area = models.ForeignKey(
        FrameworkArea, on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("code"), max_length=16)
    order = models.PositiveSmallIntegerField(_("order"))
    answer_type = models.CharField(
        _("answer type"), max_length=8, choices=AnswerType.choices
    )
    weight = models.FloatField(_("weight"))
    critical = models.BooleanField(
        _("critical"),
        default=False,
        help_text=_("A gap here is listed first and caps the grade."),
    )
    question_en = models.TextField(_("question (English)"))
    question_km = models.TextField(_("question (Khmer)"))
    help_en = models.TextField(_("help (English)"), blank=True)
    help_km = models.TextField(_("help (Khmer)"), blank=True)
    km_reviewed = models.BooleanField(_("Khmer reviewed"), default=False)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="item_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.question_en[:60]}"


class Assessment(models.Model):
    """A school's answers to one framework version on one date, and their scores."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VERIFIED = "verified", _("Verified")

    class Source(models.TextChoices):
        WEB = "web", _("Web form")
        API = "api", _("API")
        KOBO = "kobo", _("KoboToolbox / ODK")
        DEMO = "demo", _("Demo data")

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="assessments"
    )
    framework = models.ForeignKey(
        SafetyFramework, on_delete=models.PROTECT, related_name="assessments"
    )
    assessed_on = models.DateField(_("date of assessment"))
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessor"),
    )
    assessor_name = models.CharField(_("assessor (name)"), max_length=150, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.WEB
    )
    # KoboToolbox `_uuid` / ODK `instanceID`: re-imports are idempotent.
    submission_uuid = models.CharField(
        _("submission id"), max_length=64, null=True, blank=True, unique=True
    )
    # Optimistic locking: a save must name the version it read.
    version = models.PositiveIntegerField(_("version"), default=1)
    context = models.JSONField(
        _("school context"),
        default=dict,
        blank=True,
        help_text=_("Hazard levels and shelter designation used for critical gaps."),
    )
    score = models.FloatField(_("CSS score"), null=True, blank=True)
    area_scores = models.JSONField(_("score by area"), default=dict, blank=True)
    critical_gaps = models.JSONField(_("critical gaps"), default=list, blank=True)
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(
                fields=["school", "status", "assessed_on"], name="assessment_school"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.assessed_on} ({self.status})"


class Answer(models.Model):
    """One answer of an assessment: a choice (yes/partial/no/na) or a number."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(_("answer"), max_length=8, blank=True)
    number = models.FloatField(_("number"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "item"], name="answer_assessment_item"
            ),
            models.CheckConstraint(
                condition=Q(choice="") ^ Q(number__isnull=True),
                name="answer_choice_or_number",
            ),
        ]

    @property
    def value(self) -> str | float:
        return self.number if self.number is not None else self.choice


class Evidence(models.Model):
    """A photo supporting an answer, resized on upload for slow links."""

    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="evidence"
    )
    image = models.ImageField(_("photo"), upload_to="evidence/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence photo")
        verbose_name_plural = _("evidence photos")


class SchoolSafety(models.Model):
    """A school's current safety state, kept for fast maps and lists.

    The current assessment is the latest submitted or verified one; its scores
    are copied here by `school_safety_refresh` whenever an assessment changes.
    Schools never assessed have no row (or a row with no assessment).
    """

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, primary_key=True, related_name="safety"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assessed_on = models.DateField(_("last assessed"), null=True)
    framework_version = models.CharField(_("framework version"), max_length=32)
    score = models.FloatField(_("CSS score"), null=True)
    area_scores = models.JSONField(_("score by area"), default=dict)
    critical_gaps = models.JSONField(_("critical gaps"), default=list)
    grade = models.CharField(_("grade"), max_length=32, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("current school safety")
        verbose_name_plural = _("current school safety")
        indexes = [models.Index(fields=["grade"], name="safety_grade")]


class RiskClass(models.IntegerChoices):
    VERY_LOW = 1, _("Very low")
    LOW = 2, _("Low")
    MEDIUM = 3, _("Medium")
    HIGH = 4, _("High")
    VERY_HIGH = 5, _("Very high")


def _default_level_vulnerability() -> dict[str, float]:
    return {
        "preschool": 10.0,
        "primary": 6.0,
        "lower_secondary": 3.0,
        "upper_secondary": 1.0,
    }


def _default_physical_items() -> list[str]:
    return ["P1.03", "P1.04", "P1.05"]


def _default_class_breaks() -> list[float]:
    return [2.0, 3.5, 5.0, 6.5]


class RiskSettings(models.Model):
    """How school risk is computed (one row); docs/methodology.md explains each.

    Changing them recomputes every school's risk (`risk_settings_update`).
    """

    weight_hazard_exposure = models.FloatField(
        _("weight of hazard & exposure"), default=1.0
    )
    weight_vulnerability = models.FloatField(_("weight of vulnerability"), default=1.0)
    weight_coping = models.FloatField(
        _("weight of lack of coping capacity"), default=1.0
    )
    learners_for_full_exposure = models.PositiveIntegerField(
        _("learners for the highest exposure"),
        default=1000,
        help_text=_("A school with this many learners or more scores 10 for exposure."),
    )
    level_vulnerability = models.JSONField(
        _("vulnerability by school level"),
        default=_default_level_vulnerability,
        help_text=_("0-10 for the age of the learners, e.g. preschool 10."),
    )
    disability_share_for_full = models.FloatField(
        _("share of learners with disabilities for the highest vulnerability"),
        default=0.10,
    )
    physical_items = models.JSONField(
        _("building-condition checklist items"),
        default=_default_physical_items,
        help_text=_("Items whose answers make the physical vulnerability."),
    )
    unknown_physical_vulnerability = models.FloatField(
        _("physical vulnerability of a school never assessed"), default=5.0
    )
    critical_gap_min_coping = models.FloatField(
        _("lack of coping capacity at least, with a critical gap"), default=6.0
    )
    class_breaks = models.JSONField(
        _("risk class breaks"),
        default=_default_class_breaks,
        help_text=_("Scores where low, medium, high and very high start (INFORM)."),
    )
    focal_point_km = models.FloatField(
        _("distance to a child-protection focal point (km)"),
        default=5.0,
        help_text=_(
            "A school with no CCWC or social worker this close has an access gap."
        ),
    )
    unavailable_from_class = models.PositiveSmallIntegerField(
        _("a service is likely unavailable from hazard class"),
        choices=HazardClass.choices,
        default=HazardClass.HIGH,
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("risk settings")
        verbose_name_plural = _("risk settings")

    def __str__(self) -> str:
        return str(_("Risk settings"))


class SchoolRisk(models.Model):
    """A school's INFORM-style risk, its three dimensions (0-10) and its class.

    Recomputed set-wise when exposures, assessments or the settings change.
    """

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, primary_key=True, related_name="risk"
    )
    hazard = models.FloatField(_("hazard"))
    exposure = models.FloatField(_("exposure"))
    hazard_exposure = models.FloatField(_("hazard & exposure"))
    vulnerability_physical = models.FloatField(_("physical vulnerability"))
    vulnerability_learners = models.FloatField(_("learners' vulnerability"))
    vulnerability = models.FloatField(_("vulnerability"))
    coping_gap = models.FloatField(_("lack of coping capacity"))
    score = models.FloatField(_("risk score"))
    risk_class = models.PositiveSmallIntegerField(
        _("risk class"), choices=RiskClass.choices
    )
    assessed = models.BooleanField(_("assessed"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("school risk")
        verbose_name_plural = _("school risks")
        indexes = [models.Index(fields=["-score"], name="risk_score")]


class SchoolAccess(models.Model):
    """The nearest service of each kind to a school, straight-line.

    `nearest` maps a service kind to {"code", "km"}, with "sensitive": true for
    a sensitive service and "unavailable": true when it is in a high hazard class
    (likely unavailable); then also the nearest available one of the kind:
    "available_code", "available_km" (null when there is none) and
    "available_sensitive": true if sensitive. `focal_point_km` is the distance
    to the nearest CCWC or social worker.
    """

    school = models.OneToOneField(
        School, on_delete=models.CASCADE, primary_key=True, related_name="access"
    )
    nearest = models.JSONField(_("nearest services"), default=dict)
    focal_point_km = models.FloatField(
        _("nearest child-protection focal point (km)"), null=True
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("school access to services")
        verbose_name_plural = _("school access to services")
