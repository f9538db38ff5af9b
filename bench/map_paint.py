"""First meaningful paint of the national risk map in headless Chromium.

    DEBUG=1 .venv/bin/python bench/map_paint.py [--sizes demo,100000] [--repeat 3]

For each dataset a dev server (`manage.py runserver --noreload`) is started on
its own port and `/map/` is loaded in Debian's chromium (Playwright) with every
host off this machine unresolvable (no base map), a fresh browser context per
run. Measured from navigation start:

  shell    the page with no data layer drawn yet: the Leaflet map exists
           (the baseline, same page, same run)
  schools  school symbols drawn from the vector tiles (first SVG path in the
           schools pane): the first meaningful paint; goal < 2 s

`demo` is the dev database (`salasafe`, the national demo data). A number N is
the scratch database `salasafe_map_bench` with N seeded open schools placed as
bench/risk.py places them (and N/10 services), risk computed by
`risk_recompute()`; the dev database is never touched. Medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, environment

BENCH_DB = "salasafe_map_bench"
GOAL_S = 2.0
PORT = 8779
WAIT_SCHOOLS = (
    """() => document.querySelector('.leaflet-salasafe-schools-pane path') !== null"""
)


def prepare(schools: int) -> str:
    """Fill the scratch database with `schools` schools and their risk; return
    its DATABASE_URL."""
    from _common import setup_django, sql

    setup_django(BENCH_DB)
    (count,) = sql("SELECT count(*) FROM schools_schoolrisk")[0]
    if count != schools:
        import risk as risk_bench

        from schools.risk.nearest import nearest_services_refresh
        from schools.risk.services import risk_recompute

        risk_bench.place(schools, schools // 10)
        nearest_services_refresh()
        risk_recompute()
        sql("VACUUM ANALYZE")
    from django.db import connection

    s = connection.settings_dict
    host = s["HOST"].replace("/", "%2F")
    return f"postgis://{s['USER']}@{host}:{s['PORT']}/{BENCH_DB}"


def serve(database_url: str | None) -> subprocess.Popen:
    env = dict(os.environ, DEBUG="1", SALASAFE_DEMO="1")
    if database_url:
        env["DATABASE_URL"] = database_url
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    # Warm the raster overlay cache and Python imports (not measured).
    urllib.request.urlopen(f"http://127.0.0.1:{PORT}/map/", timeout=60).read()
    return server


def measure(repeat: int) -> tuple[float, float, int]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    shells, firsts, tiles = [], [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            # Off-machine hosts do not resolve (no base map), at no cost per
            # request (a Playwright route would add a round trip to each one).
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        for _ in range(repeat):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            seen: list[str] = []
            page.on(
                "response",
                lambda r, seen=seen: (
                    seen.append(r.url) if "/tiles/schools/" in r.url else None
                ),
            )
            page.goto(f"http://127.0.0.1:{PORT}/map/", wait_until="commit")
            page.wait_for_function(
                "() => window.salasafeMap !== undefined", timeout=30000
            )
            shells.append(page.evaluate("performance.now()") / 1000)
            page.wait_for_function(WAIT_SCHOOLS, timeout=60000, polling="raf")
            firsts.append(page.evaluate("performance.now()") / 1000)
            page.wait_for_load_state("networkidle")
            tiles = len(seen)
            context.close()
        browser.close()
    return statistics.median(shells), statistics.median(firsts), tiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="demo,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        url = None if size == "demo" else prepare(int(size))
        server = serve(url)
        try:
            shell, first, tiles = measure(args.repeat)
        finally:
            server.terminate()
            server.wait()
        rows.append((size, shell, first, tiles))
        print(
            f"{size}: shell {shell:.2f} s, schools painted {first:.2f} s "
            f"({tiles} tiles)"
        )
    if "DJANGO_SETTINGS_MODULE" not in os.environ:
        sys.path.insert(0, str(ROOT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "preparedness.settings"
        import django

        django.setup()
    print()
    print(environment())
    print("| data | page shell, no data layer (s) | schools painted (s) | goal |")
    print("|---|---|---|---|")
    for size, shell, first, _tiles in rows:
        label = "demo (dev database)" if size == "demo" else f"{int(size):,} schools"
        ok = "met" if first < GOAL_S else "missed"
        print(f"| {label} | {shell:.2f} | {first:.2f} | < {GOAL_S:.0f} s: {ok} |")


if __name__ == "__main__":
    main()
