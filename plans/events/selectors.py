"""Reads of emergency events: each school's latest status and the situation
report (counts by province and district, and their change since the previous
report)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, QuerySet
from django.utils import timezone

from plans.events.sql import COUNTS, sitrep_counts
from plans.models import Event, StatusReport
from preparedness.models import AdminArea


def report_dates(event: Event) -> list[dt.date]:
    """The days on which reports were made, latest first."""
    return list(
        event.reports.order_by("-reported_on")
        .values_list("reported_on", flat=True)
        .distinct()
    )


def latest_reports(
    event: Event, as_of: dt.date | None = None
) -> QuerySet[StatusReport]:
    """Each reported school's latest report on or before `as_of` (default: all)."""
    qs = StatusReport.objects.filter(event=event)
    if as_of is not None:
        qs = qs.filter(reported_on__lte=as_of)
    return (
        qs.select_related("school")
        .order_by("school_id", "-reported_on")
        .distinct("school_id")
    )


def sitrep(event: Event, as_of: dt.date | None = None) -> dict[str, Any]:
    """The situation report as of a day (default: the latest report day).

    Rows by province then district with a total; each count comes with its
    change since the previous report day (`previous`: None before the first).
    """
    dates = report_dates(event)
    if as_of is None:
        as_of = dates[0] if dates else timezone.localdate()
    earlier = [d for d in dates if d < as_of]
    previous = earlier[0] if earlier else None
    now = sitrep_counts(event.pk, as_of)
    before = {
        (r["province"], r["district"]): r
        for r in (sitrep_counts(event.pk, previous) if previous else [])
    }
    codes = {r["district"] or r["province"] for r in now if r["province"]}
    names = {
        a.code: a
        for a in AdminArea.objects.filter(code__in=codes).only(
            "code", "name_en", "name_km"
        )
    }
    rows = []
    for row in now:
        old = before.get((row["province"], row["district"]), {})
        code = row["district"] or row["province"]
        rows.append(
            {
                **row,
                "level": "district"
                if row["district"]
                else ("province" if row["province"] else "total"),
                "area": names.get(code) if code else None,
                "change": {k: row[k] - old.get(k, 0) for k in COUNTS},
            }
        )
    rows.sort(key=_order)
    return {"as_of": as_of, "previous": previous, "rows": rows}


def _order(row: dict[str, Any]) -> tuple[int, str, str]:
    # Provinces then their districts, by code; the national total last.
    if row["province"] is None:
        return (1, "", "")
    return (0, row["province"], row["district"] or "")


def event_list() -> QuerySet[Event]:
    # Aggregating drops Meta.ordering, so page through a stated order.
    return (
        Event.objects.prefetch_related("provinces")
        .annotate(last_report=Max("reports__reported_on"))
        .order_by("-starts_on", "-id")
    )
