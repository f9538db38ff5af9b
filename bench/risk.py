"""Benchmark the nearest-services refresh (and the risk recompute) at national scale.

    DEBUG=1 .venv/bin/python bench/risk.py [--sizes 15000:2000,100000:10000]
        [--repeat 2]

Uses the scratch database `salasafe_risk_bench` (or --database) on the server of
DATABASE_URL (created, migrated and given the national admin areas if needed);
never touches the dev database, but empties the scratch one's schools and
services. For each size (schools:services) it puts that many open schools at
seeded points inside real communes (denser near Phnom Penh and the rivers, as
in the demo), and that many services, their kinds in the demo's shares
(`schools.demo.SERVICE_KINDS`: 30 % CCWC ... 2 % safe shelters) spread as the
demo spreads them (by the square root of the density); 10 % of the services
are in hazard class 3 (high: likely unavailable), 2 % of services and 1 % of
schools are closed. Then it times, in the same run:

  nearest    nearest_services_refresh(): a first compute (no access rows) and
             an unchanged recompute
  bare       the nearest open service of every kind for every open school and
             its distance, as one statement per kind with no JSON and no
             writes, in the fastest bare form measured (several are printed)
  risk       schools.risk.services.risk_recompute(): a first compute (no
             risk rows)

and prints a Markdown table with ratio = first nearest refresh / bare, and the
total of risk + nearest against the 10 s goal. Each time is the fastest of
--repeat runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, environment, setup_django, sql, stopwatch

BENCH_DB = "salasafe_risk_bench"
SEED = 20241126
GOAL_RATIO = 1.3
GOAL_TOTAL_S = 10.0
HAZARDOUS_SHARE = 0.10  # services in hazard class 3
CLOSED_SERVICES = 0.02
CLOSED_SCHOOLS = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="15000:2000,100000:10000",
        help="schools:services, comma-separated",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement")
    parser.add_argument("--database", default=BENCH_DB, help="the scratch database")
    args = parser.parse_args()
    sizes = [
        tuple(int(n) for n in s.split(":")) for s in args.sizes.split(",") if s.strip()
    ]

    setup_django(args.database)
    print(environment())
    results = []
    for schools, services in sizes:
        results.append(run_size(schools, services, args.repeat))
    print()
    print_table(results)


# --- data -----------------------------------------------------------------------


def communes() -> tuple[list[str], np.ndarray]:
    """Current communes with a boundary, and the demo's density weight of each."""
    from preparedness.demo import population_weight

    rows = sql(
        "SELECT code, ST_X(ST_PointOnSurface(boundary)), "
        "ST_Y(ST_PointOnSurface(boundary)) FROM preparedness_adminarea "
        "WHERE level = 'commune' AND valid_to IS NULL AND boundary IS NOT NULL "
        "ORDER BY code"
    )
    weights = population_weight(
        np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    )
    return [r[0] for r in rows], weights


