"""Benchmark an API bbox query returning about 1,000 schools, beside pygeoapi.

    DEBUG=1 .venv/bin/python bench/ogc_bbox.py [--schools 100000] [--clients 20]
        [--client wrk|python] [--seconds 20] [--requests 25] [--workers 4]
        [--database NAME] [--place]

Uses the scratch database of bench/exports.py (`salasafe_exports_bench`; with
--place, or when it holds no schools with risk, it places --schools schools as
that bench does). Finds a square around Phnom Penh holding about 1,000 open
schools, then, in the same run, serves the same PostGIS table from gunicorn
(--workers sync workers each, loopback) and times GETs of that bbox with
`limit=1000` from --clients concurrent clients after a warm-up, printing
p50/p95/max latency and throughput. The clients are wrk's connections (Debian's
`wrk`, written in C, 2 threads, --seconds long; the default when it is
installed: `apt-get install wrk`) or Python threads with requests (--requests
each), which take more of the 2 shared cores than the servers they measure:

  salasafe-ogc   /ogc/collections/schools/items (features built by PostGIS)
  salasafe-api   /api/risk/priorities/?bbox=..&page_size=1000 (DRF, for reference)
  pygeoapi       /collections/schools/items of pygeoapi (PyPI, its own venv under
                 var/bench-venvs/pygeoapi, PostgreSQL provider on schools_school;
                 configured by a YAML this script writes)

SalaSafe is timed three times: every client asking the same bbox (what a crowd
looking at one province does; after the first answer every server process serves
it from the shared cache, preparedness/public_cache.py), the same signed in with a
coordinator's API token (kept per role and areas), and every request asking its
own bbox, shifted by a few metres so that no two are alike (nothing from the
cache: the query, the features built by PostGIS and the response every time).

pygeoapi serves the bare table (no risk join, no masking): it does less work per
feature than SalaSafe. Goal: SalaSafe's p95 under 100 ms and below pygeoapi's.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, environment, setup_django, sql
from exports import database_url, prepare

BENCH_DB = "salasafe_exports_bench"
PYGEOAPI_VENV = ROOT / "var" / "bench-venvs" / "pygeoapi"
CENTRE = (104.92, 11.56)  # Phnom Penh
TARGET = 1000
GOAL_P95_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument("--place", action="store_true")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument(
        "--client",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="wrk (Debian's package: C, two threads) or Python threads with requests",
    )
    parser.add_argument("--seconds", type=int, default=20, help="wrk: run time")
    args = parser.parse_args()
    setup_django(args.database)
    print(environment())
    (with_risk,) = sql("SELECT count(*) FROM schools_schoolrisk")[0]
    if args.place or not with_risk:
        prepare(args.schools, args.schools // 10)
    bbox, n = find_bbox()
    box = ",".join(f"{v:.4f}" for v in bbox)
    print(f"bbox {box}: {n:,} open schools with risk")

    results = []
    salasafe = salasafe_server(args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        items = f"{base}/ogc/collections/schools/items?limit=1000&bbox="
        results.append(load("salasafe-ogc (same bbox)", items + box, args))
        signed = {"Authorization": f"Token {coordinator_token()}"}
        results.append(
            load("salasafe-ogc (same bbox, signed in)", items + box, args, None, signed)
        )
        results.append(
            load("salasafe-ogc (a new bbox each time)", items + box, args, shifted)
        )
        results.append(
            load(
                "salasafe-api",
                f"{base}/api/risk/priorities/?bbox={box}&page_size=1000",
                args,
            )
        )
    finally:
        stop(salasafe)
    port = args.port + 2
    pygeoapi = pygeoapi_server(port, args.workers)
    if pygeoapi is not None:
        try:
            url = (
                f"http://127.0.0.1:{port}/collections/schools/items"
                f"?bbox={box}&limit=1000&f=json"
            )
            results.append(load("pygeoapi", url, args))
        finally:
            stop(pygeoapi)
    print()
    print(
        f"| server | features | p50 ms | p95 ms | max ms | req/s "
        f"({args.clients} clients) |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['name']} | {r['features']} | {r['p50']:.0f} | {r['p95']:.0f} | "
            f"{r['max']:.0f} | {r['rps']:.1f} |"
        )
    print(f"goal: SalaSafe p95 < {GOAL_P95_MS:.0f} ms and below pygeoapi's")


def coordinator_token() -> str:
    """The API token of a bench coordinator (created on first use)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from preparedness.models import Membership

    user, _ = get_user_model().objects.get_or_create(username="bench-coordinator")
    Membership.objects.get_or_create(
        user=user, defaults={"role": Membership.Role.COORDINATOR}
    )
    return Token.objects.get_or_create(user=user)[0].key


