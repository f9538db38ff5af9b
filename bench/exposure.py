"""Benchmark `exposure_recompute` at national scale against bare PostGIS and numpy.

    DEBUG=1 .venv/bin/python bench/exposure.py [--sizes 15000,100000] [--explain]

Uses the scratch database `salasafe_exposure_bench` (or --database) on the server
of DATABASE_URL (created, migrated and given the national admin areas if needed);
never touches the dev database, but empties the scratch one's schools. It
imports, through `hazard_layer_import`, three seeded layers:

  zones   2,000 noisy flood blobs along the Mekong, Bassac and Tonle Sap (200 to
          2,000 vertices each, a third with holes, many overlapping), depth in m
  raster  a 90 m depth grid over Cambodia (UTM 48N, made a COG by the import)
  tracks  20 storms crossing Cambodia from the east, 6-hourly JTWC-style points

then, for each size, puts that many open schools at seeded points inside real
communes (denser along the rivers, as in the demo) and times, in the same run:

  recompute  exposure_recompute() over the three layers (its own per-layer times)
  zones      the bare zones -> schools ST_Intersects join with max() per school
  raster     bare rasterio/numpy: fetch the points, transform them to the
             raster's CRS, read the covering window once, gather by row/col
  tracks     the bare radius join (ST_DWithin on the UTM columns, max wind) and
             the nearest-segment distance of every school (KNN on the UTM index
             or ST_Distance to the collected segments), or both in one pass (the
             radius join's distances, KNN beyond them), whichever is faster
  tracks, numpy  not a PostGIS baseline: the engine's own arithmetic
             (hazards.tracks.track_exposure) on the points fetched by a plain
             query and the layer's segments, with nothing written

Each time is the fastest of --repeat runs; the recompute is a first compute
(no exposure rows yet, all levels 0), as after importing the layers, and an
unchanged recompute is shown too. ratio = first recompute / sum of the bare
baselines of the issue (zones and tracks in PostGIS, the raster in numpy; the
goal is at most 1.3); "ratio, numpy tracks" counts the numpy track figure
instead, i.e. the engine against its own arithmetic without writes. The bare
PostGIS forms run with JIT off, as the engine's statements do. Services are not
generated: the engine's service statements run on an empty table.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, environment, setup_django, sql, stopwatch

BENCH_DB = "salasafe_exposure_bench"
MEDIA = Path(__file__).resolve().parent.parent / "var" / "bench" / "media"
SEED = 20240917
ZONES = "Bench flood zones (2,000 blobs)"
RASTER = "Bench national depth grid (90 m)"
TRACKS = "Bench storm tracks (20 storms)"
N_ZONES = 2_000
N_STORMS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="15000,100000", help="schools, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement")
    parser.add_argument(
        "--rebuild", action="store_true", help="re-import the layers even if present"
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the engine's queries"
    )
    parser.add_argument(
        "--subdivided",
        action="store_true",
        help="also time the join over a subdivided copy of the zones (not a baseline)",
    )
    parser.add_argument("--database", default=BENCH_DB, help="the scratch database")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    # The bench's COG goes to its own media folder, not the dev one.
    os.environ.setdefault("MEDIA_ROOT", str(MEDIA))
    setup_django(args.database)
    print(environment())
    layers = ensure_layers(rebuild=args.rebuild)
    describe_layers(layers)
    if args.subdivided:
        built = subdivide_zones(layers["zones"].pk)
        print(f"(subdivided copy of the zones, for comparison, built in {built:.1f} s)")
    results = []
    for size in sizes:
        result = run_size(
            size, layers, args.repeat, explain=args.explain, sub=args.subdivided
        )
        # Another process on the same scratch database would spoil the figures.
        (placed,) = sql(f"SELECT count(*) FROM {school_table()}")[0]
        assert placed == size, f"{placed} schools now: someone else uses the database"
        results.append(result)
    print()
    print_table(results)


# --- layers ---------------------------------------------------------------------


def ensure_layers(*, rebuild: bool) -> dict[str, Any]:
    """The three bench layers by role, imported now unless already there."""
    from hazards.models import HazardLayer

    names = {"zones": ZONES, "raster": RASTER, "tracks": TRACKS}
    found = {r: HazardLayer.objects.filter(name=n).first() for r, n in names.items()}
    if rebuild or not all(found.values()):
        # Import before any school exists: the exposure callback then has no work.
        sql(f"TRUNCATE {school_table()} CASCADE")
        HazardLayer.objects.filter(name__in=names.values()).delete()
        with tempfile.TemporaryDirectory(prefix="salasafe-bench-") as tmp:
            found = import_layers(Path(tmp))
    # Only the bench layers: other rows in the tables would change the plans.
    HazardLayer.objects.exclude(pk__in=[x.pk for x in found.values()]).delete()
    sql("ANALYZE")
    return found


def import_layers(folder: Path) -> dict[str, Any]:
    from hazards.classes import HazardType
    from hazards.demo import _country_utm, floodplain_field, write_depth_grid
    from hazards.services import hazard_layer_import

    rng = np.random.default_rng(SEED)
    country = _country_utm()
    with stopwatch(f"generated {N_ZONES:,} flood blobs"):
        zones_path = folder / "zones.geojson"
        vertices = write_blobs(zones_path, rng)
    print(f"  {vertices:,} vertices, {zones_path.stat().st_size / 1e6:.0f} MB")
    with stopwatch("imported the zones"):
        zones = hazard_layer_import(
            path=zones_path,
            hazard_type=HazardType.RIVERINE_FLOOD,
            name=ZONES,
            intensity_field="depth_m",
            return_period=100,
            source="bench",
        ).layer
    with stopwatch("generated the national 90 m depth grid"):
        field = floodplain_field(country=country, rng=rng, reach_m=1e6)
        raster_path = folder / "depth.tif"
        write_depth_grid(raster_path, field=field, crop=False)
    with stopwatch("imported the depth grid as a COG"):
        raster = hazard_layer_import(
            path=raster_path,
            hazard_type=HazardType.RIVERINE_FLOOD,
            name=RASTER,
            return_period=100,
            source="bench",
        ).layer
    tracks_path = folder / "tracks.csv"
    write_storms(tracks_path, rng)
    with stopwatch(f"imported {N_STORMS} storm tracks"):
        tracks = hazard_layer_import(
            path=tracks_path, hazard_type=HazardType.STORM, name=TRACKS, source="bench"
        ).layer
    return {"zones": zones, "raster": raster, "tracks": tracks}


def write_blobs(path: Path, rng: np.random.Generator) -> int:
    """2,000 star-shaped noisy flood blobs along the rivers; a third with holes."""
    import shapely
    from rasterio.warp import transform_geom

    from hazards.demo import _waterways_utm
    from hazards.models import UTM_48N

    segments = [seg for seg, _ in _waterways_utm()]
    lengths = np.array([np.hypot(*(b - a)) for a, b in segments])
    features, vertices = [], 0
    for _ in range(N_ZONES):
        a, b = segments[rng.choice(len(segments), p=lengths / lengths.sum())]
        along = b - a
        normal = np.array([-along[1], along[0]]) / np.hypot(*along)
        centre = a + rng.random() * along + normal * rng.normal(0, 12_000)
        radius = float(np.clip(rng.lognormal(np.log(3_000), 0.8), 400, 25_000))
        n = int(rng.integers(200, 2_000))
        shell = _star(centre, radius, n, rng)
        if rng.random() < 0.33:
            holes = [
                _star(
                    centre + rng.normal(0, 0.25 * radius, 2),
                    radius * rng.uniform(0.05, 0.15),
                    int(rng.integers(30, 200)),
                    rng,
                )
                for _ in range(int(rng.integers(1, 4)))
            ]
            shell = shapely.difference(shell, shapely.union_all(holes))
        shell = shapely.make_valid(shell)
        depth = round(float(rng.gamma(2.0, 0.7)) + 0.05, 2)
        geometry = transform_geom(
            f"EPSG:{UTM_48N}", "EPSG:4326", shell.__geo_interface__, precision=6
        )
        vertices += shapely.get_num_coordinates(shell)
        features.append(
            {"type": "Feature", "properties": {"depth_m": depth}, "geometry": geometry}
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return int(vertices)


def _star(centre: np.ndarray, radius: float, n: int, rng: np.random.Generator) -> Any:
    """A simple polygon r(theta) around `centre`: smooth lobes plus a fine jitter."""
    import shapely

    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(1, 9):
        r += rng.normal(0, 0.25 / k) * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    r += rng.normal(0, 0.02, n)
    r = radius * np.clip(r, 0.25, None)
    return shapely.Polygon(
        np.column_stack([centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])
    )


def write_storms(path: Path, rng: np.random.Generator) -> None:
    """20 storms in the JTWC best-track CSV layout, moving west over Cambodia."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["SN", "Year", "Month", "Day", "Hour", "Lat", "Lon", "VMax"])
        for storm in range(N_STORMS):
            lon, lat = rng.uniform(108.5, 110.0), rng.uniform(9.5, 15.5)
            wind = rng.uniform(40, 120)
            when = np.datetime64("2000-09-01T00") + np.timedelta64(storm * 240, "h")
            while lon > 101.5:
                day = when.astype(object)
                out.writerow(
                    [
                        f"2100{storm + 1:02d}",
                        day.year,
                        day.month,
                        day.day,
                        day.hour,
                        f"{lat:.1f}",
                        f"{lon:.1f}",
                        f"{max(wind, 15):.0f}",
                    ]
                )
                lon -= rng.uniform(0.3, 0.8)
                lat += rng.normal(0.05, 0.2)
                wind *= 0.9 if lon < 107.5 else 1.0  # weakens over land
                when += np.timedelta64(6, "h")


