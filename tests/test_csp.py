"""The content security policy: every response carries it, every page's inline
scripts and styles carry that response's fresh nonce, and in a real browser
(Debian's Chromium through Playwright) the risk map, an event page and the API
docs draw with the policy on and nothing refused.
"""

import datetime as dt
import shutil
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.test import Client
from playwright.sync_api import sync_playwright

from preparedness.models import Organization
from tests.factories import make_organization, make_school
from tests.maps.riskmap_data import make_map_data
from tests.plans.conftest import create_plan

pytestmark = pytest.mark.django_db
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive -> sources."""
    header = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def nonce_of(response) -> str:
    sources = policy(response)["script-src"]
    nonces = [s[len("'nonce-") : -1] for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, sources
    assert f"'nonce-{nonces[0]}'" in policy(response)["style-src"]
    return nonces[0]


class InlineTags(HTMLParser):
    """Collects inline <script> and <style> tags and inline event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[tuple[str, str | None]] = []  # (tag, nonce)
        self.external: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.handlers += [f"{tag} {name}" for name in values if name.startswith("on")]
        if tag == "script" and values.get("src"):
            self.external.append(values["src"])
        elif tag in ("script", "style"):
            self.inline.append((tag, values.get("nonce")))


def inline_tags(response) -> InlineTags:
    parser = InlineTags()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def pages(users, api_as):
    """The pages with scripts: the map, the API docs, a plan and an event."""
    make_map_data()
    school = make_school("K-EV1", lon=104.15, lat=10.60, commune="070101")
    make_school("K-EV2", lon=104.16, lat=10.61, commune="070101")
    orgs = {
        "sci": Organization.objects.get(acronym="SCI"),
        "unicef": make_organization("UNICEF", "UNICEF", kind="un_agency"),
    }
    client = Client()
    client.force_login(users["coordinator"])
    plan = create_plan(api_as, orgs)
    event = client.post(
        "/api/events/",
        {
            "name": "Mekong flood 2026",
            "hazard_type": "riverine_flood",
            "starts_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
            "provinces": ["07"],
        },
        content_type="application/json",
    )
    assert event.status_code == 201, event.json()
    event_id = event.json()["id"]
    reported = client.post(
        f"/api/events/{event_id}/reports/",
        {
            "reports": [
                {
                    "school": school.code,
                    "reported_on": dt.date.today().isoformat(),
                    "status": "closed",
                    "flooded": True,
                }
            ]
        },
        content_type="application/json",
    )
    assert reported.status_code in (200, 201), reported.json()
    return {
        "client": client,
        "urls": [
            "/map/",
            "/api/docs/",
            f"/plans/{plan['id']}/",
            f"/events/{event_id}/",
        ],
        "event": f"/events/{event_id}/",
    }


