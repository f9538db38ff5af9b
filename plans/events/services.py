"""Writes of emergency events and school status reports (situation reports).

Coordinators open and close events; education officials report on the schools
of their areas inside the affected provinces (coordinators anywhere). A batch
of reports is written whole or not at all, errors naming the row and field,
and every report and correction is audited with its before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.classes import HazardType
from plans.models import Activation, Event, StatusReport
from plans.services import User, _areas, may_manage_plans
from preparedness.access import Role, access_for, account
from preparedness.audit import Change, audit
from preparedness.models import AdminArea
from schools.models import School

EVENT_FIELDS = (
    "name",
    "hazard_type",
    "starts_on",
    "ends_on",
    "provinces",
    "activation",
)
REPORT_FIELDS = ("status", "flooded", "damaged", "shelter", "learners_affected", "note")
MAX_BATCH = 5000


def _require_manager(by: User) -> None:
    if not may_manage_plans(by):
        raise PermissionDenied(_("Only Forum coordinators open and close events."))


def _provinces(codes: Sequence[str]) -> list[AdminArea]:
    provinces = _areas(codes, "provinces", level=AdminArea.Level.PROVINCE)
    if not provinces:
        raise ValidationError({"provinces": _("Give the affected provinces.")})
    return provinces


def _clean_event(values: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = _("Give the event a name.")
    if values.get("hazard_type") not in HazardType.values:
        errors["hazard_type"] = _("Choose a hazard type among: %(types)s.") % {
            "types": ", ".join(HazardType.values)
        }
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if not isinstance(starts, dt.date):
        errors["starts_on"] = _("Give the date the event started.")
    elif starts > timezone.localdate():
        errors["starts_on"] = _("An event cannot start in the future.")
    elif ends is not None and ends < starts:
        errors["ends_on"] = _("The event cannot end before it starts.")
    activation = values.get("activation")
    if activation is not None and not isinstance(activation, Activation):
        found = Activation.objects.filter(pk=activation).first()
        if found is None:
            errors["activation"] = _("No such plan activation.")
        values["activation"] = found
    if errors:
        raise ValidationError(errors)


def _snapshot(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Activation):
        return value.pk
    return value


@transaction.atomic
def event_create(*, by: User, data: Mapping[str, Any]) -> Event:
    """Open an event (coordinators)."""
    _require_manager(by)
    values = {k: v for k, v in data.items() if k in EVENT_FIELDS}
    _clean_event(values)
    provinces = _provinces(values.pop("provinces", None) or [])
    event = Event.objects.create(created_by=account(by), **values)
    event.provinces.set(provinces)
    changes = {k: [None, _snapshot(v)] for k, v in values.items()}
    changes["provinces"] = [None, [p.code for p in provinces]]
    audit(by, [Change("event", event.pk, "created", changes)])
    return event


@transaction.atomic
def event_update(*, by: User, event_id: int, data: Mapping[str, Any]) -> Event:
    """Rename, extend or close an event (set `ends_on`)."""
    _require_manager(by)
    event = Event.objects.select_for_update().get(pk=event_id)
    unknown = sorted(set(data) - set(EVENT_FIELDS))
    if unknown:
        raise ValidationError({n: _("This field cannot be changed.") for n in unknown})
    before = {f: getattr(event, f) for f in EVENT_FIELDS if f != "provinces"}
    before_provinces = sorted(event.provinces.values_list("code", flat=True))
    values = {**before, **{k: v for k, v in data.items() if k != "provinces"}}
    _clean_event(values)
    changes: dict[str, Any] = {}
    for name in EVENT_FIELDS:
        if name == "provinces" or name not in data:
            continue
        if before[name] != values[name]:
            changes[name] = [_snapshot(before[name]), _snapshot(values[name])]
            setattr(event, name, values[name])
    if "provinces" in data:
        provinces = _provinces(data["provinces"])
        codes = sorted(p.code for p in provinces)
        if codes != before_provinces:
            event.provinces.set(provinces)
            changes["provinces"] = [before_provinces, codes]
    if changes:
        event.save()
        audit(by, [Change("event", event.pk, "changed", changes)])
    return event


# ---------------------------------------------------------------- reports


def may_report(by: User) -> bool:
    return access_for(by).has_role(
        Role.EDUCATION_OFFICIAL, Role.COORDINATOR, Role.ADMINISTRATOR
    )


def _row_values(
    event: Event, row: Mapping[str, Any], school: School, today: dt.date
) -> tuple[dict[str, Any], dict[str, str]]:
    """A report's values, and the problems with them by field."""
    errors: dict[str, str] = {}
    day = row.get("reported_on") or today
    if not isinstance(day, dt.date):
        errors["reported_on"] = _("Give the date as YYYY-MM-DD.")
    elif day < event.starts_on:
        errors["reported_on"] = _("The event started on %(d)s.") % {
            "d": event.starts_on.isoformat()
        }
    elif day > today:
        errors["reported_on"] = _("A report cannot be dated in the future.")
    elif event.ends_on is not None and day > event.ends_on:
        errors["reported_on"] = _("The event ended on %(d)s.") % {
            "d": event.ends_on.isoformat()
        }
    status = row.get("status")
    if status not in StatusReport.Status.values:
        errors["status"] = _("Say whether the school is open or closed.")
    learners = row.get("learners_affected", 0)
    if not isinstance(learners, int) or isinstance(learners, bool) or learners < 0:
        errors["learners_affected"] = _("Give a whole number of learners, 0 or more.")
    elif learners > school.learners:
        errors["learners_affected"] = _(
            "More than the %(n)s learners this school has."
        ) % {"n": school.learners}
    values = {
        "reported_on": day,
        "status": status,
        "flooded": bool(row.get("flooded", False)),
        "damaged": bool(row.get("damaged", False)),
        "shelter": bool(row.get("shelter", False)),
        "learners_affected": learners,
        "note": str(row.get("note") or "").strip(),
    }
    return values, errors