def describe_layers(layers: dict[str, Any]) -> None:
    zones = layers["zones"]
    n, points = sql(
        "SELECT count(*), sum(ST_NPoints(area)) FROM hazards_hazardzone "
        "WHERE layer_id = %s",
        [zones.pk],
    )[0]
    tracks = layers["tracks"].tracks.count()
    with raster_file(layers["raster"]) as src:
        grid = f"{src.width} x {src.height} cells of {src.res[0]:.0f} {src.crs}"
    print(f"layers: {n:,} zones ({points:,} vertices); {tracks} track segments; {grid}")


def raster_file(layer: Any) -> Any:
    import rasterio

    return rasterio.open(layer.raster.path)


# --- schools --------------------------------------------------------------------


def school_table() -> str:
    from schools.models import School

    return School._meta.db_table


def place_schools(size: int) -> None:
    """Replace all schools by `size` open schools inside real communes."""
    from preparedness.demo import population_weight

    rows = sql(
        "SELECT code, ST_X(ST_PointOnSurface(boundary)), "
        "ST_Y(ST_PointOnSurface(boundary)) FROM preparedness_adminarea "
        "WHERE level = 'commune' AND valid_to IS NULL AND boundary IS NOT NULL "
        "ORDER BY code"
    )
    codes = [r[0] for r in rows]
    weights = population_weight(
        np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    )
    counts = np.random.default_rng(SEED + size).multinomial(
        size, weights / weights.sum()
    )
    keep = counts > 0
    columns, values = other_columns()
    sql(f"TRUNCATE {school_table()}, schools_service CASCADE")
    sql(
        f"""
        INSERT INTO {school_table()}
            (code, name_en, name_km, location, status, created_at, updated_at, level,
             enrolment_girls, enrolment_boys, evacuation_centre, commune_code,
             hazard_level, hazard_levels{columns})
        SELECT 'B' || lpad((row_number() OVER (ORDER BY k.code, d.path))::text, 7, '0'),
               'Bench school', '', d.geom, 'open', now(), now(), 'primary',
               100, 100, false, k.code, 0, '{{}}'::jsonb{values}
        FROM unnest(%s::text[], %s::int[]) AS k(code, n)
        JOIN preparedness_adminarea a USING (code),
        -- A few odd boundaries get slightly fewer points than asked: ask for more.
        LATERAL ST_Dump(ST_GeneratePoints(a.boundary, k.n + 2 + k.n / 5, %s)) AS d
        WHERE d.path[1] <= k.n
        """,
        [np.array(codes)[keep].tolist(), counts[keep].tolist(), SEED],
    )
    sql(f"VACUUM ANALYZE {school_table()}")


