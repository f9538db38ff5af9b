"""The province report: what the province page and its PDF show, read from the
other apps' selectors (risk aggregates, the priority list, plans).

The same `province_report` feeds the page and the PDF, so both always hold the
same numbers. A handful of queries whatever the size of the province.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils.translation import get_language

from maps import image_sql
from plans.models import Plan
from plans.selectors import percent_done, plan_list
from preparedness.models import AdminArea
from schools.risk import selectors as risk_selectors
from schools.risk.aggregates import risk_aggregates
from schools.risk.settings import risk_settings

User = AbstractBaseUser | AnonymousUser | None

TOP_SCHOOLS = 20


@dataclass
class ProvinceReport:
    province: AdminArea
    name: str
    other_name: str
    total: dict[str, Any]
    districts: list[dict[str, Any]]
    hazards: list[dict[str, Any]]
    schools: list[dict[str, Any]]
    schools_count: int
    plans: list[Plan] | None
    details: bool
    bbox: tuple[float, float, float, float] | None


def _km() -> bool:
    return (get_language() or "en").startswith("km")


def area_name(row: Any) -> str:
    """The Khmer or English name of an area row or object, by the language."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k, "")
    first, second = ("name_km", "name_en") if _km() else ("name_en", "name_km")
    return str(get(first) or get(second) or get("code"))


def _with_shares(row: dict[str, Any]) -> dict[str, Any]:
    at_risk = row["schools_high"] + row["schools_very_high"]
    return {
        **row,
        "name": area_name(row),
        "schools_at_risk": at_risk,
        "share_at_risk": at_risk / row["schools"] if row["schools"] else None,
    }


def _hazard_tables(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows per (unit, hazard type, class) as one table per hazard type: a row
    per unit (the province total first) with schools per class 0-4."""
    tables: dict[str, dict[str, Any]] = {}
    for row in rows:
        table = tables.setdefault(
            row["hazard_type"],
            {"type": row["hazard_type"], "label": row["hazard_type_label"], "rows": {}},
        )
        unit = table["rows"].setdefault(
            row["code"], {"code": row["code"], "name": area_name(row), "classes": {}}
        )
        unit["classes"][row["hazard_class"]] = row["schools"]
    return [
        {
            **table,
            "rows": [
                {**unit, "classes": [unit["classes"].get(c, 0) for c in range(5)]}
                for unit in table["rows"].values()
            ],
        }
        for table in tables.values()
    ]


def _top_schools(code: str, user: User) -> tuple[list[dict], int]:
    queryset = risk_selectors.priority_list(filters={"province": code})
    schools = list(queryset[:TOP_SCHOOLS])
    visible = risk_selectors.sensitive_visible(
        user, risk_selectors.sensitive_codes(schools)
    )
    focal = risk_settings().focal_point_km
    rows = []
    for rank, school in enumerate(schools, start=1):
        properties = risk_selectors.priority_properties(
            school, visible, focal, user=user
        )
        rows.append(
            {
                "rank": rank,
                "name": (properties["name_km"] if _km() else properties["name_en"])
                or properties["name_en"]
                or properties["name_km"],
                "risk_class_number": school.risk.risk_class,
                "risk_class_label": school.risk.get_risk_class_display(),
                "hazard_level_label": school.get_hazard_level_display(),
                **properties,
            }
        )
    return rows, queryset.count()


def province_report(*, code: str, user: User) -> ProvinceReport:
    """Everything the province page and PDF show, for `user` (Http404 for an
    unknown province code)."""
    province = AdminArea.objects.filter(
        code=code, level=AdminArea.Level.PROVINCE
    ).first()
    if province is None:
        raise Http404(code)
    # Checklist details (critical gaps) and plans: logged-in roles only.
    details = risk_selectors.checklist_details_visible(user)
    rows = risk_aggregates(level="district", parent=code, user=user)
    hazards = risk_aggregates(level="district", parent=code, by_hazard=True, user=user)
    schools, count = _top_schools(code, user)
    plans = None
    if details:
        plans = percent_done(list(plan_list(filters={"province": code})))
    name = area_name(province)
    other = province.name_en if _km() else province.name_km
    return ProvinceReport(
        province=province,
        name=name,
        other_name=other if other != name else "",
        total=_with_shares(rows[0]),
        districts=[_with_shares(row) for row in rows[1:]],
        hazards=_hazard_tables(hazards),
        schools=schools,
        schools_count=count,
        plans=plans,
        details=details,
        bbox=image_sql.area_extent(code),
    )
