"""Exports of plans: the "who does what where" (3W) table, a plan's actions as
CSV and its coverage as GeoJSON.

Where an action happens: its own areas if it names any, else its plan's
coverage. Each area gives a province (first 2 digits of its code) and, below
province level, a district (first 4 digits); a commune counts in its district.
When an action covers a whole province, its districts there are not listed
again (the province row already says "all of it").

Every builder reads a fixed number of queries whatever the number of actions:
actions with their organization and plan, their areas, the plans' coverage,
and the names of the provinces and districts in one query. Boundaries are never
read.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from plans.models import Action, Plan
from preparedness.csvexport import csv_text
from preparedness.models import AdminArea
from schools.models import School

# (column, HXL hashtag), in CSV order. Names come in English and Khmer
# (`+i_km` is HXL's language attribute).
THREE_W_COLUMNS: tuple[tuple[str, str], ...] = (
    ("organization", "#org"),
    ("organization_acronym", "#org+acronym"),
    ("sector", "#sector"),
    ("adm1_code", "#adm1+code"),
    ("adm1_name", "#adm1+name"),
    ("adm1_name_km", "#adm1+name+i_km"),
    ("adm2_code", "#adm2+code"),
    ("adm2_name", "#adm2+name"),
    ("adm2_name_km", "#adm2+name+i_km"),
    ("activity", "#activity"),
    ("action_id", "#activity+id"),
    ("status", "#status"),
    ("plan", "#meta+plan"),
    ("plan_id", "#meta+plan+id"),
    ("due_on", "#date+due"),
)

ACTION_COLUMNS: tuple[str, ...] = (
    "id",
    "title",
    "sector",
    "organization",
    "focal_person",
    "due_on",
    "status",
    "overdue",
    "progress",
    "areas",
    "schools",
)

_CODES_ONLY = AdminArea.objects.only("id", "code").order_by("code")
_SCHOOL_CODES = School.objects.only("pk", "code").order_by("code")


def three_w_actions(*, filters: Mapping[str, Any]) -> QuerySet[Action]:
    """Actions for the 3W table (`plan`, `status` of the plan, `province`), with
    what the rows need prefetched; boundaries and plan geometries left unread."""
    qs = (
        Action.objects.select_related("organization", "plan")
        .only(
            "id",
            "title",
            "sector",
            "status",
            "due_on",
            "plan_id",
            "plan__id",
            "plan__title",
            "plan__status",
            "organization_id",
            "organization__id",
            "organization__name",
            "organization__acronym",
        )
        .prefetch_related(
            Prefetch("areas", queryset=_CODES_ONLY),
            Prefetch("plan__coverage", queryset=_CODES_ONLY),
        )
    )
    if filters.get("plan"):
        qs = qs.filter(plan_id=filters["plan"])
    if filters.get("status"):
        qs = qs.filter(plan__status=filters["status"])
    if filters.get("province"):
        # Narrow in the database; rows outside the province are dropped later
        # (an action may also work in other provinces).
        province = filters["province"]
        in_own_areas = Action.areas.through.objects.filter(
            action_id=OuterRef("pk"), adminarea__code__startswith=province
        )
        no_areas = ~Exists(
            Action.areas.through.objects.filter(action_id=OuterRef("pk"))
        )
        in_coverage = Plan.coverage.through.objects.filter(
            plan_id=OuterRef("plan_id"), adminarea__code__startswith=province
        )
        qs = qs.filter(Exists(in_own_areas) | (no_areas & Exists(in_coverage)))
    return qs.order_by("id")


def _places(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(province, district) pairs an action's area codes stand for; a province
    covered whole leaves out its districts."""
    pairs = {(c[:2], c[:4] if len(c) >= 4 else "") for c in codes}
    whole = {p for p, d in pairs if not d}
    return sorted((p, d) for p, d in pairs if not d or p not in whole)