def place(schools: int, services: int) -> None:
    """Replace all schools and services by seeded ones inside real communes."""
    from schools.demo import SERVICE_KINDS
    from schools.models import Service

    codes, weights = communes()
    rng = np.random.default_rng(SEED + schools)
    sql("TRUNCATE schools_school, schools_service CASCADE")
    counts = rng.multinomial(schools, weights / weights.sum())
    keep = counts > 0
    sql(
        """
        INSERT INTO schools_school
            (code, name_en, name_km, location, status, created_at, updated_at, level,
             enrolment_girls, enrolment_boys, learners_with_disabilities,
             evacuation_centre, commune_code, hazard_level, hazard_levels)
        SELECT 'B' || lpad((row_number() OVER (ORDER BY k.code, d.path))::text, 7, '0'),
               'Bench school', '', d.geom, 'open', now(), now(), 'primary',
               100, 100, 2, false, k.code, 0, '{}'::jsonb
        FROM unnest(%s::text[], %s::int[]) AS k(code, n)
        JOIN preparedness_adminarea a USING (code),
        -- A few odd boundaries get slightly fewer points than asked: ask for more.
        LATERAL ST_Dump(ST_GeneratePoints(a.boundary, k.n + 2 + k.n / 5, %s)) AS d
        WHERE d.path[1] <= k.n
        """,
        [np.array(codes)[keep].tolist(), counts[keep].tolist(), SEED],
    )
    # Services: each kind's share of the total (the demo's), spread over the
    # communes by the square root of the density, as the demo spreads them.
    kinds = list(SERVICE_KINDS)
    shares = np.array([SERVICE_KINDS[k][0] for k in kinds])
    per_kind = rng.multinomial(services, shares / shares.sum())
    spread = np.sqrt(weights) / np.sqrt(weights).sum()
    rows_kind, rows_code, rows_n, rows_seed = [], [], [], []
    for i, (kind, total) in enumerate(zip(kinds, per_kind.tolist(), strict=True)):
        for code, n in zip(codes, rng.multinomial(total, spread).tolist(), strict=True):
            if n:
                rows_kind.append(str(kind))
                rows_code.append(code)
                rows_n.append(n)
                # A seed per kind: the same seed would put every kind of a
                # commune at the same points.
                rows_seed.append(SEED + 1 + i)
    sql(
        """
        INSERT INTO schools_service
            (code, name_en, name_km, location, status, created_at, updated_at, kind,
             contact, sensitive, commune_code, hazard_level, hazard_levels)
        SELECT 'V' || lpad((row_number() OVER (ORDER BY k.kind, k.code, d.path))::text,
                           6, '0'),
               'Bench service', '', d.geom, 'open', now(), now(), k.kind, '',
               k.kind = ANY(%s::text[]), k.code, 0, '{}'::jsonb
        FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[])
            AS k(kind, code, n, seed)
        JOIN preparedness_adminarea a USING (code),
        LATERAL ST_Dump(ST_GeneratePoints(a.boundary, k.n + 2 + k.n / 5, k.seed)) AS d
        WHERE d.path[1] <= k.n
        """,
        [
            [str(k) for k in Service.SENSITIVE_BY_DEFAULT],
            rows_kind,
            rows_code,
            rows_n,
            rows_seed,
        ],
    )
    # Seeded by code: some services flooded (class 3), a few places closed.
    sql(
        "UPDATE schools_service SET hazard_level = 3, "
        """hazard_levels = '{"riverine_flood": 3}' """
        "WHERE ('x' || substr(md5(code), 1, 8))::bit(32)::int::float8 / 2^31 "
        "BETWEEN 0 AND %s",
        [HAZARDOUS_SHARE * 2],
    )
    sql(
        "UPDATE schools_service SET status = 'closed', closed_on = now() "
        "WHERE ('x' || substr(md5(code || 'c'), 1, 8))::bit(32)::int::float8 / 2^31 "
        "BETWEEN 0 AND %s",
        [CLOSED_SERVICES * 2],
    )
    sql(
        "UPDATE schools_school SET status = 'closed', closed_on = now() "
        "WHERE ('x' || substr(md5(code), 1, 8))::bit(32)::int::float8 / 2^31 "
        "BETWEEN 0 AND %s",
        [CLOSED_SCHOOLS * 2],
    )
    sql("VACUUM ANALYZE schools_school")
    sql("VACUUM ANALYZE schools_service")


def describe() -> str:
    ((schools, open_schools),) = sql(
        "SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM schools_school"
    )
    by_kind = sql(
        "SELECT kind, count(*) FILTER (WHERE status = 'open'), "
        "count(*) FILTER (WHERE status = 'open' AND hazard_level >= 3) "
        "FROM schools_service GROUP BY 1 ORDER BY 2 DESC"
    )
    kinds = ", ".join(f"{k} {n:,} ({h} high)" for k, n, h in by_kind)
    return f"{open_schools:,} open schools of {schools:,}; open services: {kinds}"


# --- timing ---------------------------------------------------------------------