def other_columns() -> tuple[str, str]:
    """The school columns the insert above does not name that have a plain
    default (added since), as SQL: ", col, ..." and ", value, ..."."""
    from schools.models import School

    named = {
        "id", "code", "name_en", "name_km", "location", "status", "created_at",
        "updated_at", "level", "enrolment_girls", "enrolment_boys",
        "evacuation_centre", "commune_code", "hazard_level", "hazard_levels",
    }  # fmt: skip
    extra = {
        f.column: f.get_default()
        for f in School._meta.concrete_fields
        if f.column not in named
        and not getattr(f, "generated", False)
        and f.has_default()
        and isinstance(f.get_default(), bool | int | float)
    }
    return (
        "".join(f", {column}" for column in extra),
        "".join(f", {value!r}" for value in extra.values()),
    )


# --- timing ---------------------------------------------------------------------


def run_size(
    size: int, layers: dict[str, Any], repeat: int, *, explain: bool, sub: bool
) -> dict:
    from schools.exposure import exposure_recompute

    print(f"\n== {size:,} schools")
    # A first compute (every row new, as after importing the layers), on freshly
    # placed schools each time; then an unchanged recompute.
    total, result = math.inf, None
    for _ in range(max(1, repeat)):
        with stopwatch(f"placed {size:,} schools"):
            place_schools(size)
        spent, run = best_of(1, exposure_recompute)
        if spent < total:
            total, result = spent, run
    # Fresh statistics first: with those autovacuum has not yet taken, the
    # engine's anti-join on its CTE can go quadratic (docs/benchmarks.md).
    sql("ANALYZE schools_exposure")
    again, _ = best_of(1, exposure_recompute)
    print(f"unchanged recompute {again:.2f} s (after ANALYZE schools_exposure)")
    by_layer = {x.layer_id: x for x in result.layers}
    engine = {role: by_layer[layer.pk].seconds for role, layer in layers.items()}
    engine["levels"] = result.levels_seconds
    exposed = sql(
        f"SELECT hazard_level, count(*) FROM {school_table()} GROUP BY 1 ORDER BY 1"
    )
    print(f"recompute {total:.2f} s; schools by hazard level: {dict(exposed)}")
    print("  engine: " + ", ".join(f"{k} {v:.2f} s" for k, v in engine.items()))

    bare: dict[str, float] = {}
    # The bare forms run without JIT, as the engine does (it costs 0.5-1 s a
    # statement here and saves nothing).
    sql("SET jit = off")
    forms = zone_forms(layers["zones"].pk)
    if not sub:
        del forms["(subdivided copy)"]
    zone_times = {}
    for form, statement in forms.items():
        zone_times[form], rows = best_of(repeat, lambda s=statement: sql(s))
        print(f"  zones, {form}: {zone_times[form]:.2f} s ({rows[0][0]:,} schools)")
    bare["zones"] = min(t for f, t in zone_times.items() if not f.startswith("("))
    bare["raster"], hits = best_of(repeat, lambda: bare_raster(layers["raster"]))
    print(f"  raster, window read + gather: {bare['raster']:.2f} s ({hits:,} wet)")
    track_times = {}
    for form, statement in track_forms(layers["tracks"].pk).items():
        sql(f"SET enable_sort = {'off' if form.startswith('one pass') else 'on'}")
        track_times[form], rows = best_of(repeat, lambda s=statement: sql(s))
        print(f"  tracks, {form}: {track_times[form]:.2f} s ({rows[0][0]:,} rows)")
    bare["tracks"] = min(
        track_times["radius join"]
        + min(track_times["nearest (KNN)"], track_times["nearest (collected)"]),
        track_times["one pass (radius join, its distances, KNN beyond)"],
    )
    sql("RESET jit")
    sql("RESET enable_sort")
    numpy_tracks, covered = best_of(repeat, lambda: bare_tracks(layers["tracks"]))
    print(
        f"  tracks, numpy (the engine's arithmetic, nothing written): "
        f"{numpy_tracks:.2f} s ({covered:,} within a radius)"
    )
    if explain:
        explain_engine(layers)
    return {
        "size": size,
        "total": total,
        "engine": engine,
        "bare": bare,
        "numpy_tracks": numpy_tracks,
    }


