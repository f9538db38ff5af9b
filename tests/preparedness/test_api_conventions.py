"""API conventions: tokens, error shape, pagination, schema, administrative areas."""

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from preparedness.models import AdminArea
from schools.models import School
from tests.factories import make_school

TOKEN_URL = "/api/auth/token/"
AREAS_URL = "/api/admin-areas/"
ZWSP = "\u200b"


# Tokens


def test_token_from_good_credentials_authenticates_requests(users):
    """A token for good credentials lets a script act as that user: edit a school."""
    school = make_school("SCH-KP", 104.20, 10.60, "070101")
    response = APIClient().post(
        TOKEN_URL, {"username": "official_07", "password": "pw-official_07"}
    )
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    edit = client.patch(
        f"/api/schools/{school.code}/", {"enrolment_boys": 12}, format="json"
    )

    assert edit.status_code == 200
    assert School.objects.get(code="SCH-KP").enrolment_boys == 12


def test_bad_token_is_refused(api, users):
    """An unknown token is a 401 or 403 with a detail message, not anonymous access."""
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = api.get("/api/schools/")

    assert response.status_code in (401, 403)
    assert isinstance(response.json()["detail"], list)


def test_bad_credentials_are_400_with_field_messages(api, users):
    """A wrong password is a 400 {field: [messages]} and returns no token."""
    response = api.post(TOKEN_URL, {"username": "official_07", "password": "wrong"})

    assert response.status_code == 400
    body = response.json()
    assert "token" not in body
    assert body
    assert all(isinstance(messages, list) for messages in body.values())


def test_missing_credentials_name_the_missing_fields(api, db):
    """An empty token request names both missing fields."""
    response = api.post(TOKEN_URL, {})

    assert response.status_code == 400
    assert sorted(response.json()) == ["password", "username"]
    assert isinstance(response.json()["username"], list)


# Errors and schema


def test_not_found_is_rendered_as_a_detail_list(api, geography):
    """A 404 body is {"detail": [message]}, the same shape as field errors."""
    response = api.get(AREAS_URL + "99/")

    assert response.status_code == 404
    assert response.json() == {"detail": [response.json()["detail"][0]]}


def test_schema_lists_the_endpoints(api, db):
    """The OpenAPI schema is served and documents schools, services and areas."""
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/schools/",
        "/api/schools/{code}/",
        "/api/services/",
        "/api/services/{code}/",
        "/api/admin-areas/",
        "/api/admin-areas/{code}/",
        "/api/auth/token/",
    ):
        assert path in paths
    school_filters = {p["name"] for p in paths["/api/schools/"]["get"]["parameters"]}
    assert {"province", "level", "bbox", "q", "page"} <= school_filters


def test_schema_generates_without_warnings(tmp_path, db):
    """drf-spectacular builds a valid schema with no warnings or errors."""
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")
    )

    assert "/api/schools/" in (tmp_path / "s.yml").read_text()


# Administrative areas


def test_area_list_is_paginated_without_boundaries(api, geography):
    """Areas come as {count, next, previous, results}; no boundary is read or sent."""
    AdminArea.objects.filter(code="12").update(centroid=Point(104.92, 11.56, srid=4326))

    with CaptureQueriesContext(connection) as queries:
        response = api.get(AREAS_URL, {"page_size": 4})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 9
    assert "page=2" in body["next"]
    assert [a["code"] for a in body["results"]] == ["07", "0701", "070101", "08"]
    assert body["results"][2] == {
        "code": "070101",
        "level": "commune",
        "kind": "",
        "name_en": "Angk Phnum Touch",
        "name_km": "អង្គភ្នំតូច",
        "parent": "0701",
        "valid_from": None,
        "valid_to": None,
        "lon": None,
        "lat": None,
    }
    assert all("boundary" not in q["sql"] for q in queries.captured_queries)
    last = api.get(AREAS_URL, {"page_size": 4, "page": 3}).json()["results"]
    assert [(a["code"], a["parent"], a["lon"], a["lat"]) for a in last] == [
        ("120101", "1201", None, None)
    ]
    phnom_penh = api.get(AREAS_URL, {"q": "phnom penh"}).json()["results"]
    assert [(a["parent"], a["lon"], a["lat"]) for a in phnom_penh] == [
        (None, 104.92, 11.56)
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": "province"}, ["07", "08", "12"]),
        ({"parent": "07"}, ["0701"]),
        ({"parent": "1201", "level": "commune"}, ["120101"]),
        ({"q": "KANDAL"}, ["08", "0801"]),
        # Typed with a zero-width space that the stored name lacks.
        ({"q": f"ភ្នំ{ZWSP}ពេញ"}, ["12"]),
    ],
)
def test_area_list_filters(api, geography, params, expected):
    """Areas filter by level, parent code and a case- and ZWSP-insensitive name."""
    response = api.get(AREAS_URL, params)

    assert [a["code"] for a in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("params", "field"), [({"level": "village"}, "level"), ({"parent": "7"}, "parent")]
)
def test_area_list_rejects_invalid_filters(api, geography, params, field):
    """An unknown level or malformed parent code is a 400 naming the parameter."""
    response = api.get(AREAS_URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_area_list_query_count(api, geography, django_assert_num_queries):
    """A page of areas costs one count and one select (parents joined, not fetched)."""
    with django_assert_num_queries(2):
        api.get(AREAS_URL)


def test_area_detail_is_a_feature_with_its_boundary(api, geography):
    """An area's detail is a GeoJSON Feature whose geometry is its boundary."""
    response = api.get(AREAS_URL + "120101/")

    assert response.status_code == 200
    feature = response.json()
    assert (feature["type"], feature["id"]) == ("Feature", "120101")
    assert feature["properties"]["parent"] == "1201"
    assert feature["properties"]["name_en"] == "Tonle Basak"
    boundary = GEOSGeometry(json.dumps(feature["geometry"]))
    assert boundary.geom_type == "MultiPolygon"
    assert boundary.valid
    assert boundary.extent == pytest.approx((104.90, 11.54, 104.95, 11.58))
    assert boundary.contains(Point(104.92, 11.56))


def test_api_docs_work_without_internet(db, client):
    """The interactive API docs load Swagger UI from SalaSafe's own static files."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "https://" not in html.split("<body")[0]
