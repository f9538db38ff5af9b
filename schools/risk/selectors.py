"""Reads of school risk: the priority list, its explanation fields, masking.

The priority list orders schools by risk score (highest first), then by
learners (more first), then by code, so ties always come out the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet

from preparedness.access import access_for, sensitive_scope_q
from schools.models import School, Service
from schools.risk.settings import risk_settings

User = AbstractBaseUser | AnonymousUser | None

# Kinds reported for every school (the list), in this order.
ACCESS_KINDS = (
    Service.Kind.CCWC,
    Service.Kind.SOCIAL_WORKER,
    Service.Kind.SAFE_SHELTER,
    Service.Kind.HEALTH_CENTRE,
    Service.Kind.POLICE_POST,
    Service.Kind.PSYCHOSOCIAL_SUPPORT,
    Service.Kind.EVACUATION_CENTRE,
)
ORDERINGS = {
    "risk": ("-risk__score", "-n_learners", "code"),
    "-risk": ("risk__score", "n_learners", "code"),
}


def access_gap_q(focal_point_km: float) -> Q:
    """Schools with no CCWC or social worker within `focal_point_km`."""
    return Q(access__focal_point_km__gt=focal_point_km) | Q(
        access__focal_point_km__isnull=True
    )


def priority_list(*, filters: Mapping[str, Any]) -> QuerySet[School]:
    """Open schools with their risk, filtered and ordered (default: riskiest first).

    `layer` keeps the schools exposed (class 1 or more) on that hazard layer;
    `bbox` and `within` (GEOS geometries in EPSG:4326) the schools inside them.
    """
    settings = risk_settings()
    qs = (
        School.objects.filter(status=School.Status.OPEN, risk__isnull=False)
        .select_related("risk", "safety", "access")
        .annotate(n_learners=F("enrolment_girls") + F("enrolment_boys"))
    )
    for key in ("province", "district", "commune"):
        if filters.get(key):
            qs = qs.filter(commune__code__startswith=filters[key])
    if filters.get("hazard_type"):
        qs = qs.filter(**{f"hazard_levels__{filters['hazard_type']}__gte": 1})
    if filters.get("layer"):
        qs = qs.filter(
            exposures__layer_id=filters["layer"], exposures__hazard_class__gte=1
        )
    for key in ("bbox", "within"):
        if filters.get(key) is not None:
            qs = qs.filter(location__intersects=filters[key])
    if filters.get("risk_class"):
        qs = qs.filter(risk__risk_class__in=filters["risk_class"])
    if filters.get("never_assessed") is not None:
        qs = qs.filter(risk__assessed=not filters["never_assessed"])
    if filters.get("access_gap") is not None:
        gap = access_gap_q(settings.focal_point_km)
        qs = qs.filter(gap) if filters["access_gap"] else qs.exclude(gap)
    if filters.get("level"):
        qs = qs.filter(level=filters["level"])
    if filters.get("evacuation_centre") is not None:
        qs = qs.filter(evacuation_centre=filters["evacuation_centre"])
    return qs.order_by(*ORDERINGS[filters.get("order") or "risk"])


def sensitive_visible(user: User, codes: Iterable[str] | None = None) -> set[str]:
    """Codes of the sensitive services `user` may see exactly (of `codes`, or all),
    by the one rule `preparedness.access.sensitive_scope_q` keeps."""
    services = Service.objects.filter(sensitive=True).filter(
        sensitive_scope_q(user, "commune__code")
    )
    if codes is not None:
        codes = set(codes)
        if not codes:
            return set()
        services = services.filter(code__in=codes)
    return set(services.values_list("code", flat=True))


def nearest_fields(nearest: Mapping[str, Any], visible: set[str]) -> dict[str, Any]:
    """Flat `nearest_<kind>_km` / `_code` fields; sensitive services the user may
    not see show only their kind and a distance rounded to the kilometre."""
    fields: dict[str, Any] = {}
    for kind in ACCESS_KINDS:
        entry = nearest.get(kind) or {}
        code, km = _masked(
            entry.get("code"), entry.get("km"), entry.get("sensitive"), visible
        )
        fields[f"nearest_{kind}_km"] = km
        fields[f"nearest_{kind}_code"] = code
        fields[f"nearest_{kind}_unavailable"] = bool(entry.get("unavailable"))
        code, km = _masked(
            entry.get("available_code"),
            entry.get("available_km"),
            entry.get("available_sensitive"),
            visible,
        )
        fields[f"nearest_available_{kind}_km"] = (
            km if entry.get("unavailable") else None
        )
        fields[f"nearest_available_{kind}_code"] = (
            code if entry.get("unavailable") else None
        )
    return fields


def _masked(
    code: str | None, km: float | None, sensitive: bool | None, visible: set[str]
) -> tuple[str | None, float | None]:
    if km is None:
        return None, None
    if sensitive and code not in visible:
        return None, float(math.floor(km + 0.5))
    return code, round(float(km), 2)


def sensitive_codes(schools: Iterable[School]) -> set[str]:
    """Codes of the sensitive services named in these schools' nearest lists."""
    codes: set[str] = set()
    for school in schools:
        access = getattr(school, "access", None)
        for entry in (access.nearest if access else {}).values():
            if entry.get("sensitive") and entry.get("code"):
                codes.add(entry["code"])
            if entry.get("available_sensitive") and entry.get("available_code"):
                codes.add(entry["available_code"])
    return codes


