"""The nearest open service of each kind to every school, in metres on UTM 48N.

`nearest_services_refresh` reads the UTM 48N coordinates of the open schools and
services once (two queries; PostGIS projects them: the `location_utm` columns),
finds the nearest service of each kind for every school with a k-d tree
(scipy's cKDTree, vectorised over all schools at once), and writes each school's
`SchoolAccess` row by binary COPY and one upsert (rows whose values did not
change are left alone). A second statement deletes the rows of schools now
closed. The number of queries does not depend on the number of schools.

Straight-line distances in metres on UTM zone 48N are what PostGIS's
`ST_Distance` on the same columns gives (the tests check it); lon/lat degrees
would pick a wrong "nearest" for a few schools in a thousand. Equal distances
(to the millimetre) go to the lowest code. When the nearest is in a hazard class
at or above `RiskSettings.unavailable_from_class` (likely unavailable), the
nearest available one of the kind is found the same way among the others.
Distances are rounded to the metre (km with three decimals).

Why not a nearest-neighbour (`<->`) query per kind: at 100,000 schools and nine
kinds the bare KNN queries alone take 30-50 s here, against a few seconds for
the tree; docs/benchmarks.md, "Risk and nearest services", has the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from django.db import connection, models, transaction
from scipy.spatial import cKDTree

from schools.models import Place, School, SchoolAccess, Service
from schools.risk.settings import risk_settings

KINDS: tuple[str, ...] = tuple(kind.value for kind in Service.Kind)
# A school's child-protection focal point: the nearest of these.
FOCAL_POINTS: tuple[str, ...] = (Service.Kind.CCWC, Service.Kind.SOCIAL_WORKER)
OPEN = Place.Status.OPEN.value
STAGE = "salasafe_access_stage"
TIE_M = 0.001  # distances within a millimetre are a tie
TIES_LOOKED_AT = 4


def nearest_services_refresh(school_ids: Sequence[int] | None = None) -> int:
    """Recompute the nearest open service of each kind (and, for one likely
    unavailable, the nearest available one) and the focal point distance of every
    open school, or of the schools `school_ids`; delete the rows of those closed.

    Returns how many `SchoolAccess` rows were inserted, updated or deleted.
    """
    settings = risk_settings()
    with transaction.atomic(), connection.cursor() as cursor:
        # Two refreshes queue here instead of racing on the same rows.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('schools.nearest'))")
        ids, schools_xy = _schools(cursor, school_ids)
        services = _services(cursor)
        nearest, focal = _nearest(schools_xy, services, settings.unavailable_from_class)
        written = _write(cursor, ids, nearest, focal)
        cursor.execute(*_delete_closed_sql(school_ids))
        return written + cursor.rowcount


def _schools(
    cursor: Any, school_ids: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    only, params = "", {}
    if school_ids is not None:
        only = "AND s.id = ANY(%(ids)s::bigint[])"
        params["ids"] = sorted(set(school_ids))
    cursor.execute(
        f"SELECT s.id, ST_X(s.location_utm), ST_Y(s.location_utm) "
        f"FROM {_table(School)} s WHERE s.status = '{OPEN}' {only} ORDER BY s.id",
        params,
    )
    rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    xy = np.array([(r[1], r[2]) for r in rows], dtype=float).reshape(-1, 2)
    return ids, xy


def _services(cursor: Any) -> dict[str, Any]:
    cursor.execute(
        f"SELECT v.kind, v.code, v.sensitive, v.hazard_level, "
        f"ST_X(v.location_utm), ST_Y(v.location_utm) "
        f"FROM {_table(Service)} v WHERE v.status = '{OPEN}' ORDER BY v.kind, v.code"
    )
    rows = cursor.fetchall()
    return {
        "kind": np.array([r[0] for r in rows], dtype=object),
        "code": np.array([r[1] for r in rows], dtype=object),
        "sensitive": np.array([r[2] for r in rows], dtype=bool),
        "hazard": np.array([r[3] for r in rows], dtype=np.int64),
        "xy": np.array([(r[4], r[5]) for r in rows], dtype=float).reshape(-1, 2),
    }


def _closest(points: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index into `targets` (sorted by code) of the nearest to each point, the
    lowest index (code) among ties, and the distance in metres."""
    k = min(TIES_LOOKED_AT, len(targets))
    distance, index = cKDTree(targets).query(points, k=k)
    if k == 1:
        return index.astype(np.int64), distance
    tied = distance <= distance[:, :1] + TIE_M
    best = np.where(tied, index, np.iinfo(np.int64).max).min(axis=1)
    return best, distance[:, 0]


