"""The exposure of schools and services to the active hazard layers (the write side).

For each layer, in one transaction, one statement per kind of place brings its
rows up to date set-wise. The new rows come from `hazards.sql` for zones, and for
rasters and tracks from one vectorised pass over all open places
(`hazards.rasters.sample`, `hazards.tracks.track_exposure`), the places read and
the values sent back by binary COPY. Rows no longer produced are deleted, new ones
inserted, changed ones updated, and unchanged ones left alone; a layer with no
rows yet for that kind of place (a first compute) has them inserted plainly, which
skips the per-row conflict check of the upsert. Then `hazard_level` and
`hazard_levels` are refreshed from the exposures of the active layers in one
UPDATE per table, for the places whose rows changed (all places on a full
recompute). The number of queries does not depend on the number of places.

Rows kept: a place has a row on a layer when it is exposed (class > 0) and, on a
track layer that has tracks, always (its distance to the nearest track is kept
beyond the wind radius, with class 0). No row means class 0; the API still lists
every active layer. `computed_at` is when the row's current values were
computed: a recompute that finds the same values does not rewrite the row
(writing is what costs most: each row goes to two indexes). The table has no
foreign-key constraints, which PostgreSQL would check once per row: Django
cascades deletes and statement-level triggers (migration 0010) remove the rows
of places and layers deleted by SQL; every row written here is of a place open
when the writing statement runs (zones join the places in it; values computed
outside the database are filtered by `_still_open`), and a full recompute
removes any row whose place or layer is gone
(docs/adr/0006-exposure-without-foreign-keys.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.sql import Literal

from hazards import rasters, tracks
from hazards.callbacks import LayerChange
from hazards.models import HazardLayer
from hazards.sql import Points, Query, sampled_exposure, zone_exposure
from schools.models import Exposure, Place, School, Service

Progress = Callable[[int, int], None]  # (layers done, layers in all)
Representation = HazardLayer.Representation

# Each kind of place: its model and its column in the exposure table.
PLACES: tuple[tuple[type[Place], str], ...] = (
    (School, "school_id"),
    (Service, "service_id"),
)


@dataclass(frozen=True, slots=True)
class LayerExposure:
    """One layer's recompute: rows it holds per kind of place, rows written, time."""

    layer_id: int
    name: str
    representation: str
    schools: int
    services: int
    changed: int  # rows inserted, updated or deleted
    seconds: float


@dataclass(frozen=True, slots=True)
class ExposureResult:
    """The layers recomputed, rows removed with inactive layers, and the timings."""

    layers: tuple[LayerExposure, ...]
    removed: int
    levels_seconds: float
    seconds: float


def exposure_recompute(
    *, layer_ids: Sequence[int] | None = None, progress: Progress | None = None
) -> ExposureResult:
    """Recompute the exposure of open schools and services to the given active
    layers (all when None), drop that of inactive layers, refresh hazard levels."""
    started = time.perf_counter()
    if layer_ids is None:
        todo = list(HazardLayer.objects.filter(active=True).order_by("pk"))
        deleted = False
    else:
        found = list(HazardLayer.objects.filter(pk__in=list(layer_ids)).order_by("pk"))
        todo = [layer for layer in found if layer.active]
        deleted = len(found) < len(set(layer_ids))
    # The places whose rows changed bound the level refresh; a refresh of every
    # place (below) does not need them.
    need_ids = not (layer_ids is None or deleted)
    changed: dict[str, set[int]] = {column: set() for _, column in PLACES}
    done = []
    for layer in todo:
        result, ids = _layer_recompute(layer, need_ids=need_ids)
        done.append(result)
        for column in changed:
            changed[column].update(ids[column])
        if progress is not None:
            progress(len(done), len(todo))
    levels_started = time.perf_counter()
    with transaction.atomic():
        removed = _remove_inactive()
        # A full recompute refreshes every place (repairing any stale level); so
        # does a layer deleted (its rows went with it) or deactivated.
        everything = layer_ids is None or deleted or removed > 0
        by_type = _active_by_type()
        for model, column in PLACES:
            only = None if everything else changed[column]
            _refresh_levels(model, column, only, by_type)
    now = time.perf_counter()
    return ExposureResult(
        layers=tuple(done),
        removed=removed,
        levels_seconds=now - levels_started,
        seconds=now - started,
    )