def find_bbox() -> tuple[tuple[float, float, float, float], int]:
    """A square around Phnom Penh holding about TARGET open schools with risk."""
    low, high = 0.001, 2.0
    best: tuple[tuple[float, float, float, float], int] | None = None
    for _ in range(30):
        half = (low + high) / 2
        box = (CENTRE[0] - half, CENTRE[1] - half, CENTRE[0] + half, CENTRE[1] + half)
        (n,) = sql(
            "SELECT count(*) FROM schools_school s JOIN schools_schoolrisk r "
            "ON r.school_id = s.id WHERE s.status = 'open' AND "
            "s.location && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            list(box),
        )[0]
        best = (box, n)
        if abs(n - TARGET) <= TARGET * 0.03:
            break
        low, high = (half, high) if n < TARGET else (low, half)
    assert best is not None
    return best


def wait_for(url: str, process: subprocess.Popen[bytes]) -> bool:
    for _ in range(150):
        if process.poll() is not None:
            return False
        try:
            requests.get(url, timeout=30)  # a busy machine loads the URLs slowly
            return True
        except requests.ConnectionError:
            time.sleep(0.2)
    return False


def salasafe_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SALASAFE_HTTPS": "0",  # loopback: no TLS
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "preparedness.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if not wait_for(f"http://127.0.0.1:{port}/ogc/conformance", process):
        raise RuntimeError("SalaSafe's gunicorn did not start")
    return process


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png",
         attribution: "OpenStreetMap"}}
logging: {{level: ERROR}}
metadata:
  identification:
    title: SalaSafe bench
    description: The bench schools
    keywords: [schools]
    keywords_type: theme
    terms_of_service: https://example.org
    url: https://example.org
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: bench, url: "https://example.org"}}
  contact: {{name: bench, position: bench, address: bench, city: bench,
            stateorprovince: bench, postalcode: "0", country: KH, phone: "0",
            fax: "0", email: bench@example.org, url: "https://example.org",
            hours: always, instructions: none, role: pointOfContact}}
resources:
  schools:
    type: collection
    title: Schools
    description: The bench schools
    keywords: [schools]
    links: []
    extents:
      spatial:
        bbox: [102, 9, 108, 15]
        crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: "{host}", port: {pgport}, dbname: {db}, user: {user},
               password: "", search_path: [public]}}
        id_field: id
        table: schools_school
        geom_field: location
        # Not location_utm: a second geometry column it cannot serialise.
        properties: [code, name_en, name_km, commune_code, level, enrolment_girls,
                     enrolment_boys, hazard_level, hazard_levels, status]
