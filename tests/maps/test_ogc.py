"""OGC API - Features at /ogc/: GDAL's OAPIF driver reads every collection from
a live server; paging, single items, errors and masking through the API."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from rest_framework.authtoken.models import Token

from tests.maps.export_data import K1_KM, SCHOOL_ORDER, make_export_data

COUNTS = {"schools": 4, "services": 1, "hazard_zones": 1, "admin_areas": 3}


@pytest.fixture
def data(users):
    return make_export_data()


def ogrinfo(url: str, *args: str) -> str:
    done = subprocess.run(
        ["ogrinfo", "-ro", *args, f"OAPIF:{url}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_gdal_reads_every_collection(live_server, data):
    """`ogrinfo OAPIF:` lists the four collections and reads each one whole,
    following the next links (GDAL asks for 10 features a page)."""
    base = f"{live_server.url}/ogc/"
    listing = ogrinfo(base, "-q")
    for name in COUNTS:
        assert name in listing
    for name, count in COUNTS.items():
        text = subprocess.run(
            ["ogrinfo", "-ro", "-al", f"OAPIF:{base}", name],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert len(re.findall(r"^OGRFeature", text, flags=re.M)) == count, name
    schools = subprocess.run(
        ["ogrinfo", "-ro", "-al", f"OAPIF:{base}", "schools"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert K1_KM in schools and "POINT (104.151235 10.601235)" in schools


@pytest.mark.django_db(transaction=True)
def test_gdal_reads_with_a_token_what_a_coordinator_may_see(live_server, users, data):
    token = Token.objects.create(user=users["coordinator"])
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{live_server.url}/ogc/", "services"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"GDAL_HTTP_HEADERS": f"Authorization: Token {token.key}"},
    )
    assert set(re.findall(r"code \(String\) = (\S+)", done.stdout)) == {
        "SRV-HC",
        "SRV-KS",
        "SRV-PS",
    }


@pytest.mark.django_db
def test_landing_page_conformance_and_api(api, data):
    landing = api.get("/ogc/")
    assert landing["Content-Type"] == "application/json"
    rels = {link["rel"]: link for link in landing.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    conformance = api.get("/ogc/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conformance)
    assert any(c.endswith("/conf/geojson") for c in conformance)
    assert any(c.endswith("/conf/oas30") for c in conformance)
    document = api.get("/ogc/api")
    assert document["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    paths = json.loads(document.content)["paths"]
    assert "/collections/schools/items" in paths
    names = {
        p["name"] for p in paths["/collections/schools/items"]["get"]["parameters"]
    }
    assert {"bbox", "limit", "offset", "province", "risk_class"} <= names


@pytest.mark.django_db
def test_collections_have_an_extent_in_crs84(api, data):
    collections = api.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections] == list(COUNTS)
    schools = api.get("/ogc/collections/schools").json()
    assert schools["extent"]["spatial"]["bbox"] == [[104.151235, 10.6, 104.95, 11.56]]
    assert schools["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
    assert any(link["rel"] == "items" for link in schools["links"])


@pytest.mark.django_db
def test_items_page_with_next_and_prev_links(api, data):
    seen, url, pages = [], "/ogc/collections/schools/items?limit=3", 0
    while url:
        response = api.get(url)
        assert response["Content-Type"] == "application/geo+json"
        page = json.loads(response.content)
        assert page["numberMatched"] == 4
        assert page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        links = {link["rel"]: link["href"] for link in page["links"]}
        assert ("prev" in links) == (pages > 0)
        url = links.get("next", "").replace("http://testserver", "")
        pages += 1
    assert seen == SCHOOL_ORDER and pages == 2
    big = json.loads(api.get("/ogc/collections/schools/items?limit=50000").content)
    assert big["numberReturned"] == 4  # served as 10,000


@pytest.mark.django_db
def test_bbox_and_property_filters(api, data):
    def ids(query: str) -> list[str]:
        response = api.get(f"/ogc/collections/schools/items?{query}")
        return [f["id"] for f in json.loads(response.content)["features"]]

    assert ids("bbox=104.0,10.5,104.5,10.7") == ["K1", "K2"]
    assert ids("province=07&risk_class=very_high") == ["K1"]
    assert ids("province=12&f=json") == ["PP1"]
    kinds = api.get("/ogc/collections/services/items?kind=health_centre").content
    assert [f["id"] for f in json.loads(kinds)["features"]] == ["SRV-HC"]


@pytest.mark.django_db
def test_a_single_item(api, api_as, data):
    response = api.get("/ogc/collections/schools/items/K1")
    assert response["Content-Type"] == "application/geo+json"
    feature = json.loads(response.content)
    assert feature["id"] == "K1" and feature["properties"]["name_km"] == K1_KM
    assert "critical_gaps" not in feature["properties"]
    assert any(link["rel"] == "collection" for link in feature["links"])
    zone = data["zone"].pk
    assert api.get(f"/ogc/collections/hazard_zones/items/{zone}").status_code == 200
    assert api.get("/ogc/collections/services/items/SRV-PS").status_code == 404
    shelter = api_as("coordinator").get("/ogc/collections/services/items/SRV-PS")
    assert json.loads(shelter.content)["properties"]["kind"] == "safe_shelter"
    coordinator = api_as("coordinator").get("/ogc/collections/schools/items/K1")
    assert json.loads(coordinator.content)["properties"]["critical_gaps"] == ["P2.01"]


@pytest.mark.django_db
def test_errors_are_json(api, data):
    for url in (
        "/ogc/collections/nothing",
        "/ogc/collections/nothing/items",
        "/ogc/collections/schools/items/NOPE",
        "/ogc/collections/hazard_zones/items/abc",
        "/ogc/collections/plan_coverage/items",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json" and response.json()
    for query, name in (
        ("bbox=1,2,3", "bbox"),
        ("bbox=10,0,5,5", "bbox"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("offset=-1", "offset"),
        ("province=7", "province"),
        ("f=html", "f"),
    ):
        response = api.get(f"/ogc/collections/schools/items?{query}")
        assert response.status_code == 400, query
        assert name in response.json(), query