def stale_layers() -> list[HazardLayer]:
    """The active layers whose exposure is older than their last change, or
    missing while open places exist (e.g. the process died between a layer's
    commit and its recompute), in id order.

    A layer is current when one of its rows was written after its `updated_at`:
    a layer's recompute commits whole, and rows it finds unchanged keep their
    older `computed_at`, so the newest row dates the last recompute that changed
    anything. A layer with no rows (exposing no place) or whose last change
    changed no row cannot be dated and counts as stale: recomputing it is safe.
    """
    newest = dict(
        Exposure.objects.values("layer_id")
        .annotate(newest=models.Max("computed_at"))
        .values_list("layer_id", "newest")
    )
    open_ = Place.Status.OPEN
    any_place = (
        School.objects.filter(status=open_).exists()
        or Service.objects.filter(status=open_).exists()
    )
    return [
        layer
        for layer in HazardLayer.objects.filter(active=True).order_by("pk")
        if (layer.pk not in newest and any_place)
        or (layer.pk in newest and newest[layer.pk] < layer.updated_at)
    ]


def exposure_on_layer_change(change: LayerChange) -> None:
    """Follow a committed hazard layer change (registered in SchoolsConfig.ready)."""
    exposure_recompute(layer_ids=(*change.layer_ids, *change.removed))


def _layer_recompute(
    layer: HazardLayer, *, need_ids: bool
) -> tuple[LayerExposure, dict[str, list[int]]]:
    """Bring one layer's rows up to date in one transaction; how many rows changed
    and, if `need_ids`, the places whose rows changed."""
    started = time.perf_counter()
    computed_at = timezone.now()
    held: dict[str, int] = {}
    count: dict[str, int] = {}
    changed: dict[str, list[int]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Two recomputes of one layer queue here instead of racing.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('schools.exposure'), %s)",
            [layer.pk],
        )
        # PostGIS costs make PostgreSQL JIT-compile these statements, which
        # costs more than it saves here (0.5-1.2 s a statement).
        cursor.execute("SET LOCAL jit = off")
        has_rows = _has_rows(cursor, layer.pk)  # after the lock: nobody writes them
        for column, rows in _layer_rows(layer).items():
            sync = _insert if not has_rows[column] else _sync
            cursor.execute(*sync(rows, layer.pk, column, computed_at, ids=need_ids))
            held[column], count[column], changed[column] = cursor.fetchone()
    return (
        LayerExposure(
            layer_id=layer.pk,
            name=layer.name,
            representation=layer.representation,
            schools=held["school_id"],
            services=held["service_id"],
            changed=sum(count.values()),
            seconds=time.perf_counter() - started,
        ),
        changed,
    )


def _has_rows(cursor: Any, layer_id: int) -> dict[str, bool]:
    """Per exposure column, whether the layer has rows (a first compute has none)."""
    exists = ", ".join(
        f"EXISTS (SELECT FROM {_table(Exposure)} "
        f"WHERE layer_id = %s AND {column} IS NOT NULL)"
        for _, column in PLACES
    )
    cursor.execute(f"SELECT {exists}", [layer_id] * len(PLACES))
    return dict(zip((column for _, column in PLACES), cursor.fetchone(), strict=True))


def _layer_rows(layer: HazardLayer) -> dict[str, Query]:
    """Per exposure column, the rows (id, intensity, hazard_class, distance_km)
    of the open places on `layer`."""
    if layer.representation == Representation.ZONES:
        return {
            column: zone_exposure(points=_open_points(model), layer_id=layer.pk)
            for model, column in PLACES
        }
    if layer.representation == Representation.TRACKS:
        return _track_rows(layer)
    return _raster_rows(layer)


# Ids and coordinates of the open places of each kind, in PLACES order.
Located = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _raster_rows(layer: HazardLayer) -> dict[str, Query]:
    """The raster's value at every open place (one read for all of them): the
    places with a value > 0 are exposed; nodata and places outside are not."""
    places = [_open_xy(model, "location") for model, _ in PLACES]
    values = rasters.sample(layer, *_joined(places))
    keep = np.isfinite(values) & (values > 0)
    return _sampled_rows(layer, places, keep, values, np.full(values.shape, np.nan))


