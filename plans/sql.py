"""Spatial SQL of plans that the ORM cannot say: does a storm pass near a plan?"""

from __future__ import annotations

from django.db import connection


def storm_layer_near(
    plan_id: int, min_wind_kt: float, distance_km: float
) -> int | None:
    """The first active storm layer with a track segment of at least
    `min_wind_kt` passing within `distance_km` of the plan's coverage (metres
    on UTM 48N, on the tracks' indexed column), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.layer_id
            FROM plans_plan p
            JOIN hazards_stormtrack t
              ON ST_DWithin(t.path_utm, ST_Transform(p.coverage_area, 32648), %s)
            JOIN hazards_hazardlayer l ON l.id = t.layer_id AND l.active
            WHERE p.id = %s AND t.max_wind_kt >= %s
            ORDER BY t.layer_id
            LIMIT 1
            """,
            [distance_km * 1000.0, plan_id, min_wind_kt],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None
