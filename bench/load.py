"""Load test: 50 users at once against `make serve` on loopback (locust).

Runs in its own virtual environment, so that locust (gevent, Flask, ...) stays
out of the app's:

    python3.11 -m venv var/bench-venvs/locust
    var/bench-venvs/locust/bin/pip install "locust>=2.32,<3"
    SALASAFE_LOGIN_EXEMPT=official_07 make serve PORT=8731 WORKERS=5 &
    var/bench-venvs/locust/bin/python bench/load.py --host http://127.0.0.1:8731

The users mix what people do during a flood (weights in `Visitor` and
`Official`): the risk map page and its vector tiles at national (z 7) and
province (z 10) zoom, school lists (/api/schools/?province=...,
/api/risk/priorities/), GeoJSON exports of one province, and education
officials (the demo login `official_07`, Kampot) creating a checklist through
the API and saving it again with the rest of the answers. The assessments stay
drafts whose notes say "bench/load.py"; `--cleanup` deletes them afterwards
(through manage.py, with the app's .venv).

The measured run (--time) follows --warmup seconds of the same load, not
reported: just after `make serve` starts, workers load their code and every
public answer is built for the first time (p95 650-960 ms for those seconds).
Give --warmup 0 to measure from a cold start.

It prints requests per second, p50/p95/p99 and errors per kind of request as a
Markdown table, and exits 1 if any request failed or a read's p95 is 300 ms or
more. Only loopback hosts are accepted: this never loads someone else's server.
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parent.parent
NOTE = "bench/load.py"
OFFICIAL = os.environ.get("SALASAFE_LOAD_OFFICIAL", "official_07")
PASSWORD = os.environ.get("SALASAFE_DEMO_PASSWORD", "salasafe-demo")
READ_P95_MS = 300
# Provinces (NCDD code, lon, lat of a point inside) for province-zoom views.
PROVINCES = [
    ("07", 104.18, 10.61),  # Kampot
    ("08", 104.99, 11.47),  # Kandal
    ("12", 104.92, 11.56),  # Phnom Penh
    ("14", 105.32, 11.48),  # Prey Veng
    ("03", 105.46, 11.99),  # Kampong Cham
    ("17", 103.86, 13.36),  # Siem Reap
    ("01", 102.98, 13.59),  # Banteay Meanchey
    ("10", 106.02, 12.49),  # Kratie
]
MAP_LAYERS = ("schools", "admin_areas", "hazard_zones")  # shown when the map opens
# What an official's checklist needs, fetched once before the users start.
SHARED: dict[str, list] = {"schools": [], "items": []}


def tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web-mercator tile (x, y) holding a point at zoom z."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# Cambodia at zoom 7 is tiles x 100-102, y 58-60 (what the map opens on).
NATIONAL = [(7, x, y) for x in range(100, 103) for y in range(58, 61)]


def province_tiles(lon: float, lat: float) -> list[tuple[int, int, int]]:
    x, y = tile(lon, lat, 10)
    return [(10, x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


class Visitor(HttpUser):
    """Anyone with the map open: tiles, lists, exports (not signed in)."""

    weight = 9
    wait_time = between(0.5, 1.5)

    def _tile(self, kind: str, z: int, x: int, y: int) -> None:
        layer = random.choice(MAP_LAYERS)
        self.client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", name=kind)

    @task(8)
    def national_tiles(self) -> None:
        self._tile("tile z7 (national)", *random.choice(NATIONAL))

    @task(8)
    def province_tiles(self) -> None:
        _, lon, lat = random.choice(PROVINCES)
        self._tile("tile z10 (province)", *random.choice(province_tiles(lon, lat)))

    @task(2)
    def map_page(self) -> None:
        self.client.get("/map/", name="map page")

    @task(3)
    def schools_of_a_province(self) -> None:
        code = random.choice(PROVINCES)[0]
        self.client.get(f"/api/schools/?province={code}", name="schools list")

    @task(3)
    def priorities(self) -> None:
        code = random.choice([*PROVINCES, ("", 0, 0)])[0]
        query = f"?province={code}" if code else ""
        self.client.get(f"/api/risk/priorities/{query}", name="priorities list")

    @task(1)
    def export_a_province(self) -> None:
        code = random.choice(PROVINCES)[0]
        self.client.get(
            f"/api/schools/export.geojson?province={code}", name="export geojson"
        )


class Official(HttpUser):
    """An education official filling in checklists for Kampot over the API."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        response = self.client.post(
            "/api/auth/token/",
            json={"username": OFFICIAL, "password": PASSWORD},
            name="sign in (token)",
        )
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Token {response.json()['token']}"

    @task
    def checklist(self) -> None:
        items = SHARED["items"]
        half = len(items) // 2
        created = self.client.post(
            "/api/assessments/",
            json={
                "school": random.choice(SHARED["schools"]),
                "answers": answers(items[:half]),
                "notes": NOTE,
            },
            name="checklist create",
        )
        if created.status_code != 201:
            return
        body = created.json()
        self.client.patch(
            f"/api/assessments/{body['id']}/",
            json={"version": body["version"], "answers": answers(items[half:])},
            name="checklist save",
        )
        self.client.get("/api/risk/priorities/?province=07", name="priorities list")