def _track_rows(layer: HazardLayer) -> dict[str, Query]:
    """Every open place's distance to the layer's nearest track segment and the
    strongest wind whose radius covers it (NaN beyond every radius), in metres on
    UTM 48N; a layer without tracks gives no rows."""
    places = [_open_xy(model, "location_utm") for model, _ in PLACES]
    metres, wind = tracks.track_exposure(
        tracks.layer_segments(layer.pk), *_joined(places)
    )
    return _sampled_rows(layer, places, np.isfinite(metres), wind, metres / 1000.0)


def _joined(places: Located) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates of every kind of place, one after the other."""
    return (
        np.concatenate([x for _, x, _ in places]),
        np.concatenate([y for _, _, y in places]),
    )


def _sampled_rows(
    layer: HazardLayer,
    places: Located,
    keep: np.ndarray,
    intensity: np.ndarray,
    distance_km: np.ndarray,
) -> dict[str, Query]:
    """Per kind of place, the rows of values computed outside the database for
    `places` (joined as by `_joined`; NaN for none), those in `keep` sent by binary
    COPY to a temporary table per kind of place (in the layer's transaction)."""
    rows = {}
    start = 0
    for (model, column), (ids, _, _) in zip(PLACES, places, strict=True):
        own = slice(start, start + ids.size)
        start += ids.size
        kept = keep[own]
        table = _values_table(
            f"salasafe_sampled_{column}",
            ids[kept],
            intensity[own][kept],
            distance_km[own][kept],
        )
        rows[column] = _still_open(
            sampled_exposure(table=table, breaks=layer.breaks), model
        )
    return rows


def _still_open(rows: Query, model: type[Place]) -> Query:
    """`rows` of the places of `model` still open when the statement runs.

    The sampled ids were read by an earlier statement: a place deleted (or
    closed) since then must not get a row back, and no foreign key refuses one
    (docs/adr/0006). Zones read the places in the writing statement.
    """
    sql = f"""
        SELECT r.* FROM ({rows.sql}) r
        WHERE r.id IN (SELECT id FROM {_table(model)} WHERE status = %s)
    """
    return Query(sql, (*rows.params, Place.Status.OPEN.value))


# Binary COPY (PGCOPY): an 11-byte signature, 4 bytes of flags and the 4-byte
# length of a header extension; per row the field count, then each field's
# length and big-endian value; -1 (2 bytes) at the end. The rows sent and read
# here have fixed-width fields and no NULLs, so numpy lays them out directly.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _copy_row(**fields: str) -> np.dtype:
    """The layout of one binary COPY row: field name -> big-endian numpy type."""
    layout = [("count", ">i2")]
    for name, kind in fields.items():
        layout += [(f"{name}_length", ">i4"), (name, kind)]
    return np.dtype(layout)


_ID_VALUES = _copy_row(id=">i8", intensity=">f8", distance_km=">f8")
_ID_X_Y = _copy_row(id=">i8", x=">f8", y=">f8")


def _copy_binary(row: np.dtype, **columns: np.ndarray) -> bytes:
    """A binary COPY payload of `columns` (equal lengths) laid out as `row`."""
    assert len(row.names or ()) == 1 + 2 * len(columns), "a column for every field"
    data = np.empty(len(next(iter(columns.values()))), dtype=row)
    data["count"] = len(columns)
    for name, values in columns.items():
        data[f"{name}_length"] = row[name].itemsize
        data[name] = values
    return _COPY_SIGNATURE + bytes(8) + data.tobytes() + b"\xff\xff"


def _from_copy_binary(payload: bytes, row: np.dtype) -> np.ndarray:
    """The rows of a binary COPY payload whose rows are laid out as `row`."""
    assert payload.startswith(_COPY_SIGNATURE), "not binary COPY output"
    start = 19 + int.from_bytes(payload[15:19], "big")  # past the extension
    return np.frombuffer(payload[start:-2], dtype=row)


def _values_table(
    name: str, ids: np.ndarray, intensity: np.ndarray, distance_km: np.ndarray
) -> str:
    """A temporary table `name (id int8, intensity float8, distance_km float8)`
    dropped at commit, filled by one binary COPY; its quoted name."""
    table = connection.ops.quote_name(name)
    payload = _copy_binary(
        _ID_VALUES, id=ids, intensity=intensity, distance_km=distance_km
    )
    with connection.cursor() as cursor:
        # Gone at commit; dropped here too when the transaction is an outer one's
        # savepoint (tests, or several layers in one transaction).
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table} "
            "(id int8, intensity float8, distance_km float8) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(payload)
    return table


