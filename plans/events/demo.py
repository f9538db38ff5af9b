"""Demo event: the Mekong flood that activated the flood-season plan, with
three days of school status reports in the affected provinces."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from plans.events.services import event_create, reports_submit
from plans.models import Activation, Event
from preparedness.demo import DemoOptions, DemoStep, register_demo_step
from preparedness.models import AdminArea
from schools.models import School

PROVINCES = ["08", "10", "03", "14"]  # Kandal, Kratie, Kampong Cham, Prey Veng
DAYS = 3


def demo_events(options: DemoOptions) -> str:
    admin = get_user_model().objects.filter(is_superuser=True).first()
    activation = Activation.objects.order_by("id").first()
    provinces = list(
        AdminArea.objects.filter(code__in=PROVINCES, valid_to__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    if admin is None or not provinces:
        return "no administrator or none of the Mekong provinces: no event"
    schools = list(
        School.objects.filter(
            status=School.Status.OPEN,
            commune__code__regex=r"^(" + "|".join(provinces) + ")",
            hazard_levels__riverine_flood__gte=2,
        ).order_by("code")
    )
    today = timezone.localdate()
    start = today - dt.timedelta(days=DAYS - 1)
    event = event_create(
        by=admin,
        data={
            "name": "Mekong flood (demo)",
            "hazard_type": "riverine_flood",
            "starts_on": start,
            "provinces": provinces,
            "activation": activation.pk if activation else None,
        },
    )
    rng = options.rng(75)
    reported = 0
    for day in range(DAYS):
        # More schools report each day; the water rises, then recedes a little.
        share = (0.35, 0.6, 0.8)[day]
        chosen = [s for s in schools if rng.random() < share]
        rows = []
        for school in chosen:
            level = school.hazard_levels.get("riverine_flood", 0)
            flooded = rng.random() < (0.25 * level if day < 2 else 0.15 * level)
            closed = flooded or rng.random() < 0.1
            rows.append(
                {
                    "school": school.code,
                    "reported_on": start + dt.timedelta(days=day),
                    "status": "closed" if closed else "open",
                    "flooded": flooded,
                    "damaged": flooded and rng.random() < 0.2,
                    "shelter": school.evacuation_centre and rng.random() < 0.6,
                    "learners_affected": school.learners if closed else 0,
                }
            )
        for i in range(0, len(rows), 5000):
            reported += len(
                reports_submit(by=admin, event_id=event.pk, rows=rows[i : i + 5000])
            )
    return f"1 event, {reported} school status reports over {DAYS} days"


register_demo_step(DemoStep("events", 75, demo_events, loaded=Event.objects.exists))
