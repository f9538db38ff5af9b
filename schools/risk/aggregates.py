"""Risk aggregates per administrative unit, and the candidate safe places.

`risk_aggregates` answers, for every province, district or commune (or those
under a parent), the table coordinators paste into reports: schools and
learners by risk class, schools never assessed, mean CSS score by area, the
share with critical gaps, access gaps, and services by kind with how many are
exposed. The first row is the total (Cambodia, or the parent unit), computed by
the same statement as the unit rows (GROUPING SETS), so the unit rows add up to
it. A fixed handful of statements whatever the number of schools or units.

`safe_places` lists the open schools exposed to no active hazard layer, closest
to an exposed school first: the most useful alternative learning sites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Model, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from hazards.classes import HazardClass, HazardType
from preparedness.access import sensitive_scope_q
from preparedness.models import CODE_LENGTH, AdminArea
from schools.models import (
    School,
    SchoolAccess,
    SchoolRisk,
    SchoolSafety,
    Service,
)
from schools.risk.selectors import RISK_CLASS_CODES
from schools.risk.settings import risk_settings

User = AbstractBaseUser | AnonymousUser | None

CSS_AREAS = ("F", "P1", "P2", "P3")
SERVICE_KINDS: tuple[str, ...] = tuple(kind.value for kind in Service.Kind)
HAZARD_CLASSES: tuple[int, ...] = tuple(HazardClass.values)
NATION = {"code": "", "name_en": "Cambodia", "name_km": "កម្ពុជា"}
# Exposed schools counted around a safe place.
NEARBY_KM = 10
OPEN = School.Status.OPEN.value


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# ------------------------------------------------------------------ units


def _units(level: str, parent: str | None) -> tuple[dict[str, Any], list[dict]]:
    """The total row's identity and the units of `level` (under `parent`), with
    retired units too (they are kept only if they hold open places). One query."""
    n = CODE_LENGTH[level]
    if parent is not None and len(parent) >= n:
        if n == CODE_LENGTH["province"]:
            message = _("Provinces have no parent area: leave parent out.")
        else:
            message = _(
                "Give the code of an area above the %(level)s level "
                "(fewer than %(digits)d digits)."
            ) % {"level": AdminArea.Level(level).label.lower(), "digits": n}
        raise ValidationError({"parent": message})
    q = Q(level=level)
    if parent:
        q = (q & Q(code__startswith=parent)) | Q(code=parent)
    rows = list(
        AdminArea.objects.filter(q)
        .order_by("code")
        .values("code", "level", "name_en", "name_km", "valid_to")
    )
    total = dict(NATION)
    if parent:
        found = [r for r in rows if r["code"] == parent]
        if not found:
            raise ValidationError(
                {
                    "parent": _("No administrative area has the code %(code)s.")
                    % {"code": parent}
                }
            )
        area = found[0]
        total = {
            "code": area["code"],
            "name_en": area["name_en"],
            "name_km": area["name_km"],
        }
    units = [
        {
            "code": r["code"],
            "name_en": r["name_en"],
            "name_km": r["name_km"],
            "current": r["valid_to"] is None,
        }
        for r in rows
        if r["level"] == level and r["code"] != parent
    ]
    return total, units


def _assemble(
    total: dict[str, Any],
    units: Sequence[dict],
    values: Mapping[str | None, dict[str, Any]],
    zero: dict[str, Any],
) -> list[dict[str, Any]]:
    """The total row then one row per unit: current units always (zeros when
    empty), retired units or unknown codes only when they hold data."""
    rows = [{**total, **values.get(None, zero)}]
    known = set()
    for unit in units:
        known.add(unit["code"])
        if unit["current"] or unit["code"] in values:
            ident = {k: unit[k] for k in ("code", "name_en", "name_km")}
            rows.append({**ident, **values.get(unit["code"], zero)})
    orphans = sorted(code for code in values if code is not None and code not in known)
    rows += [
        {"code": code, "name_en": "", "name_km": "", **values[code]} for code in orphans
    ]
    rows[1:] = sorted(rows[1:], key=lambda row: row["code"])
    return rows


# ------------------------------------------------------------- the table


def _school_metrics_sql() -> str:
    classes = RISK_CLASS_CODES.items()
    counts = [
        f"count(*) FILTER (WHERE risk_class = {k}) AS schools_{c}" for k, c in classes
    ]
    learners = [
        f"coalesce(sum(learners) FILTER (WHERE risk_class = {k}), 0) AS learners_{c}"
        for k, c in classes
    ]
    areas = [
        f"avg(CASE WHEN jsonb_typeof(area_scores -> '{a}') = 'number' "
        f"THEN (area_scores ->> '{a}')::float8 END) AS \"mean_css_{a}\""
        for a in CSS_AREAS
    ]
    return f"""
        WITH s AS (
            SELECT substr(s.commune_code, 1, %(n)s) AS unit,
                   s.enrolment_girls + s.enrolment_boys AS learners,
                   r.risk_class, r.school_id IS NOT NULL AS computed,
                   sf.school_id IS NOT NULL AS assessed, sf.score, sf.area_scores,
                   coalesce(jsonb_typeof(sf.critical_gaps) = 'array'
                            AND jsonb_array_length(sf.critical_gaps) > 0, false)
                       AS critical,
                   a.focal_point_km, s.evacuation_centre
            FROM {_table(School)} s
            LEFT JOIN {_table(SchoolRisk)} r ON r.school_id = s.id
            LEFT JOIN {_table(SchoolSafety)} sf ON sf.school_id = s.id
            LEFT JOIN {_table(SchoolAccess)} a ON a.school_id = s.id
            WHERE s.status = %(open)s AND s.commune_code LIKE %(prefix)s
        )
        SELECT grouping(unit) = 1 AS is_total, unit,
               count(*) AS schools,
               coalesce(sum(learners), 0) AS learners,
               {", ".join(counts)},
               {", ".join(learners)},
               count(*) FILTER (WHERE NOT computed) AS schools_not_computed,
               coalesce(sum(learners) FILTER (WHERE NOT computed), 0)
                   AS learners_not_computed,
               count(*) FILTER (WHERE assessed) AS assessed,
               count(*) FILTER (WHERE NOT assessed) AS never_assessed,
               avg(score) FILTER (WHERE assessed) AS mean_css,
               {", ".join(areas)},
               count(*) FILTER (WHERE assessed AND critical) AS schools_critical_gaps,
               (count(*) FILTER (WHERE assessed AND critical))::float8
                   / nullif(count(*) FILTER (WHERE assessed), 0)
                   AS share_critical_gaps,
               count(*) FILTER (WHERE focal_point_km IS NULL
                                   OR focal_point_km > %(focal)s) AS access_gaps,
               count(*) FILTER (WHERE evacuation_centre) AS evacuation_centres,
               coalesce(sum(learners) FILTER (WHERE evacuation_centre), 0)
                   AS learners_in_evacuation_centres
        FROM s
        GROUP BY GROUPING SETS ((unit), ())
    """


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("mean_css", *(f"mean_css_{a}" for a in CSS_AREAS)):
        if row.get(key) is not None:
            row[key] = round(float(row[key]), 2)
    if row.get("share_critical_gaps") is not None:
        row["share_critical_gaps"] = round(float(row["share_critical_gaps"]), 4)
    return row


def _fetch(sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _by_unit(rows: Iterable[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    """Grouped rows keyed by unit code (None for the total row)."""
    out: dict[str | None, dict[str, Any]] = {}
    for row in rows:
        key = None if row.pop("is_total") else row["unit"]
        row.pop("unit")
        out[key] = row
    return out


def _service_aggregates(
    n: int, parent: str | None, user: User
) -> dict[str | None, dict[str, Any]]:
    """Open services by kind and exposed (hazard class 1+), per unit and in total.

    Sensitive services (safe shelters) count only where the user may see them.
    Two queries: the same filtered queryset grouped by unit, then aggregated.
    """
    queryset = Service.objects.filter(status=Service.Status.OPEN)
    scope = sensitive_scope_q(user, "commune__code")
    # An empty Q means "everywhere"; OR-ing it would silently drop it.
    if scope:
        queryset = queryset.filter(Q(sensitive=False) | scope)
    if parent:
        queryset = queryset.filter(commune__code__startswith=parent)
    aggregates: dict[str, Any] = {}
    for kind in SERVICE_KINDS:
        aggregates[f"services_{kind}"] = Count("pk", filter=Q(kind=kind))
        aggregates[f"services_{kind}_exposed"] = Count(
            "pk", filter=Q(kind=kind, hazard_level__gte=1)
        )
    grouped = (
        queryset.annotate(unit=Substr(F("commune_id"), 1, n))
        .order_by()
        .values("unit")
        .annotate(**aggregates)
    )
    out: dict[str | None, dict[str, Any]] = {row.pop("unit"): row for row in grouped}
    out[None] = queryset.aggregate(**aggregates)
    return out


def _school_zero() -> dict[str, Any]:
    zero: dict[str, Any] = {"schools": 0, "learners": 0}
    for what in ("schools", "learners"):
        for code in RISK_CLASS_CODES.values():
            zero[f"{what}_{code}"] = 0
    zero.update(
        schools_not_computed=0,
        learners_not_computed=0,
        assessed=0,
        never_assessed=0,
        mean_css=None,
        **{f"mean_css_{a}": None for a in CSS_AREAS},
        schools_critical_gaps=0,
        share_critical_gaps=None,
        access_gaps=0,
        evacuation_centres=0,
        learners_in_evacuation_centres=0,
    )
    return zero


def _service_zero() -> dict[str, Any]:
    zero: dict[str, Any] = {}
    for kind in SERVICE_KINDS:
        zero[f"services_{kind}"] = 0
        zero[f"services_{kind}_exposed"] = 0
    return zero


def risk_aggregates(
    *, level: str, parent: str | None = None, by_hazard: bool = False, user: User
) -> list[dict[str, Any]]:
    """The total row, then one row per unit of `level` (under `parent`), ordered
    by code; with `by_hazard`, rows per (unit, hazard type, hazard class) instead.
    """
    if level not in CODE_LENGTH:
        raise ValidationError({"level": _("Choose province, district or commune.")})
    parent = parent or None
    total, units = _units(level, parent)
    n = CODE_LENGTH[level]
    prefix = (parent or "") + "%"
    if by_hazard:
        return _hazard_rows(total, units, n, prefix)
    schools = _by_unit(
        _fetch(
            _school_metrics_sql(),
            {
                "n": n,
                "prefix": prefix,
                "open": OPEN,
                "focal": risk_settings().focal_point_km,
            },
        )
    )
    schools = {key: _rounded(row) for key, row in schools.items()}
    services = _service_aggregates(n, parent, user)
    zero_schools, zero_services = _school_zero(), _service_zero()
    merged = {
        key: {**schools.get(key, zero_schools), **services.get(key, zero_services)}
        for key in set(schools) | set(services)
    }
    return _assemble(total, units, merged, {**zero_schools, **zero_services})


# ------------------------------------------------------- by hazard type


def _hazard_sql() -> str:
    top = max(HAZARD_CLASSES)
    return f"""
        WITH s AS (
            SELECT substr(s.commune_code, 1, %(n)s) AS unit,
                   s.enrolment_girls + s.enrolment_boys AS learners,
                   CASE WHEN jsonb_typeof(s.hazard_levels) = 'object'
                        THEN s.hazard_levels ELSE '{{}}'::jsonb END AS levels
            FROM {_table(School)} s
            WHERE s.status = %(open)s AND s.commune_code LIKE %(prefix)s
        ),
        types AS (
            SELECT DISTINCT key AS hazard_type
            FROM s, jsonb_object_keys(s.levels) AS key
        ),
        classed AS (
            SELECT s.unit, s.learners, t.hazard_type,
                   CASE WHEN jsonb_typeof(s.levels -> t.hazard_type) = 'number'
                        THEN least({top}, greatest(0,
                            round((s.levels ->> t.hazard_type)::numeric)::int))
                        ELSE 0 END AS hazard_class
            FROM s CROSS JOIN types t
        )
        SELECT grouping(unit) = 1 AS is_total, unit, hazard_type, hazard_class,
               count(*) AS schools, coalesce(sum(learners), 0) AS learners
        FROM classed
        GROUP BY GROUPING SETS ((unit, hazard_type, hazard_class),
                               (hazard_type, hazard_class))
    """


def _type_order(types: Iterable[str]) -> list[str]:
    known = [t for t in HazardType.values if t in types]
    return known + sorted(t for t in types if t not in HazardType.values)


def _type_label(hazard_type: str) -> str:
    if hazard_type in HazardType.values:
        return str(HazardType(hazard_type).label)
    return hazard_type


def _hazard_rows(
    total: dict[str, Any], units: Sequence[dict], n: int, prefix: str
) -> list[dict[str, Any]]:
    """One row per (unit, hazard type present, hazard class 0-4), zeros included:
    class 0 means not exposed to that type. One query."""
    found = _fetch(_hazard_sql(), {"n": n, "prefix": prefix, "open": OPEN})
    counts: dict[tuple[str | None, str, int], tuple[int, int]] = {}
    for row in found:
        key = None if row["is_total"] else row["unit"]
        counts[key, row["hazard_type"], row["hazard_class"]] = (
            row["schools"],
            row["learners"],
        )
    types = _type_order({t for _k, t, _c in counts})
    labels = {t: _type_label(t) for t in types}
    class_labels = {c: str(HazardClass(c).label) for c in HAZARD_CLASSES}
    with_data = {key for key, _t, _c in counts}
    identities = [total] + [
        {k: unit[k] for k in ("code", "name_en", "name_km")}
        for unit in units
        if unit["current"] or unit["code"] in with_data
    ]
    keys: list[str | None] = [None] + [u["code"] for u in identities[1:]]
    known = set(keys)
    for code in sorted(k for k in with_data if k not in known and k is not None):
        identities.append({"code": code, "name_en": "", "name_km": ""})
        keys.append(code)
    rows = []
    for key, ident in zip(keys, identities, strict=True):
        for hazard_type in types:
            for hazard_class in HAZARD_CLASSES:
                schools, learners = counts.get((key, hazard_type, hazard_class), (0, 0))
                rows.append(
                    {
                        **ident,
                        "hazard_type": hazard_type,
                        "hazard_type_label": labels[hazard_type],
                        "hazard_class": hazard_class,
                        "hazard_class_label": class_labels[hazard_class],
                        "schools": schools,
                        "learners": learners,
                    }
                )
    return rows


# ------------------------------------------------------------ safe places

# Open exposed schools, copied per request into an indexed temporary table: a
# KNN probe on the schools' own GiST index walks, on average, hundreds of
# unexposed neighbours before it meets an exposed school (most safe schools lie
# far from any exposure), about 15 times slower on the national demo data.
EXPOSED = "salasafe_exposed_school"


class SafePlaces:
    """Open schools exposed to no active layer, closest to an exposed school
    first (then by code), as a lazy sequence that a Django Paginator can page:
    `count()` is one query; a slice is read in one transaction holding the
    temporary table of exposed points, and yields dicts with `learners`,
    `nearest_exposed_km` (None when no school is exposed) and
    `exposed_within_10km`.
    """

    def __init__(self, filters: Mapping[str, Any]) -> None:
        prefixes = [filters[k] for k in ("province", "district", "commune")]
        self.prefixes = [p + "%" for p in prefixes if p]

    def _where(self) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"open": OPEN, "none": HazardClass.NONE.value}
        where = ["s.status = %(open)s", "s.hazard_level = %(none)s"]
        for i, prefix in enumerate(self.prefixes):
            params[f"p{i}"] = prefix
            where.append(f"s.commune_code LIKE %(p{i})s")
        return " AND ".join(where), params

    def count(self) -> int:
        where, params = self._where()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {_table(School)} s WHERE {where}", params
            )
            return int(cursor.fetchone()[0])

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("SafePlaces supports plain slices only.")
        offset = index.start or 0
        limit = None if index.stop is None else max(0, index.stop - offset)
        if limit == 0:
            return []
        return self._page(offset, limit)

    def _page(self, offset: int, limit: int | None) -> list[dict[str, Any]]:
        where, params = self._where()
        params.update(offset=offset, limit=limit, m=NEARBY_KM * 1000.0)
        school = _table(School)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                SET LOCAL jit = off;
                DROP TABLE IF EXISTS pg_temp.{EXPOSED};
                CREATE TEMPORARY TABLE {EXPOSED} ON COMMIT DROP AS
                    SELECT location_utm FROM {school}
                    WHERE status = %(open)s AND hazard_level >= 1;
                CREATE INDEX ON pg_temp.{EXPOSED} USING gist (location_utm);
                """,
                {"open": OPEN},
            )
            cursor.execute(
                f"""
                WITH page AS (
                    SELECT s.id, s.location_utm, n.m / 1000.0 AS nearest_exposed_km
                    FROM {school} s
                    LEFT JOIN LATERAL (
                        SELECT e.location_utm <-> s.location_utm AS m
                        FROM pg_temp.{EXPOSED} e
                        ORDER BY e.location_utm <-> s.location_utm
                        LIMIT 1
                    ) n ON true
                    WHERE {where}
                    ORDER BY n.m NULLS LAST, s.code
                    LIMIT %(limit)s OFFSET %(offset)s
                )
                SELECT s.code, s.name_en, s.name_km, s.commune_code, s.level,
                       s.enrolment_girls + s.enrolment_boys AS learners,
                       s.evacuation_centre, ST_X(s.location) AS lon,
                       ST_Y(s.location) AS lat, p.nearest_exposed_km,
                       (SELECT count(*) FROM pg_temp.{EXPOSED} e
                        WHERE ST_DWithin(e.location_utm, p.location_utm, %(m)s))
                           AS exposed_within_10km
                FROM page p JOIN {school} s ON s.id = p.id
                ORDER BY p.nearest_exposed_km NULLS LAST, s.code
                """,
                params,
            )
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def safe_places(*, filters: Mapping[str, Any]) -> SafePlaces:
    """Open schools with hazard level 0 (no active layer reaches them), closest
    to an open exposed school (hazard level 1+) first; filters: province,
    district, commune codes. Pageable with a Django Paginator.

    Ordering needs the distance of every candidate (one KNN index probe each,
    on the temporary table); the count of exposed schools within 10 km
    (ST_DWithin) is read for the rows of the page only. Three statements a
    page: the count, the temporary table, the page.
    """
    return SafePlaces({k: filters.get(k) for k in ("province", "district", "commune")})
