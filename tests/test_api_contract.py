"""The API's contract with its clients (issue 8, found by the fuzz run).

Bad export URLs are 400/404 in the house error format, never a redirect; the
OpenAPI schema validates and types every JSON body that used to be a bare
object, and real responses match it; a bad hazard upload is named as the user
named it, and a failed import leaves no file behind.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from affine import Affine
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_schema_validator import OAS30Validator, validate

from hazards.models import HazardLayer
from schools.models import Exposure, School
from tests.hazards.test_rasters import write_tif
from tests.maps.export_data import make_export_data

LAYERS = "/api/hazards/layers/"
# The endpoints whose bodies were bare objects: (path, method, status, media type).
TYPED = [
    ("/api/aois/", "post", "201", "application/json"),
    ("/api/aois/{id}/summary/", "get", "200", "application/json"),
    ("/api/events/{id}/sitrep/", "get", "200", "application/json"),
    ("/api/plans/{id}/schools/", "get", "200", "application/json"),
    ("/api/risk/priorities/", "get", "200", "application/json"),
    ("/api/search/", "get", "200", "application/json"),
    ("/api/plans/{id}/coverage.geojson", "get", "200", "application/geo+json"),
    ("/api/risk/priorities/export.{fmt}", "get", "200", "application/geo+json"),
    ("/api/{collection}/export.{fmt}", "get", "200", "application/geo+json"),
    ("/api/events/{id}/{name}", "get", "200", "application/geo+json"),
]


# 1. Bad export URLs


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/api/services/export.xyz", "geojson, csv, gpkg"),
        ("/api/schools/export.xyz", "geojson, csv, gpkg, kml"),
        ("/api/schools/export.", "geojson, csv, gpkg, kml"),
        ("/api/schools/export", "geojson, csv, gpkg, kml"),
        ("/api/schools/export.GEOJSON", "geojson, csv, gpkg, kml"),
        ("/api/schools/export.csv.zip", "geojson, csv, gpkg, kml"),
        ("/api/services/export.kml", "geojson, csv, gpkg"),
        ("/api/admin_areas/export.shp", "geojson, csv, gpkg"),
    ],
)
def test_a_bad_export_format_is_a_400_naming_format(api, url, allowed):
    """An unknown (or upper-case) format, or KML for another collection than
    schools, is a 400 on `format` listing the formats that collection offers."""
    response = api.get(url)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["format"]
    offered = re.search(r"one of:? ([a-z, ]+)", body["format"][0])
    assert offered is not None and offered.group(1).strip() == allowed


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/rivers/export.csv", "/api/rivers/export.xyz", "/api/rivers/export"]
)
def test_an_unknown_collection_is_a_json_404(api, url):
    """A collection that does not exist is a 404 `{"detail": [...]}`, whatever
    the format."""
    response = api.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/schools/export.xyz",
        "/api/schools/export.",
        "/api/schools/export",
        "/api/schools/export.GEOJSON",
        "/api/schools/export.geojson/",
        "/api/schools/export.xyz/",
        "/api/services/export.kml.",
        "/api/services/export..csv",
        "/api/hazard_zones/export.json",
        "/api/plan_coverage/export.kml",
        "/api/risk/priorities/export.xyz",
        "/api/risk/priorities/export",
        "/api/risk/aggregates/export.xlsx",
        "/api/plans/1/coverage.geojsonx",
        "/api/plans/3w.xlsx",
        "/api/rivers/export.csv",
    ],
)
def test_no_bad_api_suffix_redirects(api, url):
    """Scripts get an answer they can act on, not a 301 to another resource."""
    response = api.get(url)

    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_good_export_still_answers(api, users):
    """The catch-all URL leaves the real formats working."""
    make_export_data()
    response = api.get("/api/services/export.geojson")

    assert response.status_code == 200
    body = json.loads(b"".join(response.streaming_content))
    assert {f["id"] for f in body["features"]} == {"SRV-HC"}  # shelters hidden


# 2. Typed responses in the OpenAPI schema


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The schema `/api/schema/` serves, as JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _response_schema(
    document: dict[str, Any], path: str, method: str, code: str, media: str
) -> dict[str, Any]:
    content = document["paths"][path][method]["responses"][code]["content"]
    return content[media]["schema"]


def _closed(schema: Any) -> Any:
    """`schema` with `additionalProperties: false` wherever properties are listed,
    so a field the schema does not document fails the check."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {
        key: {name: _closed(sub) for name, sub in value.items()}
        if key == "properties"  # a mapping of names to schemas, not a schema
        else _closed(value)
        for key, value in schema.items()
    }
    if "properties" in schema and "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


