"""Time to a usable checklist form over a throttled 400 kbps link (goal: under 3 s).

Loads the shipped 45-item framework into the scratch database
`salasafe_checklist_bench`, makes one school with a previous assessment and a
draft, serves the app with `runserver`, and opens the form in headless Chromium
on a phone-sized viewport, in Khmer and in English, with the network throttled
through the DevTools protocol (400 kbit/s down and up, 150 ms round trip, cache
off). "Usable" is the `load` event: the page has no script, so once the HTML
and the stylesheet are in, every question can be answered.

Baselines in the same run: the same page unthrottled, and an estimate of what
the link costs the bytes transferred (bytes / 50 kB/s + three round trips for
TCP, request and stylesheet; Chromium's emulation can come in under it).

    DEBUG=1 .venv/bin/python bench/checklist_page.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, environment, setup_django

DATABASE = "salasafe_checklist_bench"
KBPS = 400
RTT_MS = 150
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare() -> tuple[int, str]:
    """A Kampot school with a previous assessment and a draft: (draft id, session)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from preparedness.models import Membership
    from schools.checklists import services
    from schools.models import Assessment, School

    services.framework_load_shipped()
    Assessment.objects.filter(school__code="BENCH-1").delete()
    School.objects.filter(code="BENCH-1").delete()
    from django.contrib.gis.geos import Point

    from preparedness.models import AdminArea

    commune = AdminArea.objects.filter(code__startswith="07", level="commune").first()
    school = School.objects.create(
        code="BENCH-1",
        name_en="Bench Primary School",
        name_km="សាលាបឋមសិក្សាសាកល្បង",
        level=School.Level.PRIMARY,
        commune=commune,
        location=Point(104.2, 10.6, srid=4326),
    )
    user, _ = get_user_model().objects.get_or_create(username="bench_official")
    membership, _ = Membership.objects.get_or_create(
        user=user, defaults={"role": Membership.Role.EDUCATION_OFFICIAL}
    )
    membership.areas.set(AdminArea.objects.filter(code="07"))
    previous = services.assessment_create(school=school, by=user)
    answers = {
        code: (0 if kind == "number" else "partial" if kind != "yes_no" else "no")
        for code, kind in previous.framework.items.values_list("code", "answer_type")
    }
    services.assessment_update(
        assessment_id=previous.pk, by=user, version=1, answers=answers
    )
    services.assessment_submit(assessment_id=previous.pk, by=user, version=2)
    draft = services.assessment_create(school=school, by=user)
    client = Client()
    client.force_login(user)
    return draft.pk, client.cookies["sessionid"].value


def _measure(
    url: str, session: str, language: str, throttled: bool
) -> tuple[float, int]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True
        )
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": session,
                    "domain": "127.0.0.1",
                    "path": "/",
                },
                {
                    "name": "django_language",
                    "value": language,
                    "domain": "127.0.0.1",
                    "path": "/",
                },
            ]
        )
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if throttled:
            rate = KBPS * 1000 / 8
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": RTT_MS,
                    "downloadThroughput": rate,
                    "uploadThroughput": rate,
                },
            )
        sizes: list[int] = []
        page.on(
            "requestfinished",
            lambda r: sizes.append(
                r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
            ),
        )
        started = time.perf_counter()
        page.goto(url, wait_until="load")
        seconds = time.perf_counter() - started
        assert page.locator("div.q").count() == 45
        browser.close()
    return seconds, sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django(DATABASE)
    draft, session = _prepare()
    from django.db import connection

    connection.close()
    port = _free_port()
    env = dict(os.environ)
    from django.conf import settings

    db = settings.DATABASES["default"]
    host = db["HOST"].replace("/", "%2F")
    env["DATABASE_URL"] = f"postgis://{db['USER']}@{host}:{db['PORT']}/{DATABASE}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/assessments/{draft}/edit/"
        print(environment())
        link = f"{KBPS} kbps, {RTT_MS} ms RTT s"
        print(f"| language | bytes | {link} | estimate s | unthrottled s |")
        print("|---|---|---|---|---|")
        for language in ("km", "en"):
            slow = min(
                _measure(url, session, language, True) for _ in range(args.repeat)
            )
            fast = min(
                _measure(url, session, language, False) for _ in range(args.repeat)
            )
            estimate = slow[1] / (KBPS * 1000 / 8) + 3 * RTT_MS / 1000
            cells = [
                f"{slow[1]:,}",
                f"{slow[0]:.2f}",
                f"{estimate:.2f}",
                f"{fast[0]:.2f}",
            ]
            print(f"| {language} | " + " | ".join(cells) + " |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