"""


def pygeoapi_server(port: int, workers: int) -> subprocess.Popen[bytes] | None:
    """pygeoapi on the same table, or None (with the reason printed)."""
    from django.db import connection

    gunicorn = PYGEOAPI_VENV / "bin" / "gunicorn"
    if not gunicorn.exists():
        print(f"pygeoapi: not installed in {PYGEOAPI_VENV} (see docs/benchmarks.md)")
        return None
    s = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="salasafe-pygeoapi-"))
    config = folder / "pygeoapi.yml"
    config.write_text(
        PYGEOAPI_CONFIG.format(
            port=port, host=s["HOST"], pgport=s["PORT"], db=s["NAME"], user=s["USER"]
        )
    )
    openapi = folder / "openapi.yml"
    generated = subprocess.run(
        [
            str(PYGEOAPI_VENV / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(config),
            "--output-file",
            str(openapi),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYGEOAPI_CONFIG": str(config)},
    )
    if generated.returncode:
        print("pygeoapi: openapi generate failed:", generated.stderr[-2000:])
        return None
    log = folder / "pygeoapi.log"
    process = subprocess.Popen(
        [
            str(gunicorn),
            "pygeoapi.flask_app:APP",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        env={
            **os.environ,
            "PYGEOAPI_CONFIG": str(config),
            "PYGEOAPI_OPENAPI": str(openapi),
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    if not wait_for(f"http://127.0.0.1:{port}/collections", process):
        print("pygeoapi: did not start:", log.read_text()[-2000:])
        stop(process)
        return None
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def shifted(url: str, n: int) -> str:
    """`url` with its bbox moved east by n x 1e-5 degrees (about 1 m)."""
    head, box = url.rsplit("bbox=", 1)
    west, south, east, north = (float(v) for v in box.split(","))
    d = n * 1e-5
    return f"{head}bbox={west + d:.5f},{south:.5f},{east + d:.5f},{north:.5f}"


def load(
    name: str,
    url: str,
    args: Any,
    vary: Callable[[str, int], str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Latencies of GET `url` from `args.clients` concurrent clients, sending
    `headers`; with `vary`, request n asks `vary(url, n)` instead (no two alike)."""
    headers = headers or {}
    numbers = itertools.count(1)
    first = requests.get(url, timeout=60, headers=headers)
    first.raise_for_status()
    features = len(first.json()["features"])
    for _ in range(10):  # warm every worker up
        requests.get(url, timeout=60, headers=headers).raise_for_status()
    if args.client == "wrk":
        return wrk_load(
            name, url, features, args, varied=vary is not None, headers=headers
        )
    times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers)
        for _ in range(args.requests):
            with lock:
                asked = vary(url, next(numbers)) if vary else url
            started = time.perf_counter()
            response = session.get(asked, timeout=60)
            _ = response.content
            spent = time.perf_counter() - started
            with lock:
                if response.status_code != 200:
                    failures.append(str(response.status_code))
                times.append(spent)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{name}: {len(failures)} failed requests {failures[:3]}")
    ms = sorted(t * 1000 for t in times)
    result = {
        "name": name,
        "features": features,
        "p50": statistics.median(ms),
        "p95": ms[int(0.95 * (len(ms) - 1))],
        "max": ms[-1],
        "rps": len(ms) / wall,
    }
    print(
        f"{name}: {features} features, p50 {result['p50']:.0f} ms, "
        f"p95 {result['p95']:.0f} ms, {result['rps']:.1f} req/s"
    )
    return result


WRK_SCRIPT = """
wrk.headers["Accept-Encoding"] = "gzip"
{headers}
local head, west, south, east, north = "{head}", {west}, {south}, {east}, {north}
local varied = {varied}
local threads, id, n = 0, 0, 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function request()
  if not varied then return wrk.format("GET", head .. "{box}") end
  n = n + 1
  local d = (n * 2 + id) * 1e-6  -- about 0.1 m a step: no two alike
  return wrk.format("GET", string.format("%s%.6f,%.6f,%.6f,%.6f",
    head, west + d, south, east + d, north))
end
function init(args) id = tonumber(wrk.thread:get("id")) or 0 end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f %.3f\\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency.max / 1000, summary.duration / 1e6))
end
"""


def wrk_load(
    name: str,
    url: str,
    features: int,
    args: Any,
    *,
    varied: bool,
    headers: dict[str, str],
) -> dict[str, Any]:
    """The same measurement with wrk: 2 threads, `args.clients` connections,
    `args.seconds` seconds, sending `headers`; with `varied`, each request moves
    the bbox east by a different multiple of 1e-6 degrees (never one from the
    cache)."""
    parsed = urlparse(url)
    query = parse_qsl(parsed.query)
    box = dict(query)["bbox"]
    west, south, east, north = (float(v) for v in box.split(","))
    others = urlencode([(k, v) for k, v in query if k != "bbox"])
    head = f"{parsed.path}?{others}&bbox="
    sent = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = WRK_SCRIPT.format(
        head=head, box=box, west=west, south=south, east=east, north=north,
        varied="true" if varied else "false", headers=sent,
    )  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        out = subprocess.run(
            [
                "wrk", "-t2", f"-c{args.clients}", f"-d{args.seconds}s",
                "--timeout", "30s", "-s", lua.name,
                f"{parsed.scheme}://{parsed.netloc}",
            ],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(lua.name)
    found = re.search(
        r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", out
    )
    if found is None:
        raise RuntimeError(f"{name}: no result from wrk:\n{out}")
    count, bad_status, socket_errors = (int(found[i]) for i in (1, 2, 3))
    p50, p95, slowest, seconds = (float(found[i]) for i in (4, 5, 6, 7))
    if bad_status or socket_errors:
        raise RuntimeError(
            f"{name}: {bad_status} non-2xx, {socket_errors} socket errors"
        )
    result = {
        "name": name,
        "features": features,
        "p50": p50,
        "p95": p95,
        "max": slowest,
        "rps": count / seconds,
    }
    print(
        f"{name}: {features} features, p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
        f"{result['rps']:.1f} req/s (wrk, {count} requests)"
    )
    return result


if __name__ == "__main__":
    main()
