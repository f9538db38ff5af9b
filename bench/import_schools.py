"""Benchmark `school_import` at national scale against ogr2ogr + a bare PostGIS join.

    DEBUG=1 .venv/bin/python bench/import_schools.py [--sizes 15000,100000]

Uses the scratch database `salasafe_bench` on the server of DATABASE_URL (created,
migrated and given admin areas if needed); never touches the dev database. For
each size it writes a seeded CSV of schools at points inside real communes (no
commune_code column, so every commune is looked up) and times, in the same run:

  first      school_import into an empty table (all rows created)
  re-import  the same file again (all rows updated)
  ogr2ogr    ogr2ogr -f PostgreSQL of the same CSV into a scratch table
  join       the bare point-in-commune UPDATE ... FROM ... ST_Intersects over it

and prints a table with ratio = first / (ogr2ogr + join). For scale it also
times a bare INSERT ... SELECT of the imported rows into the emptied schools
table, committed: what any writer pays for that table's generated columns,
indexes and foreign-key checks. Queries are not logged (settings.DEBUG is
switched off after start-up, as in production).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import environment, pg_params, setup_django, sql

BENCH_DB = "salasafe_bench"
OGR_TABLE = "bench_schools_ogr"
COPY_TABLE = "bench_schools_copy"
SEED = 20240601
COLUMNS = [
    "code",
    "name_en",
    "name_km",
    "level",
    "enrolment_girls",
    "enrolment_boys",
    "evacuation_centre",
    "lon",
    "lat",
]
LEVELS = ["preschool", "primary", "lower_secondary", "upper_secondary"]
LEVEL_P = [0.30, 0.50, 0.14, 0.06]
# Khmer words; names join 2-4 of them with zero-width spaces, as typists do.
KHMER_WORDS = [
    "សាលា",
    "បឋមសិក្សា",
    "អនុវិទ្យាល័យ",
    "វិទ្យាល័យ",
    "មត្តេយ្យ",
    "ទន្លេបាសាក់",
    "ព្រែកលៀប",
    "ស្វាយរៀង",
    "ភ្នំពេញ",
    "កំពត",
    "ចំការមន",
    "ពោធិ៍សាត់",
    "អង្គរ",
    "ស្ទឹង",
    "ដូនពេញ",
    "ត្រពាំង",
]
ENGLISH_WORDS = [
    "Wat",
    "Phnom",
    "Prek",
    "Tonle",
    "Bassac",
    "Chamkar",
    "Svay",
    "Kampong",
    "Angkor",
    "Stung",
    "Trapeang",
    "Boeng",
]
ENGLISH_KIND = ["Preschool", "Primary School", "Lower Secondary", "High School"]

# Phases of school_import, timed by wrapping these (module, function) pairs.
PHASES = [
    ("read", "schools.services", "read_table"),
    ("check", "schools.services", "check_places"),
    ("locate", "schools.importing", "locate_points"),
    ("write", "schools.services", "_upsert"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15000,100000", help="rows, comma-separated")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the fastest is shown"
    )
    parser.add_argument("--keep", type=Path, help="keep the generated CSVs here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    setup_django(BENCH_DB)
    print(environment())
    results = []
    with tempfile.TemporaryDirectory(prefix="salasafe-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for size in sizes:
                path = folder / f"schools-{size}.csv"
                started = time.perf_counter()
                write_schools_csv(path, size)
                print(f"generated {path.name} in {time.perf_counter() - started:.1f} s")
                results.append(run_size(path, size, args.repeat))
        finally:
            cleanup()
    print()
    print_table(results)


# --- database -------------------------------------------------------------------


def cleanup() -> None:
    from schools.models import School

    sql(f"DROP TABLE IF EXISTS {OGR_TABLE}, {COPY_TABLE}")
    sql(f"TRUNCATE {School._meta.db_table} CASCADE")


# --- data -----------------------------------------------------------------------


def write_schools_csv(path: Path, size: int, seed: int = SEED) -> None:
    """Write `size` schools at seeded random points inside current communes."""
    from preparedness.models import AdminArea

    rng = np.random.default_rng(seed)
    codes = [
        code
        for (code,) in sql(
            f"SELECT code FROM {AdminArea._meta.db_table} WHERE level = %s "
            "AND valid_to IS NULL AND boundary IS NOT NULL ORDER BY code",
            [AdminArea.Level.COMMUNE],
        )
    ]
    counts = rng.multinomial(size, np.full(len(codes), 1 / len(codes)))
    keep = counts > 0
    points = sql(
        f"""
        SELECT ST_X(d.geom), ST_Y(d.geom)
        FROM unnest(%s::text[], %s::int[]) AS k(code, n)
        JOIN {AdminArea._meta.db_table} a USING (code),
        -- A few odd boundaries get slightly fewer points than asked: ask for more.
        LATERAL ST_Dump(ST_GeneratePoints(a.boundary, k.n + 2 + k.n / 5, %s)) AS d
        WHERE d.path[1] <= k.n
        ORDER BY k.code, d.path
        """,
        [np.array(codes)[keep].tolist(), counts[keep].tolist(), seed],
    )
    assert len(points) == size, (len(points), size)
    order = rng.permutation(size)  # files are not sorted by place
    levels = rng.choice(len(LEVELS), size=size, p=LEVEL_P)
    girls = rng.integers(0, 700, size=size)
    boys = rng.integers(0, 700, size=size)
    shelter = rng.random(size) < 0.1
    km = rng.integers(0, len(KHMER_WORDS), size=(size, 4))
    km_len = rng.integers(2, 5, size=size)
    en = rng.integers(0, len(ENGLISH_WORDS), size=(size, 2))
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for i, p in enumerate(order):
            lon, lat = points[p]
            level = int(levels[i])
            out.writerow(
                [
                    f"{i + 1:08d}",
                    f"{ENGLISH_WORDS[en[i, 0]]} {ENGLISH_WORDS[en[i, 1]]} "
                    f"{ENGLISH_KIND[level]}",
                    "\u200b".join(KHMER_WORDS[w] for w in km[i, : km_len[i]]),
                    LEVELS[level],
                    int(girls[i]),
                    int(boys[i]),
                    "yes" if shelter[i] else "no",
                    f"{lon:.6f}",
                    f"{lat:.6f}",
                ]
            )


# --- timing ---------------------------------------------------------------------


@contextmanager
def phase_timer() -> Iterator[dict[str, float]]:
    """Time the phases of school_import by wrapping the functions it calls."""
    import importlib

    spent: dict[str, float] = defaultdict(float)
    patched = []
    for phase, module_name, attr in PHASES:
        module = importlib.import_module(module_name)
        original = getattr(module, attr, None)
        if original is None:
            continue

        def timed(
            *a: Any, _f: Callable[..., Any] = original, _p: str = phase, **kw: Any
        ) -> Any:
            started = time.perf_counter()
            try:
                return _f(*a, **kw)
            finally:
                spent[_p] += time.perf_counter() - started

        setattr(module, attr, timed)
        patched.append((module, attr, original))
    try:
        yield spent
    finally:
        for module, attr, original in patched:
            setattr(module, attr, original)
        if "check" in spent:
            spent["check"] -= spent.get("locate", 0.0)  # check excludes locate


def time_import(path: Path) -> tuple[float, dict[str, float], Any]:
    """Wall time of school_import, its phases and the Python process's CPU time."""
    from schools.services import school_import

    with phase_timer() as spent:
        started, cpu = time.perf_counter(), time.process_time()
        result = school_import(path=path)
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
    phases = dict(spent)
    phases["commit"] = total - sum(phases.values())  # and deferred FK checks
    phases["python cpu"] = cpu
    return total, phases, result