# The rows kept: exposed, or with a distance (tracks).
_KEPT = "r.hazard_class > 0 OR r.distance_km IS NOT NULL"


def _changed_ids(ids: bool) -> str:
    """SQL for the ids of the changed places, from the relation `c`, or none."""
    return "(SELECT array_agg(id) FROM c)" if ids else "NULL::bigint[]"


def _insert(
    rows: Query, layer_id: int, column: str, computed_at: datetime, *, ids: bool
) -> tuple[str, tuple[Any, ...]]:
    """`_sync` for a layer that has no rows for `column` yet: a plain INSERT (the
    unique index still refuses a duplicate), about 35 % cheaper than the upsert."""
    table = _table(Exposure)
    sql = f"""
        WITH c AS (
            INSERT INTO {table}
                (layer_id, {column}, intensity, hazard_class, distance_km,
                 computed_at)
            SELECT %s, r.id, r.intensity, r.hazard_class, r.distance_km, %s
            FROM ({rows.sql}) r
            WHERE {_KEPT}
            RETURNING {column} AS id
        )
        SELECT count(*)::int, count(*)::int,
               coalesce({_changed_ids(ids)}, '{{}}')
        FROM c
    """
    return sql, (layer_id, computed_at, *rows.params)


def _sync(
    rows: Query, layer_id: int, column: str, computed_at: datetime, *, ids: bool
) -> tuple[str, tuple[Any, ...]]:
    """One statement that makes the layer's rows for `column` those of `rows` kept
    (class > 0, or with a distance); it returns how many rows the layer now holds,
    how many were inserted, updated or deleted, and, if `ids`, the ids of their
    places (else an empty array)."""
    table = _table(Exposure)
    sql = f"""
        WITH new AS MATERIALIZED (
            SELECT r.id, r.intensity, r.hazard_class, r.distance_km
            FROM ({rows.sql}) r
            WHERE {_KEPT}
        ), gone AS (
            DELETE FROM {table} e
            WHERE e.layer_id = %s AND e.{column} IS NOT NULL
              -- NOT IN (ids are never NULL) plans as a hashed subplan whatever
              -- the statistics; NOT EXISTS could become a quadratic nested loop.
              AND e.{column} NOT IN (SELECT id FROM new)
            RETURNING e.{column} AS id
        ), put AS (
            INSERT INTO {table} AS e
                (layer_id, {column}, intensity, hazard_class, distance_km,
                 computed_at)
            SELECT %s, new.id, new.intensity, new.hazard_class, new.distance_km, %s
            FROM new
            ON CONFLICT ({column}, layer_id) WHERE {column} IS NOT NULL DO UPDATE SET
                intensity = excluded.intensity,
                hazard_class = excluded.hazard_class,
                distance_km = excluded.distance_km,
                computed_at = excluded.computed_at
            WHERE (e.intensity, e.hazard_class, e.distance_km) IS DISTINCT FROM
                  (excluded.intensity, excluded.hazard_class, excluded.distance_km)
            RETURNING e.{column} AS id
        ), c AS (
            SELECT id FROM gone UNION ALL SELECT id FROM put
        )
        SELECT (SELECT count(*) FROM new)::int, (SELECT count(*) FROM c)::int,
               coalesce({_changed_ids(ids)}, '{{}}')
    """
    return sql, (*rows.params, layer_id, layer_id, computed_at)


def _open_points(model: type[Place]) -> Points:
    """The open places of `model` as a points relation for `hazards.sql`."""
    return Points(
        f"SELECT id, location AS geom FROM {_table(model)} WHERE status = %s",
        (Place.Status.OPEN.value,),
    )


