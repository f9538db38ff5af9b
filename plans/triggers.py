"""Measurable activation triggers, checked after every hazard layer change.

Registered in PlansConfig.ready with `hazards.callbacks.on_layer_change`, after
the schools app's exposure and risk follow-ups (INSTALLED_APPS order), so flood
triggers read fresh exposure. A trigger that becomes met records the layer and
the schools concerned and emails the plan's coordinators; activating the plan
stays a human decision.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.callbacks import LayerChange
from hazards.classes import HazardType
from plans.models import Plan, Trigger
from plans.selectors import coverage_q
from plans.sql import storm_layer_near
from preparedness.models import Membership
from schools.models import Exposure, School

FLOOD_TYPES = (
    HazardType.RIVERINE_FLOOD,
    HazardType.FLASH_FLOOD,
    HazardType.COASTAL_FLOOD,
)
LIVE = (Plan.Status.ACTIVE, Plan.Status.ACTIVATED)


def _concerned(plan: Plan, layer_id: int, min_class: int) -> list[str]:
    """Codes of the coverage's open schools at `min_class` or more on a layer."""
    return list(
        School.objects.filter(coverage_q(plan), status=School.Status.OPEN)
        .filter(
            pk__in=Exposure.objects.filter(
                layer_id=layer_id, hazard_class__gte=min_class
            ).values("school_id")
        )
        .order_by("code")
        .values_list("code", flat=True)
    )


def _evaluate(trigger: Trigger) -> tuple[int | None, list[str]]:
    plan = trigger.plan
    if trigger.kind == Trigger.Kind.STORM:
        layer = storm_layer_near(
            plan.pk, trigger.min_wind_kt or 0, trigger.distance_km or 0
        )
        return layer, _concerned(plan, layer, 1) if layer else []
    from hazards.models import HazardLayer

    for layer_id in (
        HazardLayer.objects.filter(active=True, hazard_type__in=FLOOD_TYPES)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        schools = _concerned(plan, layer_id, trigger.min_class or 3)
        if len(schools) > (trigger.min_schools or 0):
            return layer_id, schools
    return None, []


@transaction.atomic
def triggers_check() -> list[Trigger]:
    """Re-evaluate the triggers of active plans; return those newly met."""
    newly_met = []
    now = timezone.now()
    for trigger in Trigger.objects.select_related("plan").filter(plan__status__in=LIVE):
        layer_id, schools = _evaluate(trigger)
        met = layer_id is not None
        if met and (not trigger.met or trigger.met_layer_id != layer_id):
            newly_met.append(trigger)
        if (met, layer_id, schools) != (
            trigger.met,
            trigger.met_layer_id,
            trigger.schools,
        ):
            trigger.met = met
            trigger.met_layer_id = layer_id
            trigger.met_at = now if met else None
            trigger.schools = schools
            trigger.save(update_fields=["met", "met_layer", "met_at", "schools"])
    for trigger in newly_met:
        _notify(trigger)
    return newly_met


def triggers_on_layer_change(change: LayerChange) -> None:
    triggers_check()


def _notify(trigger: Trigger) -> None:
    plan = trigger.plan
    orgs = [o for o in (plan.lead_id, plan.co_lead_id) if o]
    users = (
        get_user_model()
        .objects.filter(membership__role=Membership.Role.COORDINATOR, is_active=True)
        .exclude(email="")
    )
    emails = list(
        users.filter(membership__organization_id__in=orgs).values_list(
            "email", flat=True
        )
    )
    if not emails:
        emails = list(users.values_list("email", flat=True))
    if not emails:
        return
    layer = trigger.met_layer
    body: dict[str, Any] = {
        "plan": plan.title,
        "trigger": trigger.get_kind_display(),
        "layer": layer.name if layer else "",
        "schools": len(trigger.schools),
    }
    send_mail(
        subject=_("SalaSafe: trigger met for %(plan)s") % body,
        message=_(
            'A measurable trigger of the plan "%(plan)s" is met: %(trigger)s, by the '
            'hazard layer "%(layer)s"; %(schools)s schools of its coverage are '
            "concerned. Activating the plan remains your decision."
        )
        % body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=sorted(set(emails)),
        fail_silently=True,
    )