def zone_forms(layer_id: int) -> dict[str, str]:
    """Bare zones -> schools joins that give each school its max depth and class."""
    school = school_table()
    aggregate = (
        "SELECT count(*) FROM (SELECT s.id, max(z.intensity), max(z.hazard_class)"
    )
    return {
        "join": f"""{aggregate}
            FROM hazards_hazardzone z
            JOIN {school} s ON ST_Intersects(z.area, s.location)
            WHERE z.layer_id = {layer_id} AND s.status = 'open' GROUP BY s.id) x""",
        "zones -> lateral": f"""{aggregate}
            FROM hazards_hazardzone z CROSS JOIN LATERAL (
                SELECT id FROM {school} q
                WHERE q.status = 'open' AND ST_Intersects(z.area, q.location)) s
            WHERE z.layer_id = {layer_id} GROUP BY s.id) x""",
        # Not a baseline: a pre-built, subdivided copy (see the findings).
        "(subdivided copy)": f"""{aggregate}
            FROM bench_zone_parts z JOIN {school} s ON ST_Intersects(z.geom, s.location)
            WHERE s.status = 'open' GROUP BY s.id) x""",
    }


def subdivide_zones(layer_id: int) -> float:
    started = time.perf_counter()
    sql("DROP TABLE IF EXISTS bench_zone_parts")
    sql(
        "CREATE TABLE bench_zone_parts AS SELECT id, intensity, hazard_class, "
        "ST_Subdivide(area, 128) AS geom FROM hazards_hazardzone WHERE layer_id = %s",
        [layer_id],
    )
    sql("CREATE INDEX ON bench_zone_parts USING gist (geom)")
    sql("ANALYZE bench_zone_parts")
    return time.perf_counter() - started