def test_every_response_has_the_policy_with_a_fresh_nonce(pages):
    """Pages, the API and health checks all carry the policy; each page view
    gets a nonce of its own; scripts never run inline without it."""
    client = pages["client"]
    first, second = client.get("/map/"), client.get("/map/")
    assert first.status_code == second.status_code == 200
    assert nonce_of(first) != nonce_of(second)
    assert len(nonce_of(first)) >= 22  # 128 random bits, base64
    rules = policy(first)
    assert rules["default-src"] == ["'self'"]
    assert rules["script-src"][0] == "'self'" and len(rules["script-src"]) == 2
    assert "'unsafe-inline'" not in rules["script-src"] + rules["style-src"]
    assert "'unsafe-eval'" not in rules["script-src"]
    assert rules["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert rules["connect-src"] == ["'self'"]
    assert rules["frame-ancestors"] == ["'none'"]
    assert rules["form-action"] == ["'self'"]
    assert rules["object-src"] == ["'none'"]
    assert rules["base-uri"] == ["'self'"]
    for url in ("/api/schools/", "/healthz", "/", "/accounts/login/"):
        response = Client().get(url)
        assert policy(response)["default-src"] == ["'self'"], url
        assert policy(response)["frame-ancestors"] == ["'none'"], url


@pytest.mark.parametrize("who", ["anonymous", "coordinator"])
def test_every_inline_script_and_style_carries_the_nonce(pages, who):
    """On the map, the API docs, a plan and an event page every inline <script>
    and <style> has this response's nonce, and no element has an inline event
    handler (onclick=...), which no nonce can allow."""
    client = pages["client"] if who == "coordinator" else Client()
    for url in pages["urls"]:
        response = client.get(url)
        if who == "anonymous" and response.status_code == 302:
            continue  # plans and events are for signed-in roles
        assert response.status_code == 200, url
        tags = inline_tags(response)
        if tags.inline or not url.startswith(("/plans/", "/events/")):
            nonce = nonce_of(response)
            assert tags.inline == [(tag, nonce) for tag, _ in tags.inline], url
        assert "'unsafe-inline'" not in policy(response)["script-src"], url
        assert tags.handlers == [], url
        for src in tags.external:  # scripts from SalaSafe itself only
            assert urlparse(src).netloc == "", (url, src)
    folium = inline_tags(client.get("/map/"))
    assert sum(tag == "script" for tag, _ in folium.inline) >= 2  # head + map


def test_in_chromium_the_pages_draw_with_no_policy_violation(
    pages, live_server, monkeypatch
):
    """With the policy on, /map/ draws its layers and schools from the vector
    tiles, an event page draws its schools, Swagger UI lists the operations, and
    Chromium refuses nothing (no "Refused to ..." message, no violation event)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "install Debian's chromium package (scripts/system-deps does)"
    host = urlparse(live_server.url).hostname
    refused: list[str] = []
    errors: list[str] = []
    tiles: list[int] = []
    session = pages["client"].cookies["sessionid"].value

    def route(r):
        if urlparse(r.request.url).hostname == host:
            r.continue_()
        else:
            r.abort()  # no network: the OSM base map is refused by the test

    def console(message):
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            refused.append(message.text)
        elif message.type == "error" and "net::ERR_FAILED" not in message.text:
            errors.append(message.text)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies(
            [{"name": "sessionid", "value": session, "url": live_server.url}]
        )
        context.add_init_script(
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation', e =>"
            " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page = context.new_page()
        page.route("**/*", route)
        page.on("console", console)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response",
            lambda r: tiles.append(r.status) if "/tiles/schools/" in r.url else None,
        )

        page.goto(f"{live_server.url}/map/")
        page.wait_for_load_state("networkidle")
        overlays = page.locator(
            ".leaflet-control-layers-overlays label"
        ).all_text_contents()
        page.evaluate(
            "window.salasafeMap.setView([11.56, 104.92], 15, {animate: false})"
        )
        page.wait_for_load_state("networkidle")
        page.locator(".leaflet-salasafe-schools-pane path").first.wait_for()
        page.locator("#riskmap-q").fill("PP")
        page.locator("#riskmap-q").press("Enter")  # searches, does not submit
        map_violations = page.evaluate("window.__violations")
        map_url = page.url

        page.goto(f"{live_server.url}{pages['event']}")
        page.locator("#status-map[data-features]").wait_for(timeout=10000)
        drawn = page.locator("#status-map[data-features]").get_attribute(
            "data-features"
        )
        markers = page.locator("#status-map .leaflet-overlay-pane path").count()
        event_violations = page.evaluate("window.__violations")

        page.goto(f"{live_server.url}/api/docs/")
        page.locator(".swagger-ui .opblock").first.wait_for(timeout=20000)
        operations = page.locator(".swagger-ui .opblock").count()
        docs_violations = page.evaluate("window.__violations")
        browser.close()

    names = " ".join(overlays)
    for layer in ("Schools by risk class", "Hazard zones by class"):
        assert layer in names
    assert 200 in tiles  # the schools came from the vector tiles
    assert map_url == f"{live_server.url}/map/"
    assert drawn is not None and markers == int(drawn) > 0  # the event's schools
    assert operations > 20
    assert map_violations == event_violations == docs_violations == []
    assert refused == []
    assert errors == []
