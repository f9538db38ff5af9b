"""SQL of situation reports that the ORM cannot say: counts of each school's
latest status (DISTINCT ON) as of a date, by province and district."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection

COUNTS = ("reporting", "closed", "flooded", "damaged", "shelter", "learners_affected")


def sitrep_counts(event_id: int, as_of: dt.date) -> list[dict[str, Any]]:
    """Per district, per province and in all (`district`/`province` None): the
    schools reporting and how many are closed, flooded, damaged or sheltering,
    and the learners out of school, from each school's latest report on or
    before `as_of`. One query, grouping sets over the latest reports."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH latest AS (
                SELECT DISTINCT ON (r.school_id)
                       r.school_id, r.status, r.flooded, r.damaged, r.shelter,
                       r.learners_affected
                FROM plans_statusreport r
                WHERE r.event_id = %s AND r.reported_on <= %s
                ORDER BY r.school_id, r.reported_on DESC
            ), placed AS (
                SELECT l.*, substr(s.commune_code, 1, 2) AS province,
                       substr(s.commune_code, 1, 4) AS district
                FROM latest l
                JOIN schools_school s ON s.id = l.school_id
            )
            SELECT province, district,
                   count(*),
                   count(*) FILTER (WHERE status = 'closed'),
                   count(*) FILTER (WHERE flooded),
                   count(*) FILTER (WHERE damaged),
                   count(*) FILTER (WHERE shelter),
                   coalesce(sum(learners_affected), 0)
            FROM placed
            GROUP BY GROUPING SETS ((province, district), (province), ())
            """,
            [event_id, as_of],
        )
        return [
            {
                "province": row[0],
                "district": row[1],
                **dict(zip(COUNTS, row[2:], strict=True)),
            }
            for row in cursor.fetchall()
        ]
