"""Writes of schools and services."""

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from preparedness.access import may_edit_in_area
from preparedness.readers import ImportRejected, ReadError, RowError, read_table
from schools.importing import (
    SCHOOLS,
    SERVICES,
    Checked,
    CleanRow,
    PlaceKind,
    check_places,
)
from schools.models import Place, School, Service
from schools.risk.services import risk_recompute
from schools.sql import places_close, places_upsert

T = TypeVar("T")
P = TypeVar("P", bound=Place)

SCHOOL_EDITABLE_FIELDS = frozenset(
    {
        "name_en",
        "name_km",
        "level",
        "enrolment_girls",
        "enrolment_boys",
        "learners_with_disabilities",
        "evacuation_centre",
    }
)


@transaction.atomic
def school_update(
    *, school: School, by: AbstractBaseUser | AnonymousUser | None, data: dict
) -> School:
    """Change the editable fields of a school as `by`, checked by `full_clean`."""
    if not may_edit_in_area(by, school.commune_id):
        raise PermissionDenied(_("You may not change schools in this area."))
    unknown = sorted(set(data) - SCHOOL_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed.") for name in unknown}
        )
    for name, value in data.items():
        setattr(school, name, value)
    school.full_clean()
    school.save(update_fields=[*data, "updated_at"])
    risk_recompute([school.pk])  # learners feed exposure and vulnerability
    return school


def places_follow_up() -> float:
    """After schools or services change: their exposure to the active hazard
    layers, the nearest services of every school, and risk (all, set-wise).
    Returns the seconds taken."""
    from schools.exposure import exposure_recompute
    from schools.risk.nearest import nearest_services_refresh
    from schools.risk.services import risk_recompute

    started = time.perf_counter()
    with transaction.atomic():
        exposure_recompute()
        nearest_services_refresh()
        risk_recompute()
    return time.perf_counter() - started


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read, schools or services created, updated, closed."""

    read: int
    created: int
    updated: int
    closed: int
    rejected: list[RowError]


# Called with (rows written so far, rows to write) after each batch.
Progress = Callable[[int, int], None]


@transaction.atomic
def school_import(
    *,
    path: Path | str,
    mapping: Mapping[str, str] | None = None,
    srid: int | None = None,
    sheet: str | None = None,
    skip_bad_rows: bool = False,
    close_missing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update schools from a file by EMIS code; nothing if a row is bad."""
    result, _ = _place_import(
        SCHOOLS,
        path=path,
        mapping=mapping,
        srid=srid,
        sheet=sheet,
        skip_bad_rows=skip_bad_rows,
        close_missing=close_missing,
        progress=progress,
    )
    return result


@transaction.atomic
def service_import(
    *,
    path: Path | str,
    mapping: Mapping[str, str] | None = None,
    srid: int | None = None,
    sheet: str | None = None,
    skip_bad_rows: bool = False,
    close_missing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update services from a file by code; nothing if a row is bad."""
    result, checked = _place_import(
        SERVICES,
        path=path,
        mapping=mapping,
        srid=srid,
        sheet=sheet,
        skip_bad_rows=skip_bad_rows,
        close_missing=close_missing,
        progress=progress,
    )
    if "sensitive" not in checked.fields:
        # No sensitive column: a (possibly new) safe shelter stays hidden.
        codes = [str(row.values["code"]) for row in checked.rows]
        for batch in _batches(codes):
            Service.objects.filter(
                code__in=batch, kind__in=Service.SENSITIVE_BY_DEFAULT, sensitive=False
            ).update(sensitive=True)
    return result


def _place_import(
    kind: PlaceKind,
    *,
    path: Path | str,
    mapping: Mapping[str, str] | None,
    srid: int | None,
    sheet: str | None,
    skip_bad_rows: bool,
    close_missing: bool,
    progress: Progress | None,
) -> tuple[ImportResult, Checked]:
    table = read_table(path, sheet=sheet, srid=srid)
    checked = check_places(table, kind=kind, mapping=mapping, srid=srid)
    if checked.errors and not skip_bad_rows:
        raise ImportRejected(checked.errors, read=len(table.rows))
    if close_missing and not checked.codes:
        raise ReadError(f"{table.name} has no rows: --close-missing would close all")
    update_fields = [*sorted(checked.fields - {"code"}), "status", "closed_on"]
    created, updated = _upsert(kind.model, checked.rows, update_fields, progress)
    closed = _close_missing(kind.model, keep=checked.codes) if close_missing else 0
    result = ImportResult(
        read=len(table.rows),
        created=created,
        updated=updated,
        closed=closed,
        rejected=checked.errors,
    )
    return result, checked


def _upsert(
    model: type[P],
    rows: Sequence[CleanRow],
    update_fields: list[str],
    progress: Progress | None,
) -> tuple[int, int]:
    """Insert or update `rows` by code, set-based; return (created, updated).

    New places are open and get every field (model defaults for those the file
    lacks); existing ones get `update_fields`, so created_at never changes.
    """
    if not rows:
        return 0, 0
    given = rows[0].values.keys()
    columns = {name: [row.values[name] for row in rows] for name in given}
    now = timezone.now()
    constants: dict[str, object] = {
        f.attname: f.get_default()
        for f in model._meta.concrete_fields
        if not (f.primary_key or f.generated or f.attname in given)
        and f.name != "location"
    }
    opened = {"status": Place.Status.OPEN, "closed_on": None}
    constants |= {**opened, "created_at": now, "updated_at": now}
    return places_upsert(
        model=model,
        columns=columns,
        lon=[row.lon for row in rows],
        lat=[row.lat for row in rows],
        constants=constants,
        update=[*update_fields, "updated_at"],
        progress=None if progress is None else lambda done: progress(done, len(rows)),
    )


def _close_missing(model: type[P], *, keep: frozenset[str]) -> int:
    """Close the open places whose code is not in `keep`; never delete them."""
    places = model._default_manager
    open_codes = places.filter(status=Place.Status.OPEN).values_list("code", flat=True)
    missing = sorted(set(open_codes) - keep)
    return places_close(
        model=model, codes=missing, today=timezone.localdate(), now=timezone.now()
    )


def _batches(items: Sequence[T], size: int = 1000) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
