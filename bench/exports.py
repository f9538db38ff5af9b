"""Benchmark the GeoJSON export of schools through the service, beside ogr2ogr.

    DEBUG=1 .venv/bin/python bench/exports.py [--sizes 15000:2000,100000:10000]
        [--repeat 2] [--database NAME] [--port 8771]

Uses the scratch database `salasafe_exports_bench` (or --database): for each
size (schools:services) it places that many schools and services as
bench/risk.py does (seeded, inside real communes), computes their nearest
services and risk, then, in the same run:

  service   GET /api/schools/export.geojson from a gunicorn process (one sync
            worker, production settings) over loopback HTTP, the body streamed
            to /dev/null by the client; peak RSS (VmHWM) of the worker process
            that served it, read from /proc after the request
  ogr2ogr   `ogr2ogr -f GeoJSON /vsistdout/ PG:... -sql @rows.sql -lco
            RFC7946=YES` piped to /dev/null, where rows.sql is the export's own
            query (priority_list with the same flat columns the GeoPackage
            gets, parameters inlined): the same rows, columns and tables;
            and, for reference, of 9 bare columns of the same rows (code,
            names, commune, level, learners, hazard level, risk score/class)

and prints a Markdown table with ratio = service / ogr2ogr. Each time is the
fastest of --repeat runs. Goals: ratio <= 1 and peak RSS < 300 MB at 100,000.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, best_of, environment, setup_django, sql, stopwatch

BENCH_DB = "salasafe_exports_bench"
GOAL_RSS_MB = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15000:2000,100000:10000")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    sizes = [
        tuple(int(n) for n in s.split(":")) for s in args.sizes.split(",") if s.strip()
    ]
    setup_django(args.database)
    print(environment())
    results = [run_size(n, m, args) for n, m in sizes]
    print()
    print(
        "| schools | service s | ogr2ogr, same query s | ratio | "
        "ogr2ogr, 9 bare columns s | service MB | worker peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['schools']:,} | {r['service']:.2f} | {r['ogr']:.2f} | "
            f"{r['service'] / r['ogr']:.2f} | {r['bare']:.2f} | {r['mb']:.1f} | "
            f"{r['rss']:.0f} |"
        )
    print(f"goal: ratio <= 1.0; peak RSS < {GOAL_RSS_MB} MB at 100,000 schools")


def prepare(schools: int, services: int) -> None:
    """The schools and services of bench/risk.py, with nearest services and risk."""
    from risk import place

    from schools.risk.nearest import nearest_services_refresh
    from schools.risk.services import risk_recompute

    with stopwatch(f"placed {schools:,} schools, {services:,} services"):
        place(schools, services)
    with stopwatch("nearest services and risk"):
        nearest_services_refresh()
        risk_recompute()
    sql("VACUUM ANALYZE schools_schoolrisk")
    sql("VACUUM ANALYZE schools_schoolaccess")


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    host = s["HOST"].replace("/", "%2F")
    return f"postgis://{s['USER']}@{host}:{s['PORT']}/{s['NAME']}"


def pg_source() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"PG:host={s['HOST']} port={s['PORT']} user={s['USER']} dbname={s['NAME']}"


class Server:
    """gunicorn serving SalaSafe on the scratch database (one sync worker)."""

    def __init__(self, port: int) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DEBUG": "0",
            "SECRET_KEY": "bench-only",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SALASAFE_HTTPS": "0",  # loopback: no TLS
        }
        self.port = port
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "preparedness.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/ogc/conformance", timeout=5)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.worker_pid()}/status").read_text()
        kb = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        return int(kb.split()[1]) / 1024

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def fetch(url: str) -> int:
    """GET `url`, streaming the body away; its size in bytes."""
    size = 0
    headers = {"Accept-Encoding": "identity"}  # no gzip: compare like with like
    with requests.get(url, stream=True, timeout=600, headers=headers) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
    return size


def same_rows_sql() -> str:
    """The export's rows and flat columns (the GeoPackage's) as one SQL
    statement with its parameters inlined, for ogr2ogr: the same work."""
    import psycopg
    from django.db import connection
    from django.db.models import F

    from maps.selectors import COLLECTIONS, viewer_for

    schools = COLLECTIONS["schools"]
    viewer = viewer_for(None)
    columns = {f"x_{k}": v for k, v in schools.flat(viewer).items()}
    rows = schools.select(viewer, {}).annotate(**columns, geom=F("location"))
    sql, params = rows.values_list(*columns, "geom").query.sql_with_params()
    connection.ensure_connection()
    raw = connection.connection
    return psycopg.ClientCursor(raw).mogrify(sql, params)


BARE_SQL = (
    "SELECT s.code, s.name_en, s.name_km, s.commune_code, s.level, "
    "s.enrolment_girls + s.enrolment_boys AS learners, s.hazard_level, "
    "r.score AS risk_score, r.risk_class, s.location FROM schools_school s "
    "JOIN schools_schoolrisk r ON r.school_id = s.id WHERE s.status = 'open' "
    "ORDER BY r.score DESC"
)


def ogr2ogr(sql_file: Path) -> int:
    command = (
        f"ogr2ogr -f GeoJSON /vsistdout/ '{pg_source()}' -sql @{sql_file} "
        "-lco RFC7946=YES -nln schools | wc -c"
    )
    done = subprocess.run(command, shell=True, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return int(done.stdout)


def run_size(schools: int, services: int, args: Any) -> dict[str, Any]:
    print(f"\n== {schools:,} schools")
    prepare(schools, services)
    (rows,) = sql(
        "SELECT count(*) FROM schools_school s JOIN schools_schoolrisk r "
        "ON r.school_id = s.id WHERE s.status = 'open'"
    )[0]
    server = Server(args.port)
    try:
        url = f"http://127.0.0.1:{args.port}/api/schools/export.geojson"
        service, size = best_of(args.repeat, lambda: fetch(url))
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    sql_file = Path(tempfile.mkdtemp(prefix="salasafe-bench-")) / "rows.sql"
    sql_file.write_text(same_rows_sql())
    ogr, ogr_size = best_of(args.repeat, lambda: ogr2ogr(sql_file))
    bare_file = sql_file.with_name("bare.sql")
    bare_file.write_text(BARE_SQL)
    bare, bare_size = best_of(args.repeat, lambda: ogr2ogr(bare_file))
    print(f"ogr2ogr of 9 bare columns: {bare:.2f} s, {bare_size / 1e6:.1f} MB")
    print(
        f"service: {service:.2f} s, {size / 1e6:.1f} MB ({rows:,} features), "
        f"worker peak RSS {rss:.0f} MB; ogr2ogr: {ogr:.2f} s, {ogr_size / 1e6:.1f} MB"
    )
    return {
        "schools": rows,
        "service": service,
        "ogr": ogr,
        "bare": bare,
        "mb": size / 1e6,
        "rss": rss,
    }


if __name__ == "__main__":
    main()