def _open_xy(
    model: type[Place], column: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids and coordinates (x, y) of the open places of `model` in their point
    `column` (location: lon/lat; location_utm: metres), in one binary COPY read
    straight into numpy (no Python object per place)."""
    connection.ensure_connection()
    # COPY takes no parameters: the status is quoted as a literal.
    status = Literal(Place.Status.OPEN.value).as_string(connection.connection)
    query = (
        f"COPY (SELECT id, ST_X({column}), ST_Y({column}) FROM {_table(model)} "
        f"WHERE status = {status} ORDER BY id) TO STDOUT (FORMAT BINARY)"
    )
    with connection.cursor() as cursor, cursor.copy(query) as copy:
        payload = b"".join(bytes(block) for block in copy)
    rows = _from_copy_binary(payload, _ID_X_Y)
    return (
        rows["id"].astype(np.int64),
        rows["x"].astype(np.float64),
        rows["y"].astype(np.float64),
    )


def _remove_inactive() -> int:
    """Delete the exposure rows of inactive or deleted layers; how many went.

    Rows of a deleted layer can only be left by a layer deleted while one of its
    recomputes was writing (no foreign key refuses them: docs/adr/0006); the
    scan of the table is the same either way.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_table(Exposure)} WHERE layer_id NOT IN "
            f"(SELECT id FROM {_table(HazardLayer)} WHERE active)"
        )
        return cursor.rowcount


def _active_by_type() -> dict[str, list[int]]:
    """The ids of the active layers per hazard type."""
    by_type: dict[str, list[int]] = {}
    for layer_id, hazard_type in (
        HazardLayer.objects.filter(active=True)
        .order_by("hazard_type", "pk")
        .values_list("pk", "hazard_type")
    ):
        by_type.setdefault(hazard_type, []).append(layer_id)
    return by_type


def _refresh_levels(
    model: type[Place],
    column: str,
    ids: set[int] | None,
    by_type: dict[str, list[int]],
) -> None:
    """Set `hazard_level` (highest class) and `hazard_levels` (highest class per
    hazard type, exposed types only) of the places `ids` of `model` (all when None)
    from their exposures on the active layers `by_type`, in one UPDATE.

    Closed places get level 0 and no types. Unchanged rows are not rewritten.
    The aggregate filters on layer ids (no join), and each place's JSON object is
    written as text from the types that have active layers: at 100,000 schools
    0.3-0.45 s instead of 0.9-1.0 s for `jsonb_build_object` over every type.
    """
    places, exposure = _table(model), _table(Exposure)
    per_type = "".join(
        f", max(e.hazard_class) FILTER (WHERE e.layer_id = ANY(%s::bigint[]) "
        f"AND e.hazard_class > 0) AS t{i}"
        for i in range(len(by_type))
    )
    # '{"storm":3,"riverine_flood":2}' from the types with a class (concat_ws
    # skips the NULLs); the keys are our own hazard type values.
    pairs = ", ".join(f"%s || a.t{i}" for i in range(len(by_type)))
    as_json = (
        f"('{{' || concat_ws(',', {pairs}) || '}}')::jsonb"
        if by_type
        else "'{}'::jsonb"
    )
    only = "" if ids is None else f"AND e.{column} = ANY(%s::bigint[])"
    only_places = "" if ids is None else "AND q.id = ANY(%s::bigint[])"
    sql = f"""
        WITH a AS (
            SELECT e.{column} AS id, max(e.hazard_class) AS level{per_type}
            FROM {exposure} e
            WHERE e.{column} IS NOT NULL AND e.layer_id = ANY(%s::bigint[]) {only}
            GROUP BY 1
        ), levels AS (
            SELECT a.id, a.level, {as_json} AS levels FROM a
        ), new AS (
            SELECT q.id,
                   CASE WHEN q.status = %s THEN coalesce(v.level, 0) ELSE 0 END
                       AS level,
                   CASE WHEN q.status = %s THEN coalesce(v.levels, '{{}}')
                        ELSE '{{}}'::jsonb END AS levels
            FROM {places} q
            LEFT JOIN levels v ON v.id = q.id
            WHERE true {only_places}
        )
        UPDATE {places} p SET hazard_level = new.level, hazard_levels = new.levels
        FROM new
        WHERE new.id = p.id
          AND (p.hazard_level, p.hazard_levels) IS DISTINCT FROM (new.level, new.levels)
    """
    params: list[Any] = list(by_type.values())
    params.append([layer_id for layers in by_type.values() for layer_id in layers])
    if ids is not None:
        params.append(sorted(ids))
    params += [json.dumps(hazard_type) + ":" for hazard_type in by_type]
    params += [Place.Status.OPEN.value] * 2
    if ids is not None:
        params.append(sorted(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