def three_w_rows(actions: Iterable[Action]) -> list[dict[str, Any]]:
    """One row per organization, sector, province, district and action."""
    placed: list[tuple[Action, list[tuple[str, str]]]] = []
    for action in actions:
        areas = [a.code for a in action.areas.all()] or [
            a.code for a in action.plan.coverage.all()
        ]
        placed.append((action, _places(areas)))
    wanted = {code for _, places in placed for pair in places for code in pair if code}
    names = {
        code: (name_en, name_km)
        for code, name_en, name_km in AdminArea.objects.filter(
            code__in=wanted
        ).values_list("code", "name_en", "name_km")
    }
    rows = []
    for action, places in placed:
        org = action.organization
        for province, district in places:
            rows.append(
                {
                    "organization": org.name,
                    "organization_acronym": org.acronym,
                    "sector": action.sector,
                    "adm1_code": province,
                    "adm1_name": names.get(province, ("", ""))[0],
                    "adm1_name_km": names.get(province, ("", ""))[1],
                    "adm2_code": district,
                    "adm2_name": names.get(district, ("", ""))[0],
                    "adm2_name_km": names.get(district, ("", ""))[1],
                    "activity": action.title,
                    "action_id": action.pk,
                    "status": action.status,
                    "plan": action.plan.title,
                    "plan_id": action.plan_id,
                    "due_on": action.due_on.isoformat(),
                }
            )
    rows.sort(
        key=lambda r: (
            r["organization"],
            r["sector"],
            r["adm1_code"],
            r["adm2_code"],
            r["due_on"],
            r["action_id"],
        )
    )
    return rows


def three_w(*, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The 3W rows for the filters; with `province`, only that province's rows."""
    rows = three_w_rows(three_w_actions(filters=filters))
    if filters.get("province"):
        rows = [r for r in rows if r["adm1_code"] == filters["province"]]
    return rows


def three_w_summary(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Actions counted by organization, sector and province (an action working
    in several districts of a province counts once there)."""
    seen = {
        (
            r["organization"],
            r["organization_acronym"],
            r["sector"],
            r["adm1_code"],
            r["adm1_name"],
            r["adm1_name_km"],
            r["action_id"],
        )
        for r in rows
    }
    counts = Counter(key[:-1] for key in seen)
    return [
        {
            "organization": org,
            "organization_acronym": acronym,
            "sector": sector,
            "adm1_code": code,
            "adm1_name": name_en,
            "adm1_name_km": name_km,
            "actions": n,
        }
        for (org, acronym, sector, code, name_en, name_km), n in sorted(counts.items())
    ]


def _csv(header: Sequence[str], extra: Sequence[Sequence[str]], rows: Iterable) -> str:
    """CSV text starting with a byte-order mark, so spreadsheets read Khmer."""
    return csv_text(header, rows, extra=extra)


def three_w_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The 3W rows as CSV: the header, the HXL hashtag row, then the data."""
    columns = [c for c, _ in THREE_W_COLUMNS]
    return _csv(
        columns,
        [[tag for _, tag in THREE_W_COLUMNS]],
        ([row[c] for c in columns] for row in rows),
    )


def plan_actions_csv(plan: Plan) -> str:
    """A plan's actions as CSV; areas and schools as `;`-joined codes."""
    today = timezone.localdate()
    actions = (
        plan.actions.select_related("organization")
        .prefetch_related(
            Prefetch("areas", queryset=_CODES_ONLY),
            Prefetch("schools", queryset=_SCHOOL_CODES),
        )
        .order_by("due_on", "id")
    )
    return _csv(
        ACTION_COLUMNS,
        [],
        (
            [
                a.pk,
                a.title,
                a.sector,
                str(a.organization),
                a.focal_person,
                a.due_on.isoformat(),
                a.status,
                "true"
                if a.status != Action.Status.DONE and a.due_on < today
                else "false",
                a.progress,
                ";".join(area.code for area in a.areas.all()),
                ";".join(school.code for school in a.schools.all()),
            ]
            for a in actions
        ),
    )


def plan_coverage_geojson(plan: Plan) -> dict[str, Any]:
    """The plan's coverage as a FeatureCollection of one Feature (EPSG:4326)."""
    geometry = plan.coverage_area
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(geometry.geojson) if geometry else None,
                "properties": {
                    "id": plan.pk,
                    "title": plan.title,
                    "status": plan.status,
                    "coverage": [
                        a.code for a in plan.coverage.only("code").order_by("code")
                    ],
                },
            }
        ],
    }
