"""The checklist form on a phone: at most 150 KB over the wire, all assets included.

Measured in headless Chromium (the Debian `chromium` package driven by
Playwright) against a live server, on a phone-sized viewport, with the shipped
45-item framework in Khmer (the heavier language: three bytes a character).
"""

import shutil

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

from schools.checklists import services
from schools.checklists.services import framework_load_shipped
from tests.factories import make_school

BUDGET_BYTES = 150 * 1024
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.django_db(transaction=True)
def test_the_checklist_form_weighs_at_most_150_kb_on_a_phone(
    live_server, users, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; Django's ORM is
    # only touched before the browser starts and by the live server's threads.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    framework_load_shipped()
    school = make_school("KPT-1", lon=104.15, lat=10.6, commune="070101")
    official = users["official_07"]
    previous = services.assessment_create(school=school, by=official)
    rules = previous.framework.items.values_list("code", "answer_type")
    answers = {c: (0 if t == "number" else "no") for c, t in rules}
    services.assessment_update(
        assessment_id=previous.pk, by=official, version=1, answers=answers
    )
    draft = services.assessment_create(school=school, by=official)
    client = Client()
    client.force_login(official)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "install Debian's chromium package (scripts/system-deps does)"
    transferred: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, locale="km-KH"
        )
        host = live_server.url.split("//")[1].split(":")[0]
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": session,
                    "domain": host,
                    "path": "/",
                },
                {"name": "django_language", "value": "km", "domain": host, "path": "/"},
            ]
        )
        page = context.new_page()

        def finished(request):
            sizes = request.sizes()
            transferred[request.url] = (
                sizes["responseBodySize"] + sizes["responseHeadersSize"]
            )

        page.on("requestfinished", finished)
        response = page.goto(f"{live_server.url}/assessments/{draft.pk}/edit/")
        page.wait_for_load_state("networkidle")
        questions = page.locator("div.q").count()
        encoding = response.headers.get("content-encoding")
        browser.close()

    assert response.status == 200
    assert questions == 45
    assert encoding == "gzip"
    total = sum(transferred.values())
    assert total <= BUDGET_BYTES, transferred
    assert any(url.endswith(".css") for url in transferred)  # assets counted