def _nearest(
    schools_xy: np.ndarray, services: dict[str, Any], unavailable_from: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Each school's {kind: {...}} and its focal point distance in km (nan: none)."""
    n = len(schools_xy)
    nearest: list[dict[str, Any]] = [{} for _ in range(n)]
    focal = np.full(n, np.inf)
    if n == 0:
        return nearest, focal
    for kind in KINDS:
        of_kind = np.flatnonzero(services["kind"] == kind)
        if len(of_kind) == 0:
            continue
        xy = services["xy"][of_kind]
        index, metres = _closest(schools_xy, xy)
        chosen = of_kind[index]
        km = np.round(metres / 1000, 3)
        unavailable = services["hazard"][chosen] >= unavailable_from
        available = of_kind[services["hazard"][of_kind] < unavailable_from]
        alt_code_of: dict[int, tuple[str, float, bool]] = {}
        if unavailable.any() and len(available):
            where = np.flatnonzero(unavailable)
            alt_index, alt_metres = _closest(
                schools_xy[where], services["xy"][available]
            )
            alt = available[alt_index]
            for school, service, metres_ in zip(where, alt, alt_metres, strict=True):
                alt_code_of[int(school)] = (
                    str(services["code"][service]),
                    round(float(metres_) / 1000, 3),
                    bool(services["sensitive"][service]),
                )
        # Plain Python values once per kind (indexing numpy per school is slow).
        rows = zip(
            range(n),
            services["code"][chosen].tolist(),
            km.tolist(),
            services["sensitive"][chosen].tolist(),
            unavailable.tolist(),
            strict=True,
        )
        for i, code, distance, sensitive, is_unavailable in rows:
            # Flags only when true: a third less to write for 100,000 schools.
            entry: dict[str, Any] = {"code": code, "km": distance}
            if sensitive:
                entry["sensitive"] = True
            if is_unavailable:
                entry["unavailable"] = True
                alt_code, alt_km, alt_sensitive = alt_code_of.get(i, (None, None, None))
                entry["available_code"] = alt_code
                entry["available_km"] = alt_km
                if alt_sensitive:
                    entry["available_sensitive"] = True
            nearest[i][kind] = entry
        if kind in FOCAL_POINTS:
            focal = np.minimum(focal, km)
    return nearest, np.where(np.isinf(focal), np.nan, focal)


def _write(
    cursor: Any, ids: np.ndarray, nearest: list[dict[str, Any]], focal: np.ndarray
) -> int:
    cursor.execute(
        f"CREATE TEMPORARY TABLE {STAGE} (school_id bigint, nearest jsonb, "
        "focal_point_km double precision) ON COMMIT DROP"
    )
    with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:
        for school_id, entry, km in zip(
            ids.tolist(), nearest, focal.tolist(), strict=True
        ):
            copy.write_row(
                (school_id, orjson.dumps(entry).decode(), None if km != km else km)
            )
    cursor.execute(
        f"""
        INSERT INTO {_table(SchoolAccess)} AS x
            (school_id, nearest, focal_point_km, computed_at)
        SELECT school_id, nearest, focal_point_km, now() FROM {STAGE}
        ON CONFLICT (school_id) DO UPDATE SET
            nearest = excluded.nearest,
            focal_point_km = excluded.focal_point_km,
            computed_at = excluded.computed_at
        WHERE (x.nearest, x.focal_point_km)
              IS DISTINCT FROM (excluded.nearest, excluded.focal_point_km)
        """
    )
    written = cursor.rowcount
    cursor.execute(f"DROP TABLE {STAGE}")
    return written


def _delete_closed_sql(school_ids: Sequence[int] | None) -> tuple[str, dict[str, Any]]:
    """The statement deleting the rows of schools no longer open (`school_ids`
    only, unless None)."""
    params: dict[str, Any] = {}
    only = ""
    if school_ids is not None:
        only = "AND x.school_id = ANY(%(ids)s::bigint[])"
        params["ids"] = sorted(set(school_ids))
    sql = f"""
        DELETE FROM {_table(SchoolAccess)} x USING {_table(School)} s
        WHERE s.id = x.school_id AND s.status <> '{OPEN}' {only}
    """
    return sql, params


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
