"""Writes of plans, actions and activations: permissions, validation, audit.

Coordinators (and administrators) create and edit plans and actions; members of
an organization update that organization's actions. Every write runs in one
transaction, refuses bad input naming the field, and is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.classes import HazardType
from plans.models import Action, Activation, Plan, Sector, Transition, Trigger
from preparedness.access import Role, access_for, account
from preparedness.audit import Change, audit
from preparedness.errors import check_version
from preparedness.models import AdminArea, Organization
from schools.models import School

User = AbstractBaseUser | AnonymousUser | None
PLAN_FIELDS = (
    "title",
    "hazard_types",
    "season",
    "starts_on",
    "ends_on",
    "lead",
    "co_lead",
    "sectors",
    "coverage",
    "triggers",
    "review_on",
    "documents",
)
ACTION_FIELDS = (
    "title",
    "sector",
    "organization",
    "focal_person",
    "due_on",
    "status",
    "progress",
    "areas",
    "schools",
)
# What a member of the action's organization may change (not its owner or date).
MEMBER_ACTION_FIELDS = frozenset({"status", "progress", "focal_person"})


def may_manage_plans(by: User) -> bool:
    return access_for(by).has_role(Role.COORDINATOR, Role.ADMINISTRATOR)


def _require_manager(by: User) -> None:
    if not may_manage_plans(by):
        raise PermissionDenied(_("Only Forum coordinators manage plans."))


def _check_version(obj: Plan | Action, version: Any) -> None:
    check_version(
        obj.version,
        version,
        _(
            "This record was changed by someone else since you opened it "
            "(version %(theirs)s, yours %(yours)s). Nothing was saved."
        ),
    )


def _forum_member(value: Any, field: str) -> Organization | None:
    if value in (None, ""):
        return None
    org = (
        value
        if isinstance(value, Organization)
        else Organization.objects.filter(pk=value).first()
    )
    if org is None:
        raise ValidationError({field: _("No such organization.")})
    if not org.forum_member:
        raise ValidationError(
            {field: _("%(org)s is not a Forum member organization.") % {"org": org}}
        )
    return org


def _areas(
    codes: Sequence[str], field: str, *, level: str | None = None
) -> list[AdminArea]:
    """The current areas with these codes (of `level` when given), in order."""
    codes = [str(c) for c in codes]
    areas = AdminArea.objects.filter(code__in=codes, valid_to__isnull=True)
    if level is not None:
        areas = areas.filter(level=level)
    found = {a.code: a for a in areas}
    unknown = [c for c in codes if c not in found]
    if unknown:
        message = (
            _("Not a current Cambodian province: %(codes)s.")
            if level == AdminArea.Level.PROVINCE
            else _("Not a current Cambodian administrative area: %(codes)s.")
        )
        raise ValidationError({field: message % {"codes": ", ".join(unknown)}})
    return [found[c] for c in codes]


def _clean_plan(values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = _("Give the plan a title.")
    bad = [h for h in values.get("hazard_types") or [] if h not in HazardType.values]
    if bad or not values.get("hazard_types"):
        errors["hazard_types"] = _("Choose hazard types among: %(types)s.") % {
            "types": ", ".join(HazardType.values)
        }
    bad = [s for s in values.get("sectors") or [] if s not in Sector.values]
    if bad:
        errors["sectors"] = _("Unknown sectors: %(sectors)s.") % {
            "sectors": ", ".join(bad)
        }
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, dt.date) or not isinstance(ends, dt.date):
        errors["starts_on"] = _("Give the start and end dates.")
    elif ends < starts:
        errors["ends_on"] = _("The plan cannot end before it starts.")
    if errors:
        raise ValidationError(errors)


def _coverage_area(plan: Plan) -> None:
    """The plan's geometry: the union of its areas' boundaries (in PostGIS)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE plans_plan p SET coverage_area = (
                SELECT ST_Multi(ST_Union(a.boundary))
                FROM plans_plan_coverage c
                JOIN preparedness_adminarea a ON a.id = c.adminarea_id
                WHERE c.plan_id = p.id)
            WHERE p.id = %s
            """,
            [plan.pk],
        )


def _snapshot(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Organization):
        return str(value)
    if isinstance(value, list | tuple):
        return [_snapshot(v) for v in value]
    return value


@transaction.atomic
def plan_create(*, by: User, data: Mapping[str, Any]) -> Plan:
    """Create a draft plan (coordinators)."""
    _require_manager(by)
    values = dict(data)
    _clean_plan(values)
    coverage = _areas(values.pop("coverage", None) or [], "coverage")
    if not coverage:
        raise ValidationError(
            {"coverage": _("Give at least one area the plan covers.")}
        )
    values["lead"] = _forum_member(values.get("lead"), "lead")
    if values["lead"] is None:
        raise ValidationError({"lead": _("Give the lead organization.")})
    values["co_lead"] = _forum_member(values.get("co_lead"), "co_lead")
    specs = values.pop("measurable_triggers", None) or []
    plan = Plan.objects.create(**{k: v for k, v in values.items() if k in PLAN_FIELDS})
    plan.coverage.set(coverage)
    _coverage_area(plan)
    _create_triggers(plan, specs)
    audit(
        by,
        [
            Change(
                "plan",
                plan.pk,
                "created",
                {k: [None, _snapshot(v)] for k, v in data.items() if k in PLAN_FIELDS},
            )
        ],
    )
    return plan


def _create_triggers(plan: Plan, specs: Sequence[Mapping[str, Any]]) -> None:
    """Measurable triggers: a storm within a distance, or schools in a flood class."""
    rows = []
    for i, spec in enumerate(specs):
        kind = spec.get("kind")
        field = f"measurable_triggers[{i}]"
        if kind == Trigger.Kind.STORM:
            wind, km = spec.get("min_wind_kt"), spec.get("distance_km")
            if not (isinstance(wind, int | float) and wind > 0):
                raise ValidationError(
                    {field: _("Give the wind (kt) the storm must reach.")}
                )
            if not (isinstance(km, int | float) and 0 < km <= 2000):
                raise ValidationError({field: _("Give a distance from 0 to 2,000 km.")})
            rows.append(Trigger(plan=plan, kind=kind, min_wind_kt=wind, distance_km=km))
        elif kind == Trigger.Kind.FLOOD:
            klass, n = spec.get("min_class"), spec.get("min_schools")
            if klass not in (1, 2, 3, 4):
                raise ValidationError({field: _("Give a hazard class from 1 to 4.")})
            if not (isinstance(n, int) and n >= 0):
                raise ValidationError({field: _("Give a number of schools.")})
            rows.append(Trigger(plan=plan, kind=kind, min_class=klass, min_schools=n))
        else:
            raise ValidationError({field: _("A trigger is of kind storm or flood.")})
    Trigger.objects.bulk_create(rows)


@transaction.atomic
def plan_update(
    *, by: User, plan_id: int, version: Any, data: Mapping[str, Any]
) -> Plan:
    _require_manager(by)
    plan = Plan.objects.select_for_update().get(pk=plan_id)
    _check_version(plan, version)
    unknown = sorted(set(data) - set(PLAN_FIELDS))
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in unknown}
        )
    before = {f: getattr(plan, f) for f in PLAN_FIELDS if f != "coverage"}
    before["coverage"] = sorted(plan.coverage.values_list("code", flat=True))
    values = {**before, **data}
    _clean_plan(values)
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name == "coverage":
            areas = _areas(value, "coverage")
            if not areas:
                raise ValidationError(
                    {"coverage": _("Give at least one area the plan covers.")}
                )
            if sorted(a.code for a in areas) != before["coverage"]:
                plan.coverage.set(areas)
                changes[name] = [before["coverage"], sorted(a.code for a in areas)]
            continue
        if name in ("lead", "co_lead"):
            value = _forum_member(value, name)
            if name == "lead" and value is None:
                raise ValidationError({"lead": _("Give the lead organization.")})
        if getattr(plan, name) != value:
            changes[name] = [_snapshot(getattr(plan, name)), _snapshot(value)]
            setattr(plan, name, value)
    if not changes:
        return plan
    plan.version += 1
    plan.save()
    if "coverage" in changes:
        _coverage_area(plan)
    audit(by, [Change("plan", plan.pk, "changed", changes)])
    return plan


@transaction.atomic
def plan_transition(
    *,
    by: User,
    plan_id: int,
    to: str,
    why: str,
    trigger: str = "",
    areas: Sequence[str] | None = None,
) -> Plan:
    """Move a plan along its lifecycle; activating it snapshots the schools at risk."""
    _require_manager(by)
    plan = Plan.objects.select_for_update().get(pk=plan_id)
    allowed = Plan.TRANSITIONS[Plan.Status(plan.status)]
    if to not in allowed:
        raise ValidationError(
            {
                "to": _("A %(status)s plan can only become: %(allowed)s.")
                % {
                    "status": plan.get_status_display().lower(),
                    "allowed": ", ".join(
                        f"{code} ({Plan.Status(code).label})" for code in allowed
                    )
                    or _("nothing (it is closed)"),
                }
            }
        )
    if not why.strip():
        raise ValidationError({"why": _("Say why the plan changes status.")})
    now = timezone.now()
    Transition.objects.create(
        plan=plan,
        from_status=plan.status,
        to_status=to,
        by=account(by),
        at=now,
        why=why,
    )
    changes: dict[str, Any] = {"status": [plan.status, to], "why": [None, why]}
    if to == Plan.Status.ACTIVATED:
        affected = _areas(areas, "areas") if areas else list(plan.coverage.all())
        activation = Activation.objects.create(
            plan=plan,
            trigger=trigger.strip() or why,
            activated_on=timezone.localdate(),
            schools=schools_at_risk_snapshot([a.code for a in affected]),
            by=account(by),
        )
        activation.areas.set(affected)
        changes["activation"] = [None, activation.pk]
    plan.status = to
    plan.version += 1
    plan.save()
    audit(by, [Change("plan", plan.pk, "transition", changes)])
    return plan


def schools_at_risk_snapshot(area_codes: Sequence[str]) -> list[dict[str, Any]]:
    """Open schools in these areas with their risk now, riskiest first (one query)."""
    from django.db.models import Q

    where = Q(pk__in=[])
    for code in area_codes:
        where |= Q(commune__code__startswith=code)
    rows = (
        School.objects.filter(where, status=School.Status.OPEN)
        .select_related("risk", "safety")
        .order_by("-risk__score", "code")
    )
    return [
        {
            "code": s.code,
            "name_en": s.name_en,
            "name_km": s.name_km,
            "commune": s.commune_id,
            "learners": s.enrolment_girls + s.enrolment_boys,
            "hazard_level": s.hazard_level,
            "risk_score": getattr(getattr(s, "risk", None), "score", None),
            "risk_class": getattr(getattr(s, "risk", None), "risk_class", None),
            "css_score": getattr(getattr(s, "safety", None), "score", None),
        }
        for s in rows
    ]


# ---------------------------------------------------------------- actions


def may_update_action(by: User, action: Action) -> bool:
    access = access_for(by)
    return may_manage_plans(by) or (
        access.authenticated and access.organization_id == action.organization_id
    )


def _clean_action(plan: Plan, values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = _("Give the action a title.")
    if values.get("sector") not in Sector.values:
        errors["sector"] = _("Choose a sector among: %(s)s.") % {
            "s": ", ".join(Sector.values)
        }
    if values.get("status", Action.Status.NOT_STARTED) not in Action.Status.values:
        errors["status"] = _("Unknown status.")
    due = values.get("due_on")
    if not isinstance(due, dt.date):
        errors["due_on"] = _("Give a due date.")
    elif due < plan.starts_on:
        errors["due_on"] = _(
            "The due date cannot be before the plan starts (%(d)s)."
        ) % {"d": plan.starts_on.isoformat()}
    if errors:
        raise ValidationError(errors)


def _schools(codes: Sequence[str]) -> list[School]:
    found = {s.code: s for s in School.objects.filter(code__in=list(codes))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(
            {
                "schools": _("No school has these codes: %(c)s.")
                % {"c": ", ".join(unknown)}
            }
        )
    return [found[c] for c in codes]


@transaction.atomic
def action_create(*, by: User, plan_id: int, data: Mapping[str, Any]) -> Action:
    _require_manager(by)
    plan = Plan.objects.get(pk=plan_id)
    values = dict(data)
    _clean_action(plan, values)
    org = _forum_member(values.get("organization"), "organization")
    if org is None:
        raise ValidationError({"organization": _("Give the responsible organization.")})
    areas = _areas(values.pop("areas", None) or [], "areas")
    schools = _schools(values.pop("schools", None) or [])
    values["organization"] = org
    action = Action.objects.create(
        plan=plan, **{k: v for k, v in values.items() if k in ACTION_FIELDS}
    )
    action.areas.set(areas)
    action.schools.set(schools)
    audit(
        by,
        [
            Change(
                "plan_action",
                action.pk,
                "created",
                {
                    k: [None, _snapshot(v)]
                    for k, v in data.items()
                    if k in ACTION_FIELDS
                },
                note=f"plan {plan.pk}",
            )
        ],
    )
    return action


@transaction.atomic
def action_update(
    *, by: User, action_id: int, version: Any, data: Mapping[str, Any]
) -> Action:
    action = Action.objects.select_for_update().select_related("plan").get(pk=action_id)
    if not may_update_action(by, action):
        raise PermissionDenied(
            _("Only coordinators and the action's organization update it.")
        )
    if not may_manage_plans(by):
        refused = sorted(set(data) - MEMBER_ACTION_FIELDS)
        if refused:
            raise PermissionDenied(
                _(
                    "Your organization may update only the status, progress "
                    "and focal person."
                )
            )
    _check_version(action, version)
    unknown = sorted(set(data) - set(ACTION_FIELDS))
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in unknown}
        )
    values = {
        f: getattr(action, f) for f in ACTION_FIELDS if f not in ("areas", "schools")
    }
    values.update({k: v for k, v in data.items() if k not in ("areas", "schools")})
    _clean_action(action.plan, values)
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name == "areas":
            action.areas.set(_areas(value, "areas"))
            changes[name] = [None, list(value)]
            continue
        if name == "schools":
            action.schools.set(_schools(value))
            changes[name] = [None, list(value)]
            continue
        if name == "organization":
            value = _forum_member(value, "organization")
            if value is None:
                raise ValidationError(
                    {"organization": _("Give the responsible organization.")}
                )
        if getattr(action, name) != value:
            changes[name] = [_snapshot(getattr(action, name)), _snapshot(value)]
            setattr(action, name, value)
    if not changes:
        return action
    action.version += 1
    action.save()
    audit(
        by,
        [
            Change(
                "plan_action",
                action.pk,
                "changed",
                changes,
                note=f"plan {action.plan_id}",
            )
        ],
    )
    return action