def time_ogr2ogr(path: Path) -> float:
    from django.db import connection

    params = pg_params(connection.settings_dict, BENCH_DB)
    password = params.pop("password", None)
    dsn = "PG:" + " ".join(f"{k}={v}" for k, v in params.items())
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    command = [
        "ogr2ogr", "-f", "PostgreSQL", dsn, str(path),
        "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat",
        "-a_srs", "EPSG:4326", "-nln", OGR_TABLE, "-overwrite",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env)
    return time.perf_counter() - started


def time_bare_join(size: int) -> float:
    """The point-in-commune join that every import needs, with nothing around it."""
    from preparedness.models import AdminArea

    (geom,) = sql(
        "SELECT f_geometry_column FROM geometry_columns WHERE f_table_name = %s",
        [OGR_TABLE],
    )[0]
    sql(f"ALTER TABLE {OGR_TABLE} ADD COLUMN IF NOT EXISTS commune_code text")
    started = time.perf_counter()
    sql(
        f"""
        UPDATE {OGR_TABLE} s SET commune_code = a.code
        FROM {AdminArea._meta.db_table} a
        WHERE a.level = %s AND ST_Intersects(a.boundary, s.{geom})
        """,
        [AdminArea.Level.COMMUNE],
    )
    elapsed = time.perf_counter() - started
    ((found,),) = sql(f"SELECT count(commune_code) FROM {OGR_TABLE}")
    assert found >= size * 0.99, f"bare join found {found} of {size}"
    return elapsed