@transaction.atomic
def reports_submit(
    *, by: User, event_id: int, rows: Sequence[Mapping[str, Any]]
) -> list[StatusReport]:
    """Write school status reports, all of them or none.

    Each row names a school by `school` (its code) and gives `status`, the
    flags, `learners_affected`, `note` and `reported_on` (default today). A
    second report of a school on the same day corrects the first.
    """
    if not may_report(by):
        raise PermissionDenied(
            _("Only education officials and coordinators report school status.")
        )
    event = Event.objects.get(pk=event_id)
    if not rows:
        raise ValidationError({"reports": _("Send at least one report.")})
    if len(rows) > MAX_BATCH:
        raise ValidationError(
            {"reports": _("Send at most %(n)s reports at once.") % {"n": MAX_BATCH}}
        )
    access = access_for(by)
    provinces = set(event.provinces.values_list("code", flat=True))
    codes = [str(row.get("school") or "") for row in rows]
    schools = {s.code: s for s in School.objects.filter(code__in=codes)}
    today = timezone.localdate()
    errors: dict[str, Any] = {}
    parsed: list[tuple[School, dict[str, Any]]] = []
    seen: set[tuple[str, dt.date]] = set()
    for i, (code, row) in enumerate(zip(codes, rows, strict=True)):
        where = f"reports[{i}]"
        school = schools.get(code)
        if school is None:
            errors[f"{where}.school"] = _("No school has the code %(c)s.") % {
                "c": code or "''"
            }
            continue
        area = school.commune_id
        if area[:2] not in provinces:
            errors[f"{where}.school"] = _(
                "%(c)s is not in a province this event affects."
            ) % {"c": code}
            continue
        if not (access.nationwide or access.covers(area)):
            raise PermissionDenied(
                _("%(where)s: %(c)s is outside your areas.")
                % {"where": where, "c": code}
            )
        values, problems = _row_values(event, row, school, today)
        errors.update({f"{where}.{k}": v for k, v in problems.items()})
        key = (code, values["reported_on"])
        if not problems and key in seen:
            errors[f"{where}.school"] = _(
                "%(c)s is reported twice for %(d)s in this batch."
            ) % {"c": code, "d": values["reported_on"].isoformat()}
        seen.add(key)
        parsed.append((school, values))
    if errors:
        raise ValidationError(errors)
    return _write_reports(by, event, parsed)


def _write_reports(
    by: User, event: Event, parsed: Sequence[tuple[School, dict[str, Any]]]
) -> list[StatusReport]:
    """Create the new reports and correct the same-day ones, in a few queries."""
    existing = {
        (r.school_id, r.reported_on): r
        for r in StatusReport.objects.select_for_update().filter(
            event=event,
            school_id__in=[s.pk for s, _v in parsed],
            reported_on__in={v["reported_on"] for _s, v in parsed},
        )
    }
    created: list[StatusReport] = []
    updated: list[StatusReport] = []
    changes: list[tuple[StatusReport, str, dict[str, Any]]] = []
    who = account(by)
    for school, values in parsed:
        report = existing.get((school.pk, values["reported_on"]))
        if report is None:
            report = StatusReport(event=event, school=school, by=who, **values)
            created.append(report)
            diff = {f: [None, values[f]] for f in REPORT_FIELDS}
            changes.append((report, "reported", diff))
            continue
        diff = {
            f: [getattr(report, f), values[f]]
            for f in REPORT_FIELDS
            if getattr(report, f) != values[f]
        }
        if diff:
            for f in REPORT_FIELDS:
                setattr(report, f, values[f])
            report.by = who
            report.updated_at = timezone.now()  # bulk_update skips auto_now
            updated.append(report)
            changes.append((report, "corrected", diff))
    StatusReport.objects.bulk_create(created)
    if updated:
        StatusReport.objects.bulk_update(updated, [*REPORT_FIELDS, "by", "updated_at"])
    audit(
        by,
        [
            Change(
                "school_status",
                report.pk,
                action,
                diff,
                note=f"event {event.pk}, school {report.school.code}, "
                f"{report.reported_on.isoformat()}",
            )
            for report, action, diff in changes
        ],
    )
    return [r for r, _a, _d in changes]