def track_forms(layer_id: int) -> dict[str, str]:
    school = school_table()
    return {
        "radius join": f"""SELECT count(*) FROM (
            SELECT s.id, max(t.max_wind_kt) FROM hazards_stormtrack t
            JOIN {school} s
              ON ST_DWithin(s.location_utm, t.path_utm, t.radius_km * 1000)
            WHERE t.layer_id = {layer_id} AND s.status = 'open' GROUP BY s.id) x""",
        "nearest (KNN)": f"""SELECT count(*) FROM (
            SELECT s.id, (SELECT ST_Distance(t.path_utm, s.location_utm)
                          FROM hazards_stormtrack t WHERE t.layer_id = {layer_id}
                          ORDER BY t.path_utm <-> s.location_utm LIMIT 1) AS d
            FROM {school} s WHERE s.status = 'open') x WHERE d IS NOT NULL""",
        "nearest (collected)": f"""WITH c AS (
                SELECT ST_Collect(path_utm) AS g FROM hazards_stormtrack
                WHERE layer_id = {layer_id})
            SELECT count(*) FROM (
            SELECT s.id, ST_Distance(c.g, s.location_utm) AS d
            FROM {school} s, c WHERE s.status = 'open') x WHERE d IS NOT NULL""",
        # Both at once, as the engine does (hazards.sql.track_exposure): the
        # radius join's distances give the nearest segment of the schools whose
        # nearest segment within its radius is closer than the smallest radius;
        # KNN (on the (layer, path) index) for the others. Run with sorts off
        # (the pairs are then hashed), as the engine runs it.
        "one pass (radius join, its distances, KNN beyond)": f"""
            SELECT count(*) FROM (
            SELECT s.id, c.wind, CASE WHEN c.near < m.r THEN c.near ELSE (
                       SELECT ST_Distance(t.path_utm, s.location_utm)
                       FROM hazards_stormtrack t WHERE t.layer_id = {layer_id}::bigint
                       ORDER BY t.path_utm <-> s.location_utm LIMIT 1) END AS d
            FROM {school} s
            CROSS JOIN (SELECT min(radius_km * 1000.0) AS r FROM hazards_stormtrack
                        WHERE layer_id = {layer_id}) m
            LEFT JOIN (
                SELECT q.id, max(t.max_wind_kt) AS wind, min(q.d) AS near
                FROM hazards_stormtrack t CROSS JOIN LATERAL (
                    SELECT s2.id, ST_Distance(t.path_utm, s2.location_utm) AS d
                    FROM {school} s2 WHERE s2.status = 'open'
                      AND s2.location_utm && ST_Expand(t.path_utm, t.radius_km * 1000)
                    OFFSET 0) q
                WHERE t.layer_id = {layer_id} AND q.d <= t.radius_km * 1000
                GROUP BY q.id) c ON c.id = s.id
            WHERE s.status = 'open') x WHERE d IS NOT NULL""",
    }


