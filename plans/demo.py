"""Demo plans: a flood-season contingency plan along the Mekong and the Tonle
Sap, and a typhoon preparedness plan for the coast and the east, with actions
across Forum members (some overdue) and one activation."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from plans.models import Action, Plan
from plans.services import action_create, plan_create, plan_transition
from preparedness.demo import DemoOptions, DemoStep, register_demo_step
from preparedness.models import AdminArea, Organization

FLOOD_PROVINCES = ["08", "03", "14", "10", "19", "04", "15", "02", "17", "06", "12"]
STORM_PROVINCES = ["09", "18", "07", "23", "16", "11", "13"]
ACTIONS = [
    # title, sector, organization acronym, days after the start, status
    (
        "Map schools used as evacuation centres with the PCDMs",
        "education",
        "UNICEF",
        20,
        "done",
    ),
    (
        "Pre-position school-in-a-box and recreation kits",
        "education",
        "SCI",
        45,
        "in_progress",
    ),
    (
        "Train teachers in psychological first aid",
        "child_protection",
        "WVC",
        60,
        "not_started",
    ),
    (
        "Brief CCWCs on child protection in evacuation centres",
        "child_protection",
        "Plan",
        30,
        "in_progress",
    ),
    ("Agree WASH standards for schools used as shelters", "wash", "PIN", 40, "blocked"),
    (
        "Stock take-home learning packs for flooded schools",
        "education",
        "SCI",
        75,
        "not_started",
    ),
]


def demo_plans(options: DemoOptions) -> str:
    admin = get_user_model().objects.filter(username="coordinator").first() or None
    orgs = {o.acronym: o for o in Organization.objects.filter(forum_member=True)}
    if admin is None or not {"UNICEF", "SCI"} <= set(orgs):
        return "no coordinator or Forum members: no plans"
    current = set(
        AdminArea.objects.filter(level="province", valid_to__isnull=True).values_list(
            "code", flat=True
        )
    )
    today = timezone.localdate()
    year_start = dt.date(today.year, 5, 1)
    made = []
    watched = {
        "flood": [{"kind": "flood", "min_class": 3, "min_schools": 50}],
        "storm": [{"kind": "storm", "min_wind_kt": 34, "distance_km": 100}],
    }
    for title, hazards, provinces, lead, co_lead, start, end in [
        (
            f"Flood season contingency plan {today.year}: Mekong and Tonle Sap",
            ["riverine_flood", "flash_flood"],
            FLOOD_PROVINCES,
            "UNICEF",
            "SCI",
            year_start,
            dt.date(today.year, 12, 15),
        ),
        (
            f"Typhoon preparedness {today.year}: coast and east",
            ["storm", "flash_flood"],
            STORM_PROVINCES,
            "SCI",
            "Plan",
            year_start + dt.timedelta(days=30),
            dt.date(today.year, 12, 31),
        ),
    ]:
        coverage = [p for p in provinces if p in current]
        if not coverage:
            continue
        plan = plan_create(
            by=admin,
            data={
                "title": title,
                "hazard_types": hazards,
                "season": "June-December",
                "starts_on": start,
                "ends_on": end,
                "lead": orgs[lead].pk,
                "co_lead": orgs.get(co_lead, orgs[lead]).pk,
                "sectors": ["education", "child_protection", "wash"],
                "coverage": coverage,
                "triggers": (
                    "A forecast storm of tropical-storm strength (34 kt) or more "
                    "within 100 km of the coverage; more than 50 schools of the "
                    "coverage in flood class high or above."
                ),
                "review_on": start + dt.timedelta(days=90),
                "measurable_triggers": watched[
                    "storm" if "storm" in hazards else "flood"
                ],
            },
        )
        for name, sector, acronym, days, status in ACTIONS:
            if acronym not in orgs:
                continue
            action = action_create(
                by=admin,
                plan_id=plan.pk,
                data={
                    "title": name,
                    "sector": sector,
                    "organization": orgs[acronym].pk,
                    "focal_person": "Focal point, " + acronym,
                    "due_on": start + dt.timedelta(days=days),
                    "areas": coverage[:2],
                },
            )
            Action.objects.filter(pk=action.pk).update(status=status)
        plan_transition(
            by=admin, plan_id=plan.pk, to="active", why="Endorsed by the Forum"
        )
        made.append(plan)
    if made:
        plan_transition(
            by=admin,
            plan_id=made[0].pk,
            to="activated",
            why="Mekong above flood level at Kratie",
            trigger="River gauge at Kratie above 22 m, rising",
        )
    from plans.triggers import triggers_check

    met = triggers_check()
    return (
        f"{len(made)} plans, {Action.objects.count()} actions, 1 activation, "
        f"{len(met)} measurable triggers met"
    )


register_demo_step(DemoStep("plans", 70, demo_plans, loaded=Plan.objects.exists))