def assert_documented(
    document: dict[str, Any], path: str, method: str, code: str, media: str, body: Any
) -> None:
    """`body` matches the documented response, every field documented."""
    schema = _response_schema(document, path, method, code, media)
    schema = _closed({**schema, "components": document["components"]})
    validate(body, schema, cls=OAS30Validator)


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` passes."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/risk/priorities/" in out.read_text()


def test_no_listed_endpoint_documents_a_bare_object(document):
    """Each listed response names its fields (a FeatureCollection its type and
    features), not `type: object` alone."""
    for path, method, code, media in TYPED:
        schema = _resolve(
            document, _response_schema(document, path, method, code, media)
        )
        assert schema.get("properties"), (method, path)
        if media == "application/geo+json" or path == "/api/risk/priorities/":
            assert schema["properties"]["type"]["enum"] == ["FeatureCollection"]
            feature = schema["properties"]["features"]["items"]
            assert {"type", "geometry", "properties"} <= set(feature["required"])


@pytest.fixture
def data(users, api_as):
    """The export data, a Kampot flood exposure of K1 and a sitrep of one report."""
    made = make_export_data()
    Exposure.objects.create(
        layer=HazardLayer.objects.get(),
        school=School.objects.get(code="K1"),
        intensity=1.2,
        hazard_class=2,
        computed_at=timezone.now(),
    )
    coordinator = api_as("coordinator")
    day = timezone.localdate() - dt.timedelta(days=1)
    event = coordinator.post(
        "/api/events/",
        {
            "name": "Mekong flood 2026",
            "hazard_type": "riverine_flood",
            "starts_on": day.isoformat(),
            "provinces": ["07"],
        },
        format="json",
    )
    assert event.status_code == 201, event.json()
    reported = coordinator.post(
        f"/api/events/{event.json()['id']}/reports/",
        {
            "reports": [
                {
                    "school": "K1",
                    "reported_on": day.isoformat(),
                    "status": "closed",
                    "flooded": True,
                }
            ]
        },
        format="json",
    )
    assert reported.status_code == 201, reported.json()
    return {**made, "event": event.json()["id"]}


def _json(response) -> Any:
    if response.streaming:
        return json.loads(b"".join(response.streaming_content))
    return json.loads(response.content)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "coordinator"])
def test_risk_priorities_match_their_schema(data, api, api_as, role, document):
    """The priority list's FeatureCollection, as the public and a coordinator."""
    client = api if role == "anonymous" else api_as(role)
    response = client.get("/api/risk/priorities/")
    assert response.status_code == 200
    body = response.json()
    assert len(body["features"]) == 4
    path = "/api/risk/priorities/"
    assert_documented(document, path, "get", "200", "application/json", body)


@pytest.mark.django_db
def test_risk_priorities_export_matches_its_schema(data, api_as, document):
    response = api_as("coordinator").get("/api/risk/priorities/export.geojson")
    assert response.status_code == 200
    path = "/api/risk/priorities/export.{fmt}"
    body = _json(response)
    assert_documented(document, path, "get", "200", "application/geo+json", body)


@pytest.mark.django_db
def test_search_matches_its_schema(data, api, document):
    response = api.get("/api/search/", {"q": "K1"})
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["results"]] == ["K1"]
    assert_documented(
        document, "/api/search/", "get", "200", "application/json", response.json()
    )


@pytest.mark.django_db
def test_aoi_create_and_summary_match_their_schemas(data, api_as, document):
    """A drawn area over Kampot: the creation answer and its summary."""
    coordinator = api_as("coordinator")
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [
                [104.1, 10.55],
                [104.2, 10.55],
                [104.2, 10.65],
                [104.1, 10.65],
                [104.1, 10.55],
            ]
        ],
    }
    created = coordinator.post(
        "/api/aois/", {"name": "Kampot", "geometry": polygon}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert_documented(
        document, "/api/aois/", "post", "201", "application/json", created.json()
    )
    summary = coordinator.get(created.json()["summary"])
    assert summary.status_code == 200
    body = summary.json()
    assert body["schools"]["open"] == 2 and body["exposures"]
    path = "/api/aois/{id}/summary/"
    assert_documented(document, path, "get", "200", "application/json", body)


@pytest.mark.django_db
def test_sitrep_matches_its_schema(data, api_as, document):
    response = api_as("coordinator").get(f"/api/events/{data['event']}/sitrep/")
    assert response.status_code == 200
    body = response.json()
    assert [r["level"] for r in body["rows"]] == ["province", "district", "total"]
    path = "/api/events/{id}/sitrep/"
    assert_documented(document, path, "get", "200", "application/json", body)


@pytest.mark.django_db
def test_event_schools_geojson_matches_its_schema(data, api_as, document):
    url = f"/api/events/{data['event']}/schools.geojson"
    response = api_as("coordinator").get(url)
    assert response.status_code == 200
    body = _json(response)
    assert body["features"][0]["properties"]["status"] == "closed"
    path = "/api/events/{id}/{name}"
    assert_documented(document, path, "get", "200", "application/geo+json", body)


@pytest.mark.django_db
def test_plan_schools_match_their_schema(data, api_as, document):
    response = api_as("planner").get(f"/api/plans/{data['plan'].pk}/schools/")
    assert response.status_code == 200
    body = response.json()
    assert {r["code"] for r in body["results"]} == {"K1", "K2"}
    path = "/api/plans/{id}/schools/"
    assert_documented(document, path, "get", "200", "application/json", body)


@pytest.mark.django_db
def test_plan_coverage_matches_its_schema(data, api_as, document):
    response = api_as("planner").get(f"/api/plans/{data['plan'].pk}/coverage.geojson")
    assert response.status_code == 200
    body = _json(response)
    assert body["features"][0]["properties"]["coverage"] == ["07"]
    path = "/api/plans/{id}/coverage.geojson"
    assert_documented(document, path, "get", "200", "application/geo+json", body)


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["schools", "services", "hazard_zones"])
def test_collection_exports_match_their_schema(data, api, collection, document):
    response = api.get(f"/api/{collection}/export.geojson")
    assert response.status_code == 200
    body = _json(response)
    assert body["features"]
    path = "/api/{collection}/export.{fmt}"
    assert_documented(document, path, "get", "200", "application/geo+json", body)


# 3. and 4. Hazard uploads


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def own_tmp(tmp_path, monkeypatch) -> Path:
    """A temporary folder of this test's own, so its files can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def post_upload(client, name: str, content: bytes, **fields):
    file = io.BytesIO(content)
    file.name = name
    data = {"file": file, "hazard_type": "flood", "name": "Floods 2026", **fields}
    return client.post(LAYERS, data, format="multipart")


def _raster(path: Path, west: float, north: float) -> bytes:
    """A 10 x 10 depth raster of 100 m cells in UTM 48N."""
    origin = Affine(100, 0, west, 0, -100, north)
    return write_tif(path, np.ones((10, 10), "float32"), transform=origin).read_bytes()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("floods.gpkg", b"SQLite format 3\x00" + bytes(2000)),
        ("floods.gpkg", b"hello"),
        ("Kampot floods.tif", b"II*\x00" + bytes(100)),
        ("floods.kml", b"<kml></kml>"),
    ],
)
def test_a_bad_upload_is_named_as_the_user_named_it(
    api_as, media, own_tmp, name, content
):
    """The 400 names the uploaded file, never the server's copy or its folder."""
    response = post_upload(api_as("coordinator"), name, content)

    assert response.status_code == 400
    message = " ".join(response.json()["file"])
    assert message.startswith(f"{name}: not a readable")
    assert str(own_tmp) not in message and "/tmp" not in message
    assert "upload." not in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "where",
    [
        "broken",
        "outside_cambodia",
    ],
)
def test_a_failed_raster_import_leaves_no_file(api_as, media, own_tmp, tmp_path, where):
    """Neither the upload's copy nor a COG stays in the temporary folder or the
    media storage when a raster is refused."""
    if where == "broken":
        content = b"II*\x00" + bytes(100)
    else:  # Bangkok's UTM 47N easting read as 48N: far west of Cambodia
        content = _raster(tmp_path / "depth.tif", -300_000, 1_520_000)
    before = sorted(own_tmp.rglob("*")) + sorted(Path(media).rglob("*"))

    response = post_upload(api_as("coordinator"), "depth.tif", content)

    assert response.status_code == 400, response.json()
    after = sorted(own_tmp.rglob("*")) + sorted(Path(media).rglob("*"))
    assert after == before
    assert not HazardLayer.objects.exists()