RISK_CLASS_CODES = {1: "very_low", 2: "low", 3: "medium", 4: "high", 5: "very_high"}


def checklist_details_visible(user: User) -> bool:
    """Whether `user` may see checklist details (critical gaps, CSS scores by
    area): logged-in users holding a role, never the public."""
    return bool(access_for(user).role)


def css_scores_visible(user: User) -> bool:
    """Whether `user` may see overall CSS scores and grades: logged-in roles,
    and the public when `SALASAFE_PUBLIC["css_scores"]` says so."""
    return checklist_details_visible(user) or bool(
        getattr(django_settings, "SALASAFE_PUBLIC", {}).get("css_scores", True)
    )


def priority_properties(
    school: School,
    visible: set[str],
    focal_point_km: float,
    *,
    user: User = None,
) -> dict[str, Any]:
    """The explanation fields of one school in the priority list and its exports.

    Checklist details (`critical_gaps`, `css_area_scores`) are None unless `user`
    is logged in with a role; `css_score`/`css_grade` too when they are not
    public (`SALASAFE_PUBLIC`). Without `user`, the public's view.
    """
    risk = school.risk
    details = checklist_details_visible(user)
    safety = getattr(school, "safety", None)
    scores = safety if css_scores_visible(user) else None
    access = getattr(school, "access", None)
    commune = school.commune_id
    return {
        "code": school.code,
        "name_en": school.name_en,
        "name_km": school.name_km,
        "province": commune[:2],
        "district": commune[:4],
        "commune": commune,
        "level": school.level,
        "learners": school.enrolment_girls + school.enrolment_boys,
        "girls": school.enrolment_girls,
        "boys": school.enrolment_boys,
        "learners_with_disabilities": school.learners_with_disabilities,
        "evacuation_centre": school.evacuation_centre,
        "risk_score": risk.score,
        "risk_class": RISK_CLASS_CODES[risk.risk_class],
        "hazard_exposure": risk.hazard_exposure,
        "vulnerability": risk.vulnerability,
        "coping_gap": risk.coping_gap,
        "hazard_level": school.hazard_level,
        "hazard_levels": dict(school.hazard_levels or {}),
        "assessed": risk.assessed,
        "css_score": scores.score if scores else None,
        "css_grade": scores.grade if scores else None,
        "css_area_scores": (dict(safety.area_scores) if safety else {})
        if details
        else None,
        "critical_gaps": (list(safety.critical_gaps) if safety else [])
        if details
        else None,
        "assessed_on": safety.assessed_on.isoformat() if safety else None,
        "focal_point_km": None
        if access is None or access.focal_point_km is None
        else round(access.focal_point_km, 2),
        "access_gap": access is None
        or access.focal_point_km is None
        or access.focal_point_km > focal_point_km,
        **nearest_fields(access.nearest if access else {}, visible),
    }
