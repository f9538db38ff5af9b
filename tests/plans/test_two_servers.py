"""Two app servers (gunicorn, as `make serve` runs them) on different ports
share one database: an edit made through one is seen through the other, and
two edits of the same version sent to both at once keep exactly one (the
other gets 409), so no update is lost between processes."""

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from plans.models import Plan
from tests.plans.conftest import create_plan

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    auth = db["USER"] + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgis://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_servers():
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "SALASAFE_DEMO")},
        "DJANGO_SETTINGS_MODULE": "preparedness.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "two-servers-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SALASAFE_HTTPS": "0",
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "preparedness.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90
        for url in urls:
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, "the servers did not start"
                time.sleep(0.3)
        yield urls
    finally:  # also when they did not start: never leave a server behind
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def test_an_edit_through_one_server_is_seen_through_the_other_and_none_is_lost(
    two_servers, api_as, users, orgs
):
    plan = create_plan(api_as, orgs)
    token = Token.objects.create(user=users["coordinator"]).key
    headers = {"Authorization": f"Token {token}"}
    first, second = two_servers
    changed = requests.patch(
        f"{first}/api/plans/{plan['id']}/",
        json={"version": 1, "title": "Changed through the first server"},
        headers=headers,
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    seen = requests.get(
        f"{second}/api/plans/{plan['id']}/", headers=headers, timeout=30
    )
    assert seen.json()["title"] == "Changed through the first server"
    assert seen.json()["version"] == 2

    def patch(url: str, title: str) -> int:
        return requests.patch(
            f"{url}/api/plans/{plan['id']}/",
            json={"version": 2, "title": title},
            headers=headers,
            timeout=30,
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(
            pool.map(patch, two_servers, ["From the first", "From the second"])
        )
    assert codes == [200, 409]
    saved = Plan.objects.get(pk=plan["id"])
    assert saved.version == 3
    assert saved.title in ("From the first", "From the second")