def time_bare_insert() -> float:
    """Write the imported rows again with one INSERT ... SELECT and commit: what
    any writer pays for this table (generated columns, indexes, FK checks)."""
    from django.db import transaction

    from schools.models import School

    table = School._meta.db_table
    columns = ", ".join(
        name
        for (name,) in sql(
            "SELECT quote_ident(attname) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' ORDER BY attnum",
            [table],
        )
    )
    sql(f"DROP TABLE IF EXISTS {COPY_TABLE}")
    sql(f"CREATE TABLE {COPY_TABLE} AS SELECT {columns} FROM {table}")
    sql(f"TRUNCATE {table} CASCADE")
    started = time.perf_counter()
    with transaction.atomic():
        sql(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {COPY_TABLE}")
    elapsed = time.perf_counter() - started
    sql(f"DROP TABLE {COPY_TABLE}")
    return elapsed


def run_size(path: Path, size: int, repeat: int) -> dict[str, Any]:
    from schools.models import School

    best: dict[str, Any] = {}

    def keep(name: str, seconds: float, phases: dict[str, float] | None = None) -> None:
        if name not in best or seconds < best[name][0]:
            best[name] = (seconds, phases or {})

    for run in range(1, repeat + 1):
        sql(f"TRUNCATE {School._meta.db_table} CASCADE")
        first, phases, result = time_import(path)
        assert (result.created, result.updated) == (size, 0), result
        keep("first", first, phases)
        again, phases, result = time_import(path)
        assert (result.created, result.updated) == (0, size), result
        keep("again", again, phases)
        insert = time_bare_insert()
        keep("insert", insert)
        ogr = time_ogr2ogr(path)
        keep("ogr", ogr)
        join = time_bare_join(size)
        keep("join", join)
        print(
            f"{size:>7,} run {run}: first {first:.2f} s, re-import {again:.2f} s, "
            f"ogr2ogr {ogr:.2f} s, join {join:.2f} s, bare insert {insert:.2f} s",
            flush=True,
        )
    return {"size": size, **best}


def fmt(phases: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in phases.items())


def print_table(results: list[dict[str, Any]]) -> None:
    head = (
        "| rows | salasafe first import s | re-import s | ogr2ogr s | bare join s "
        "| ratio first / (ogr2ogr + join) | bare insert s |"
    )
    print(head)
    print("|" + "---|" * 7)
    for r in results:
        first, again = r["first"][0], r["again"][0]
        ogr, join, insert = r["ogr"][0], r["join"][0], r["insert"][0]
        print(
            f"| {r['size']:,} | {first:.2f} | {again:.2f} | {ogr:.2f} | {join:.2f} "
            f"| {first / (ogr + join):.2f} | {insert:.2f} |"
        )
    print()
    print("phases of the fastest runs (s); check excludes locate, commit includes")
    print("the deferred foreign-key checks; python cpu is this process's CPU time")
    for r in results:
        print(f"  {r['size']:>7,} first: {fmt(r['first'][1])}")
        print(f"  {r['size']:>7,} again: {fmt(r['again'][1])}")


if __name__ == "__main__":
    main()
