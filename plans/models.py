"""Preparedness and contingency plans co-led through the Forum.

A plan covers administrative areas (its geometry is the union of theirs), moves
through a fixed lifecycle whose every transition is logged, and holds actions
with an owner organization, a focal person and a due date. Activating a plan
records the trigger, the affected areas and a snapshot of the schools there
with their risk at that moment, which later edits never change.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from hazards.classes import HazardType
from preparedness.models import AdminArea, Organization


class Sector(models.TextChoices):
    EDUCATION = "education", _("Education")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    WASH = "wash", _("Water, sanitation and hygiene")
    SHELTER = "shelter", _("Shelter")
    HEALTH = "health", _("Health")
    FOOD_SECURITY = "food_security", _("Food security")
    NUTRITION = "nutrition", _("Nutrition")
    LOGISTICS = "logistics", _("Logistics")
    COORDINATION = "coordination", _("Coordination")


class Plan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ACTIVATED = "activated", _("Activated")
        CLOSED = "closed", _("Closed")

    # The only transitions accepted (issue: draft -> active, active -> activated
    # or closed, activated -> active or closed).
    TRANSITIONS = {
        Status.DRAFT: (Status.ACTIVE,),
        Status.ACTIVE: (Status.ACTIVATED, Status.CLOSED),
        Status.ACTIVATED: (Status.ACTIVE, Status.CLOSED),
        Status.CLOSED: (),
    }

    title = models.CharField(_("title"), max_length=200)
    hazard_types = models.JSONField(
        _("hazard types"), default=list, help_text=str(HazardType.values)
    )
    season = models.CharField(_("period or season"), max_length=100, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    lead = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead")
    )
    co_lead = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("co-lead"),
    )
    sectors = models.JSONField(_("sectors"), default=list)
    coverage = models.ManyToManyField(
        AdminArea, related_name="+", verbose_name=_("areas covered")
    )
    coverage_area = models.MultiPolygonField(
        _("coverage"), srid=4326, null=True, blank=True, editable=False
    )
    triggers = models.TextField(_("activation triggers"), blank=True)
    review_on = models.DateField(_("review date"), null=True, blank=True)
    documents = models.JSONField(
        _("linked documents"), default=list, blank=True, help_text=_("Links (URLs).")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-starts_on", "title"]

    def __str__(self) -> str:
        return self.title


class Transition(models.Model):
    """One status change of a plan: who, when and why."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=Plan.Status.choices)
    to_status = models.CharField(max_length=10, choices=Plan.Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField()
    why = models.TextField(_("why"))

    class Meta:
        ordering = ["-at", "-id"]


class Action(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("title"), max_length=300)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="plan_actions",
        verbose_name=_("responsible organization"),
    )
    focal_person = models.CharField(_("focal person"), max_length=150, blank=True)
    due_on = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED
    )
    progress = models.TextField(_("progress notes"), blank=True)
    areas = models.ManyToManyField(
        AdminArea, blank=True, related_name="+", verbose_name=_("areas served")
    )
    schools = models.ManyToManyField(
        "schools.School", blank=True, related_name="+", verbose_name=_("schools served")
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="action_due")]

    def __str__(self) -> str:
        return self.title


class Activation(models.Model):
    """A plan's activation: trigger, date, areas, and the schools there with their
    risk at that moment (a snapshot later edits never change)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="activations")
    trigger = models.TextField(_("trigger"))
    activated_on = models.DateField(_("activated on"))
    areas = models.ManyToManyField(AdminArea, related_name="+", verbose_name=_("areas"))
    schools = models.JSONField(_("schools at that moment"), default=list)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-activated_on", "-id"]


class CalendarToken(models.Model):
    """A user's secret for the iCalendar feed of action due dates.

    Calendar apps cannot log in, so the feed URL carries a secret; only its
    SHA-256 hash is stored. A user has at most one active token: creating a new
    one revokes the old, and revoking sets `revoked_at`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_tokens",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar token")
        verbose_name_plural = _("calendar tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_calendar_token",
            )
        ]

    def __str__(self) -> str:
        return f"calendar token {self.pk} of user {self.user_id}"


class Trigger(models.Model):
    """A measurable activation trigger, checked whenever a hazard layer changes.

    - storm: a storm track of an active layer with at least `min_wind_kt` of
      wind passes within `distance_km` of the plan's coverage;
    - flood: more than `min_schools` open schools of the coverage stand in
      hazard class `min_class` or above on an active flood layer.

    "Met" is shown on the plan with the layer that met it and the schools
    concerned, and the plan's coordinators are emailed; activation stays a
    human decision.
    """

    class Kind(models.TextChoices):
        STORM = "storm", _("Storm track within a distance")
        FLOOD = "flood", _("Schools in a flood class")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measurable")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    min_wind_kt = models.FloatField(_("wind at least (kt)"), null=True, blank=True)
    distance_km = models.FloatField(_("within (km)"), null=True, blank=True)
    min_class = models.PositiveSmallIntegerField(
        _("hazard class at least"), null=True, blank=True
    )
    min_schools = models.PositiveIntegerField(
        _("more than this many schools"), null=True, blank=True
    )
    met = models.BooleanField(_("met"), default=False)
    met_layer = models.ForeignKey(
        "hazards.HazardLayer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("met by layer"),
    )
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    schools = models.JSONField(_("schools concerned"), default=list, blank=True)

    class Meta:
        verbose_name = _("measurable trigger")
        verbose_name_plural = _("measurable triggers")
        ordering = ["plan", "id"]


class Event(models.Model):
    """A flood or storm that struck: the frame for daily school status reports.

    Linked to the plan activation it answers, when there is one. `provinces` are
    the affected provinces; officials report on schools inside them.
    """

    name = models.CharField(_("name"), max_length=200)
    hazard_type = models.CharField(
        _("hazard type"), max_length=32, choices=HazardType.choices
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("Empty while it lasts.")
    )
    provinces = models.ManyToManyField(
        AdminArea, related_name="+", verbose_name=_("affected provinces")
    )
    activation = models.ForeignKey(
        Activation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("plan activation"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("emergency event")
        verbose_name_plural = _("emergency events")
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name


class StatusReport(models.Model):
    """One school's status on one day of an event (a situation report line).

    A school's latest status is its report with the latest date; reporting again
    on the same day corrects that day's report (audited, before and after).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reports")
    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="+"
    )
    reported_on = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    flooded = models.BooleanField(_("flooded"), default=False)
    damaged = models.BooleanField(_("damaged"), default=False)
    shelter = models.BooleanField(_("used as shelter"), default=False)
    learners_affected = models.PositiveIntegerField(
        _("learners out of school"), default=0
    )
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("school status report")
        verbose_name_plural = _("school status reports")
        ordering = ["-reported_on", "school_id"]
        constraints = [
            # Also the index that finds each school's latest report.
            models.UniqueConstraint(
                fields=["event", "school", "reported_on"],
                name="one_status_report_a_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.reported_on}: {self.status}"
