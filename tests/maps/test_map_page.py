"""The risk map page `/map/`: layers, filters in the URL, no embedded features,
every script and stylesheet from SalaSafe's own static files."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from maps.models import AreaOfInterest
from tests.factories import box
from tests.maps.riskmap_data import PP1_KM, make_map_data

pytestmark = pytest.mark.django_db

LAYER_NAMES = (
    "Provinces: share of schools at high or very high risk",
    "Provinces: mean CSS score",
    "Provinces: learners at high or very high risk",
    "Administrative boundaries",
    "Hazard zones by class",
    "Storm tracks and wind radius",
    "Child-protection services",
    "Schools by risk class",
)


@pytest.fixture
def data(geography):
    return make_map_data()


def test_the_map_names_its_layers_and_loads_schools_from_tiles(client, data):
    """The layer control lists every layer; schools and services come from the
    tile URLs, so the page carries no school or service (not even a name)."""
    response = client.get("/map/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in LAYER_NAMES:
        assert name in html
    assert "/tiles/schools/{z}/{x}/{y}.pbf" in html
    assert "/tiles/services/{z}/{x}/{y}.pbf" in html
    for embedded in ("PP1", "Tonle Basak Primary", PP1_KM, "SRV-HC", "Service SRV-HC"):
        assert embedded not in html


def test_the_choropleth_carries_the_province_aggregates(client, data):
    """Provinces carry their share at high or very high risk (Phnom Penh: 1 of 2)."""
    html = client.get("/map/").content.decode()
    assert '"share_high": 0.5' in html
    assert '"learners_at_risk": 300' in html


def test_filters_are_echoed_into_tiles_and_downloads(client, data):
    """A shared link shows the same: the filters go to every tile and export URL."""
    html = client.get(
        "/map/?province=12&risk_class=high,very_high&level=primary"
    ).content.decode()
    query = "province=12&amp;risk_class=high%2Cvery_high&amp;level=primary"
    assert f"/api/schools/export.geojson?{query}" in html
    for fmt in ("csv", "gpkg", "kml"):
        assert f"/api/schools/export.{fmt}?" in html
    tile_query = "province=12\\u0026risk_class=high%2Cvery_high\\u0026level=primary"
    assert f"/tiles/schools/{{z}}/{{x}}/{{y}}.pbf?{tile_query}" in html
    assert '<option value="12" selected>' in html


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("risk_class=awful", "risk_class"),
        ("province=7x", "province"),
        ("level=university", "level"),
        ("aoi=99999", "aoi"),
        ("never_assessed=perhaps", "never_assessed"),
    ],
)
def test_a_bad_filter_is_a_400_page_naming_it(client, data, query, name):
    response = client.get(f"/map/?{query}")
    assert response.status_code == 400
    assert f"<code>{name}</code>" in response.content.decode()


def test_an_area_of_interest_is_drawn_and_carried_by_the_links(client, data):
    aoi = AreaOfInterest.objects.create(
        name="Riverside", area=box(104.9, 11.5, 105.0, 11.6)
    )
    html = client.get(f"/map/?aoi={aoi.pk}").content.decode()
    assert "Area of interest: Riverside" in html
    assert f"/api/schools/export.csv?aoi={aoi.pk}" in html
    assert f"/api/aois/{aoi.pk}/summary/" in html


def test_every_script_and_stylesheet_is_local(client, data):
    """No CDN: each script and stylesheet is a static file SalaSafe serves."""
    html = client.get("/map/").content.decode()
    for cdn in ("cdn.", "jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg"):
        assert cdn not in html
    assets = re.findall(r'<script src="([^"]+)"', html)
    assets += re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert len(assets) >= 6
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


def test_the_page_speaks_khmer(data):
    client = Client()
    client.cookies["django_language"] = "km"
    response = client.get("/map/")
    assert response.status_code == 200
    assert '<html lang="km">' in response.content.decode()


def test_the_choropleth_is_computed_once_a_minute_per_scope(client, data, users):
    """The province aggregates (the slowest part of the page) are cached: a
    second visit does not recount them; another role gets its own numbers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def aggregate_queries(c):
        with CaptureQueriesContext(connection) as queries:
            assert c.get("/map/").status_code == 200
        return [q for q in queries if "schools_schoolrisk" in q["sql"]]

    assert aggregate_queries(client)  # first visit counts
    assert not aggregate_queries(client)  # cached
    coordinator = Client()
    coordinator.force_login(users["coordinator"])
    assert aggregate_queries(coordinator)  # another scope
