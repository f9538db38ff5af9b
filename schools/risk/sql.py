"""Set-based reads and writes of school risk, as SQL the ORM cannot say.

`risk_inputs` reads what risk needs for every open school in one statement:
learners, level, hazard level, the current CSS score and critical gaps, and the
weighted value of the building-condition answers of the current assessment.
`risk_write` sends the scores back by binary COPY into a temporary table and
upserts them in one statement (only rows whose values changed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from django.db import connection

from schools.risk.scoring import RiskInputs, RiskScores

STAGE = "salasafe_risk_stage"


def risk_inputs(
    physical_items: Sequence[str], school_ids: Sequence[int] | None
) -> tuple[np.ndarray, RiskInputs]:
    """School ids and their risk inputs (open schools; all or those ids)."""
    only = "" if school_ids is None else "AND s.id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH physical AS (
                SELECT sf.school_id,
                       sum(i.weight * CASE a.choice WHEN 'yes' THEN 1.0
                                                    WHEN 'partial' THEN 0.5
                                                    ELSE 0.0 END)
                         / sum(i.weight) AS value
                FROM schools_schoolsafety sf
                JOIN schools_answer a ON a.assessment_id = sf.assessment_id
                JOIN schools_checklistitem i ON i.id = a.item_id
                WHERE i.code = ANY(%(items)s)
                  AND a.choice IN ('yes', 'partial', 'no')
                GROUP BY sf.school_id
            )
            SELECT s.id, s.level, s.enrolment_girls + s.enrolment_boys,
                   s.learners_with_disabilities, s.hazard_level,
                   sf.assessment_id IS NOT NULL, sf.score,
                   coalesce(jsonb_array_length(sf.critical_gaps), 0) > 0,
                   p.value
            FROM schools_school s
            LEFT JOIN schools_schoolsafety sf ON sf.school_id = s.id
            LEFT JOIN physical p ON p.school_id = s.id
            WHERE s.status = 'open' {only}
            ORDER BY s.id
            """,
            {"items": list(physical_items), "ids": list(school_ids or [])},
        )
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9

    def floats(values: tuple) -> np.ndarray:
        return np.array(
            [np.nan if v is None else float(v) for v in values], dtype=float
        )

    ids = np.array(columns[0], dtype=np.int64)
    return ids, RiskInputs(
        level=np.array(columns[1], dtype=object),
        learners=np.array(columns[2], dtype=np.int64),
        disabilities=np.array(columns[3], dtype=np.int64),
        hazard_level=np.array(columns[4], dtype=np.int64),
        assessed=np.array(columns[5], dtype=bool),
        css=floats(columns[6]),
        critical_gap=np.array(columns[7], dtype=bool),
        physical=floats(columns[8]),
    )


def risk_write(
    ids: np.ndarray,
    assessed: np.ndarray,
    scores: RiskScores,
    now: dt.datetime,
    *,
    school_ids: Sequence[int] | None,
) -> int:
    """Upsert the scores of these schools; drop rows of schools no longer open."""
    fields = (
        "hazard",
        "exposure",
        "hazard_exposure",
        "vulnerability_physical",
        "vulnerability_learners",
        "vulnerability",
        "coping_gap",
        "score",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (school_id bigint, "
            + ", ".join(f"{f} double precision" for f in fields)
            + ", risk_class smallint, assessed boolean) ON COMMIT DROP"
        )
        columns = [
            ids,
            *(getattr(scores, f) for f in fields),
            scores.risk_class,
            assessed,
        ]
        types = ["int8", *["float8"] * len(fields), "int2", "bool"]
        with cursor.cursor.copy(
            f"COPY {STAGE} FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(types)
            for row in zip(*(c.tolist() for c in columns), strict=True):
                copy.write_row(row)
        names = ", ".join((*fields, "risk_class", "assessed"))
        updates = ", ".join(
            f"{n} = EXCLUDED.{n}" for n in (*fields, "risk_class", "assessed")
        )
        cursor.execute(
            f"""
            INSERT INTO schools_schoolrisk AS r (school_id, {names}, computed_at)
            SELECT school_id, {names}, %(now)s FROM {STAGE}
            ON CONFLICT (school_id) DO UPDATE
            SET {updates}, computed_at = EXCLUDED.computed_at
            WHERE (r.score, r.risk_class, r.hazard_exposure, r.vulnerability,
                   r.coping_gap, r.assessed, r.hazard, r.exposure,
                   r.vulnerability_physical, r.vulnerability_learners)
                  IS DISTINCT FROM
                  (EXCLUDED.score, EXCLUDED.risk_class, EXCLUDED.hazard_exposure,
                   EXCLUDED.vulnerability, EXCLUDED.coping_gap, EXCLUDED.assessed,
                   EXCLUDED.hazard, EXCLUDED.exposure,
                   EXCLUDED.vulnerability_physical, EXCLUDED.vulnerability_learners)
            """,
            {"now": now},
        )
        written = cursor.rowcount
        only = "" if school_ids is None else "AND r.school_id = ANY(%(ids)s)"
        cursor.execute(
            f"""
            DELETE FROM schools_schoolrisk r
            WHERE NOT EXISTS (SELECT 1 FROM schools_school s
                              WHERE s.id = r.school_id AND s.status = 'open') {only}
            """,
            {"ids": list(school_ids or [])},
        )
        deleted = cursor.rowcount
        cursor.execute(f"DROP TABLE {STAGE}")
        return written + deleted
