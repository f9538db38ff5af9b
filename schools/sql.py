"""Set-based writes of schools and services, as SQL the ORM cannot say.

`places_upsert` creates or updates many places by code: the rows go to a
temporary table by binary COPY, then `INSERT ... SELECT ... ON CONFLICT (code)
DO UPDATE ... RETURNING (xmax = 0)` writes them in batches and counts the
created and updated rows from what it returns. Points travel as lon/lat floats
and become geometries in PostGIS (`ST_MakePoint`), never GEOS objects.

Why COPY rather than `unnest(%s::text[], ...)`: Django's psycopg cursor binds
parameters client-side, turning arrays into SQL text at about 5 us a value
(4-5 s for 100,000 schools); the binary COPY of the same rows takes 0.3 s
(docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime

from django.db import connection, models, transaction

from preparedness.spatial_sql import WGS84
from schools.models import Place

# Rows per INSERT; `progress` is called after each.
BATCH = 10_000
# The temporary table that places_upsert fills and drops.
STAGE_TABLE = "salasafe_place_stage"
# Binary COPY sends each value as an exact type: model field -> PostgreSQL type.
COPY_TYPES = {
    "CharField": "text",
    "TextField": "text",
    "SmallIntegerField": "int2",
    "PositiveSmallIntegerField": "int2",
    "IntegerField": "int4",
    "PositiveIntegerField": "int4",
    "BooleanField": "bool",
    "DateField": "date",
}


def places_upsert(
    *,
    model: type[Place],
    columns: Mapping[str, Sequence[object]],
    lon: Sequence[float],
    lat: Sequence[float],
    constants: Mapping[str, object],
    update: Collection[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Insert places, or update those whose code exists; return (created, updated).

    `columns` holds one value per row for model fields (`code` included),
    `lon`/`lat` each row's location in EPSG:4326 and `constants` one value for
    all rows. A new place gets them all; an existing one only the fields named
    in `update` (`location` included if named), so a field left out, such as
    `created_at`, keeps its stored value.
    """
    rows = len(lon)
    if not rows:
        return 0, 0
    if any(len(values) != rows for values in [lat, *columns.values()]):
        raise ValueError("every column needs one value per row")
    per_row = [_field(model, name) for name in columns]
    fixed = [_field(model, name) for name in constants]
    location = _field(model, "location")
    given = {f.column for f in [*per_row, *fixed, location]}
    assign = [_field(model, name).column for name in update]
    if not assign or not set(assign) <= given:
        raise ValueError(f"cannot update {sorted(update)} from {sorted(given)}")

    qn = connection.ops.quote_name
    stage = ", ".join(f"{qn(f.column)} {_copy_type(f)}" for f in per_row)
    select = [
        *(qn(f.column) for f in per_row),
        *(f"%s::{f.db_type(connection)}" for f in fixed),
        f"ST_SetSRID(ST_MakePoint(lon, lat), {WGS84})",
    ]
    insert = f"""
        INSERT INTO {qn(model._meta.db_table)}
            ({", ".join(qn(f.column) for f in [*per_row, *fixed, location])})
        SELECT {", ".join(select)} FROM {STAGE_TABLE}
        WHERE n >= %s AND n < %s ORDER BY n
        ON CONFLICT ({qn(_field(model, "code").column)}) DO UPDATE
        SET {", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in assign)}
        RETURNING (xmax = 0)
    """
    params = [
        f.get_db_prep_save(v, connection)
        for f, v in zip(fixed, constants.values(), strict=True)
    ]
    created = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE_TABLE} "
            f"(n int4, {stage}, lon float8, lat float8) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {STAGE_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", *map(_copy_type, per_row), "float8", "float8"])
            for row in zip(range(rows), *columns.values(), lon, lat, strict=True):
                copy.write_row(row)
        for start in range(0, rows, BATCH):
            cursor.execute(insert, [*params, start, start + BATCH])
            created += sum(inserted for (inserted,) in cursor.fetchall())
            if progress is not None:
                progress(min(start + BATCH, rows))
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return created, rows - created


def places_close(
    *, model: type[Place], codes: Sequence[str], today: date, now: datetime
) -> int:
    """Close the open places with these codes as of `today`; return how many."""
    if not codes:
        return 0
    qn = connection.ops.quote_name
    column = {
        name: qn(_field(model, name).column)
        for name in ("code", "status", "closed_on", "updated_at")
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {qn(model._meta.db_table)}
            SET {column["status"]} = %s, {column["closed_on"]} = %s,
                {column["updated_at"]} = %s
            WHERE {column["status"]} = %s AND {column["code"]} = ANY(%s::text[])
            """,
            [Place.Status.CLOSED, today, now, Place.Status.OPEN, list(codes)],
        )
        return cursor.rowcount


def _field(model: type[Place], name: str) -> models.Field:
    """The model field stored in a column, by field name or attname (commune_id)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.generated:
        raise ValueError(f"{model.__name__}.{name} is not a stored column")
    return field


def _copy_type(field: models.Field) -> str:
    """The PostgreSQL type that a field's values are copied as."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    try:
        return COPY_TYPES[target.get_internal_type()]
    except KeyError:
        raise TypeError(f"{field.name}: no COPY type for this field") from None


def school_safety_upsert(school_ids: Sequence[int] | None) -> int:
    """Point each school's current-state row at its latest submitted or verified
    assessment (newest date, then newest submission) and copy its scores, in one
    statement; drop the rows of schools left with none. None means every school.
    """
    only = "" if school_ids is None else "AND a.school_id = ANY(%(ids)s)"
    only_rows = "" if school_ids is None else "AND s.school_id = ANY(%(ids)s)"
    params = {"ids": list(school_ids or [])}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH current AS (
                SELECT DISTINCT ON (a.school_id) a.*
                FROM schools_assessment a
                WHERE a.status IN ('submitted', 'verified') {only}
                ORDER BY a.school_id, a.assessed_on DESC,
                         a.submitted_at DESC NULLS LAST, a.id DESC
            )
            INSERT INTO schools_schoolsafety AS s (
                school_id, assessment_id, assessed_on, framework_version, score,
                area_scores, critical_gaps, grade, verified, updated_at)
            SELECT c.school_id, c.id, c.assessed_on, f.version, c.score,
                   c.area_scores, c.critical_gaps, c.grade, c.status = 'verified', now()
            FROM current c JOIN schools_safetyframework f ON f.id = c.framework_id
            ON CONFLICT (school_id) DO UPDATE SET
                assessment_id = EXCLUDED.assessment_id,
                assessed_on = EXCLUDED.assessed_on,
                framework_version = EXCLUDED.framework_version,
                score = EXCLUDED.score,
                area_scores = EXCLUDED.area_scores,
                critical_gaps = EXCLUDED.critical_gaps,
                grade = EXCLUDED.grade,
                verified = EXCLUDED.verified,
                updated_at = EXCLUDED.updated_at
            WHERE (s.assessment_id, s.score, s.grade, s.verified, s.critical_gaps,
                   s.area_scores)
                  IS DISTINCT FROM
                  (EXCLUDED.assessment_id, EXCLUDED.score, EXCLUDED.grade,
                   EXCLUDED.verified, EXCLUDED.critical_gaps, EXCLUDED.area_scores)
            """,
            params,
        )
        written = cursor.rowcount
        cursor.execute(
            f"""
            DELETE FROM schools_schoolsafety s
            WHERE NOT EXISTS (
                SELECT 1 FROM schools_assessment a
                WHERE a.school_id = s.school_id
                  AND a.status IN ('submitted', 'verified'))
            {only_rows}
            """,
            params,
        )
        return written + cursor.rowcount
