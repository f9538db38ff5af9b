"""The risk map in a real browser: headless Chromium (Debian's `chromium`, driven
by Playwright) with every request off this machine refused, as on an office
network without internet: the layers still load, schools are drawn from the
vector tiles and open their popup, and no script fails.
"""

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from tests.maps.riskmap_data import PP1_KM, make_map_data

OUTPUT = Path(__file__).resolve().parents[1] / "output"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.mark.django_db(transaction=True)
def test_the_map_works_offline_in_chromium(live_server, geography, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    make_map_data()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "install Debian's chromium package (scripts/system-deps does)"
    host = urlparse(live_server.url).hostname
    errors: list[str] = []
    blocked: list[str] = []
    tiles: list[int] = []
    OUTPUT.mkdir(exist_ok=True)

    def route(r):
        if urlparse(r.request.url).hostname == host:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "net::ERR_FAILED" not in m.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: tiles.append(r.status) if "/tiles/schools/" in r.url else None,
        )
        page.goto(f"{live_server.url}/map/")
        page.wait_for_load_state("networkidle")
        overlays = page.locator(
            ".leaflet-control-layers-overlays label"
        ).all_text_contents()
        # Close up on Phnom Penh, where PP1 is drawn as a point of its own.
        page.evaluate(
            "window.salasafeMap.setView([11.56, 104.92], 15, {animate: false})"
        )
        page.wait_for_load_state("networkidle")
        page.locator(".leaflet-salasafe-schools-pane path").first.wait_for()
        point = page.evaluate(
            "(() => { const m = window.salasafeMap;"
            " const p = m.latLngToContainerPoint([11.56, 104.92]);"
            " const r = document.querySelector('.folium-map').getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; })()"
        )
        page.mouse.click(*point)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        popup_text = popup.inner_text()
        link = popup.locator("a.open-page").get_attribute("href", timeout=3000)
        page.screenshot(path=str(OUTPUT / "map_browser.png"))
        browser.close()

    names = " ".join(overlays)
    for layer in (
        "Schools by risk class",
        "Hazard zones by class",
        "Child-protection services",
        "Administrative boundaries",
        "Storm tracks and wind radius",
    ):
        assert layer in names
    assert 200 in tiles  # school markers came from the vector tiles
    assert "PP1" in popup_text and PP1_KM in popup_text and "300" in popup_text
    assert link == "/schools/PP1/"
    assert any("openstreetmap" in url for url in blocked)  # the base map was refused
    assert errors == []