def bare_raster(layer: Any) -> int:
    """Sample the depth at every open school: one window read, a numpy gather."""
    from rasterio.warp import transform
    from rasterio.windows import Window

    rows = sql(
        f"SELECT id, ST_X(location), ST_Y(location) FROM {school_table()} "
        "WHERE status = 'open'"
    )
    coords = np.array([(r[1], r[2]) for r in rows], dtype=float).reshape(-1, 2)
    with raster_file(layer) as src:
        xs, ys = transform("EPSG:4326", src.crs, coords[:, 0], coords[:, 1])
        inverse = ~src.transform
        col, row = inverse * (np.asarray(xs), np.asarray(ys))
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        if not inside.any():
            return 0
        r0, r1 = row[inside].min(), row[inside].max() + 1
        c0, c1 = col[inside].min(), col[inside].max() + 1
        data = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
        values = np.full(len(coords), np.nan)
        values[inside] = data[row[inside] - r0, col[inside] - c0]
        if src.nodata is not None:
            values[values == src.nodata] = np.nan
    wet = np.isfinite(values) & (values > 0)
    np.digitize(values[wet], layer.breaks)  # the classes, as the engine computes
    return int(wet.sum())


def bare_tracks(layer: Any) -> int:
    """The engine's track arithmetic alone: fetch the open schools' UTM points with
    a plain query and the layer's segments, compute, write nothing."""
    from hazards.tracks import layer_segments, track_exposure

    rows = sql(
        f"SELECT ST_X(location_utm), ST_Y(location_utm) FROM {school_table()} "
        "WHERE status = 'open'"
    )
    points = np.array(rows, dtype=float).reshape(-1, 2)
    segments = layer_segments(layer.pk)
    _, wind = track_exposure(segments, points[:, 0], points[:, 1])
    return int(np.isfinite(wind).sum())


def explain_engine(layers: dict[str, Any]) -> None:
    """EXPLAIN ANALYZE the engine's zone query for schools (tracks and the
    raster are computed in numpy)."""
    from hazards.sql import zone_exposure
    from schools.exposure import _open_points
    from schools.models import School

    query = zone_exposure(points=_open_points(School), layer_id=layers["zones"].pk)
    # As the engine runs it: no JIT.
    sql("SET jit = off")
    plan = sql("EXPLAIN (ANALYZE, BUFFERS) " + query.sql, query.params)
    print("\n-- engine zones query plan")
    print("\n".join(line for (line,) in plan))
    sql("RESET jit")


def print_table(results: list[dict]) -> None:
    head = (
        f"{'schools':>8} {'recompute s':>11} {'bare sum s':>10} {'ratio':>6} "
        f"{'ratio, numpy tracks':>19} | {'zones e/b':>11} {'raster e/b':>11} "
        f"{'tracks e/b/numpy':>17} {'levels':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        e, b = r["engine"], r["bare"]
        bare_sum = sum(b.values())
        strict = bare_sum - b["tracks"] + r["numpy_tracks"]
        print(
            f"{r['size']:>8,} {r['total']:>11.2f} {bare_sum:>10.2f} "
            f"{r['total'] / bare_sum:>6.2f} {r['total'] / strict:>19.2f} | "
            f"{e['zones']:>5.2f}/{b['zones']:<5.2f} "
            f"{e['raster']:>5.2f}/{b['raster']:<5.2f} "
            f"{e['tracks']:>5.2f}/{b['tracks']:<5.2f}/{r['numpy_tracks']:<4.2f} "
            f"{e['levels']:>6.2f}"
        )
    print(
        "e/b = engine / bare seconds per layer (tracks: also the numpy arithmetic "
        "alone); levels = hazard level refresh"
    )


if __name__ == "__main__":
    main()