def run_size(schools: int, services: int, repeat: int) -> dict:
    from schools.risk.nearest import nearest_services_refresh

    print(f"\n== {schools:,} schools, {services:,} services")
    with stopwatch("placed them"):
        place(schools, services)
    print(describe())

    # First compute: no access rows; then an unchanged recompute.
    def first() -> int:
        sql("TRUNCATE schools_schoolaccess")
        return nearest_services_refresh()

    nearest, written = best_of(repeat, first)
    sql("VACUUM ANALYZE schools_schoolaccess")
    again, rewritten = best_of(repeat, nearest_services_refresh)
    print(
        f"nearest_services_refresh: first {nearest:.2f} s ({written:,} rows), "
        f"unchanged {again:.2f} s ({rewritten:,} rows)"
    )

    bare_times = {}
    sql("SET jit = off")
    for form, statements in bare_forms().items():

        def run(statements: list[str] = statements) -> int:
            return sum(sql(s)[0][0] for s in statements)

        bare_times[form], rows = best_of(repeat, run)
        print(f"  bare, {form}: {bare_times[form]:.2f} s ({rows:,} pairs)")
    sql("RESET jit")
    bare = min(bare_times.values())

    from schools.risk.services import risk_recompute

    def first_risk() -> object:
        sql("TRUNCATE schools_schoolrisk")
        return risk_recompute()

    risk, result = best_of(repeat, first_risk)
    print(f"risk_recompute (first): {risk:.2f} s ({result})")
    return {
        "schools": schools,
        "services": services,
        "nearest": nearest,
        "again": again,
        "bare": bare,
        "risk": risk,
    }


def bare_forms() -> dict[str, list[str]]:
    """Bare nearest-of-each-kind queries: (school, code, distance) counted, no JSON,
    no writes; one list of statements per form."""
    from schools.models import Service

    kinds = [k.value for k in Service.Kind]

    def knn(kind: str, where: str) -> str:
        return f"""
            SELECT count(n.code)::int FROM schools_school s
            CROSS JOIN LATERAL (
                SELECT v.code, ST_Distance(v.location_utm, s.location_utm) AS m
                FROM schools_service v
                WHERE {where}
                ORDER BY v.location_utm <-> s.location_utm LIMIT 1) n
            WHERE s.status = 'open'"""

    return {
        # On the kind's partial GiST index (migration 0009).
        "one KNN per kind (partial index)": [
            knn(k, f"v.kind = '{k}' AND v.status = 'open'") for k in kinds
        ],
        # All kinds in one statement, one LATERAL each.
        "one statement, a LATERAL KNN per kind": [all_kinds(kinds)],
    }


def all_kinds(kinds: list[str]) -> str:
    laterals = "".join(
        f"""
        LEFT JOIN LATERAL (
            SELECT v.code, ST_Distance(v.location_utm, s.location_utm) AS m
            FROM schools_service v WHERE v.kind = '{k}' AND v.status = 'open'
            ORDER BY v.location_utm <-> s.location_utm LIMIT 1) n{i} ON true"""
        for i, k in enumerate(kinds)
    )
    found = " + ".join(f"(n{i}.code IS NOT NULL)::int" for i in range(len(kinds)))
    return f"""SELECT sum({found}) FROM schools_school s {laterals}
        WHERE s.status = 'open'"""


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| schools | services | nearest (first) s | bare KNN s | ratio | "
        "nearest (unchanged) s | risk s | risk + nearest s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        risk = f"{r['risk']:.2f}"
        total = f"{r['risk'] + r['nearest']:.2f}"
        print(
            f"| {r['schools']:,} | {r['services']:,} | {r['nearest']:.2f} | "
            f"{r['bare']:.2f} | {r['nearest'] / r['bare']:.2f} | {r['again']:.2f} | "
            f"{risk} | {total} |"
        )
    print(
        f"goal: ratio <= {GOAL_RATIO}; risk + nearest < {GOAL_TOTAL_S:.0f} s "
        "at 100,000 schools"
    )


if __name__ == "__main__":
    main()