def answers(items: list[dict]) -> dict[str, object]:
    """Plausible answers: whole numbers in their range, choices at random."""
    given: dict[str, object] = {}
    for item in items:
        if item["answer_type"] == "number":
            rule = item["number"]
            given[item["code"]] = random.randint(int(rule["min"]), int(rule["max"]))
        elif item["answer_type"] == "yes_no":
            given[item["code"]] = random.choice(["yes", "no"])
        else:
            given[item["code"]] = random.choice(["yes", "partial", "no"])
    return given


@events.test_start.add_listener
def fetch_shared(environment, **kwargs) -> None:
    """The official's schools and the checklist items, once, before the users."""
    import requests

    host = environment.host
    token = requests.post(
        f"{host}/api/auth/token/",
        json={"username": OFFICIAL, "password": PASSWORD},
        timeout=30,
    )
    token.raise_for_status()
    headers = {"Authorization": f"Token {token.json()['token']}"}
    schools = requests.get(
        f"{host}/api/schools/?province=07&page_size=500", headers=headers, timeout=60
    )
    schools.raise_for_status()
    SHARED["schools"] = [
        f.get("code") or f.get("properties", {}).get("code")
        for f in _results(schools.json())
    ]
    frameworks = requests.get(f"{host}/api/frameworks/", headers=headers, timeout=30)
    version = _results(frameworks.json())[0]["version"]
    detail = requests.get(
        f"{host}/api/frameworks/{version}/", headers=headers, timeout=30
    )
    SHARED["items"] = detail.json()["items"]
    assert SHARED["schools"] and SHARED["items"], "no Kampot schools or no checklist"


def _results(body: dict | list) -> list[dict]:
    if isinstance(body, list):
        return body
    results = body.get("results", body.get("features", []))
    if isinstance(results, dict):  # GeoJSON pagination
        return results.get("features", [])
    return results


# --------------------------------------------------------------------- runner
def loopback_only(host: str) -> None:
    name = urlparse(host).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except socket.gaierror:
        sys.exit(f"--host: cannot resolve {name!r}")
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        print(f"--host: {name} is not loopback; this load test runs on 127.0.0.1 only")
        sys.exit(2)


def report(stats_csv: Path, seconds: float) -> tuple[str, bool]:
    """A Markdown table of the locust stats; whether the goal was met."""
    rows = list(csv.DictReader(stats_csv.open()))
    lines = [
        "| request | count | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ok = True
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
        count, failures = int(row["Request Count"]), int(row["Failure Count"])
        p95 = float(row["95%"] or 0)
        write = name.startswith(("checklist", "sign in")) or name == "**all**"
        if failures or (not write and p95 >= READ_P95_MS):
            ok = False
        lines.append(
            f"| {name} | {count} | {count / seconds:.1f} | {row['50%']} | "
            f"{row['95%']} | {row['99%']} | {float(row['Max Response Time']):.0f} | "
            f"{failures} |"
        )
    return "\n".join(lines), ok


def cleanup() -> None:
    """Delete the draft checklists this test made (the app's manage.py)."""
    code = (
        "from schools.models import Assessment;"
        f"n, _ = Assessment.objects.filter(notes={NOTE!r},"
        " status=Assessment.Status.DRAFT).delete();"
        "print('deleted', n, 'rows of load-test drafts')"
    )
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
        check=True,
    )


def run_locust(args: argparse.Namespace, seconds: int, prefix: Path) -> None:
    """`args.users` users for `seconds`, statistics to `prefix`_stats.csv."""
    subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", __file__, "--headless",
            "--host", args.host, "--users", str(args.users),
            "--spawn-rate", str(args.spawn_rate), "--run-time", f"{seconds}s",
            "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
        ],
        check=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="http://127.0.0.1:8731")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--time", type=int, default=60, help="seconds (default 60)")
    parser.add_argument("--cleanup", action="store_true", help="delete the drafts")
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="seconds of the same load before the measured run, not reported "
        "(default 20; 0: measure from a cold start)",
    )
    args = parser.parse_args()
    loopback_only(args.host)
    with tempfile.TemporaryDirectory() as tmp:
        if args.warmup:
            run_locust(args, args.warmup, Path(tmp) / "warmup")
        prefix = Path(tmp) / "load"
        run_locust(args, args.time, prefix)
        table, ok = report(Path(f"{prefix}_stats.csv"), args.time)
    print(
        f"\n{args.users} users, {args.time} s after {args.warmup} s of warm-up, "
        f"{args.host} (goal: no errors, p95 < {READ_P95_MS} ms for reads)\n"
    )
    print(table)
    print("\ngoal met" if ok else "\ngoal MISSED")
    if args.cleanup:
        cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
