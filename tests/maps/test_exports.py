"""Exports of the feature collections: RFC 7946 GeoJSON, CSV (BOM, HXL,
formulas neutralised), GeoPackage and KML read back with GDAL's own tools,
the map's filters, and what each reader may see."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from shapely.geometry import shape

from preparedness.csvexport import csv_text, safe_cell
from tests.maps.export_data import FORMULA, K1_KM, SCHOOL_ORDER, make_export_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(users):
    return make_export_data()


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def geojson(client, url: str) -> dict:
    return json.loads(body(client.get(url)))


def csv_rows(client, url: str) -> list[list[str]]:
    text = body(client.get(url)).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def ogrinfo(path: Path, *args: str) -> str:
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", *args, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def summary(path: Path) -> tuple[int, list[str]]:
    """Feature count and field names as `ogrinfo -al -so` reports them."""
    text = ogrinfo(path, "-so")
    count = int(re.search(r"Feature Count: (\d+)", text).group(1))
    fields = re.findall(r"^(\w+): \w+", text, flags=re.M)
    return count, [f for f in fields if f not in ("Geometry", "Extent")]


def test_geojson_is_rfc_7946(api, data):
    """No crs, longitude first, at most 6 decimals, exterior rings
    counter-clockwise (the zone is stored clockwise), Khmer as UTF-8."""
    response = api.get("/api/schools/export.geojson")
    assert response["Content-Type"] == "application/geo+json"
    raw = body(response)
    assert K1_KM.encode() in raw  # not \u-escaped
    doc = json.loads(raw)
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    k1 = next(f for f in doc["features"] if f["id"] == "K1")
    assert k1["geometry"]["coordinates"] == [104.151235, 10.601235]
    assert k1["properties"]["name_km"] == K1_KM

    zones = geojson(api, "/api/hazard_zones/export.geojson")
    assert "crs" not in zones
    polygon = shape(zones["features"][0]["geometry"]).geoms[0]
    assert polygon.exterior.is_ccw
    assert data["zone"].area[0].exterior_ring.coords[1] == (104.90, 11.58)  # cw


def test_filters_give_the_same_rows_as_the_priority_list(api, data):
    for query in (
        "",
        "province=07",
        "risk_class=high,very_high",
        "order=-risk",
        "bbox=104.0,10.5,104.5,10.7",
        "level=preschool",
    ):
        listed = api.get(f"/api/risk/priorities/?{query}").json()["features"]
        exported = geojson(api, f"/api/schools/export.geojson?{query}")["features"]
        assert [f["id"] for f in exported] == [f["id"] for f in listed], query
        rows = csv_rows(api, f"/api/schools/export.csv?{query}")
        assert [r[0] for r in rows[1:]] == [f["id"] for f in listed], query
    assert [
        f["id"] for f in geojson(api, "/api/schools/export.geojson")["features"]
    ] == SCHOOL_ORDER


def test_school_properties_are_the_priority_lists(api_as, data):
    """Every exported property equals the priority list's field of that name."""
    coordinator = api_as("coordinator")
    listed = {
        f["id"]: f["properties"]
        for f in coordinator.get("/api/risk/priorities/").json()["features"]
    }
    exported = geojson(coordinator, "/api/schools/export.geojson")["features"]
    assert exported
    for feature in exported:
        expected = listed[feature["id"]]
        for key, value in feature["properties"].items():
            assert value == expected[key], (feature["id"], key)
    assert exported[0]["properties"]["critical_gaps"] == ["P2.01"]


def test_checklist_details_only_for_logged_in_roles(api, api_as, data):
    anonymous = geojson(api, "/api/schools/export.geojson")["features"][0]
    assert anonymous["id"] == "K1"
    assert "critical_gaps" not in anonymous["properties"]
    assert "css_area_scores" not in anonymous["properties"]
    assert anonymous["properties"]["css_score"] == 40  # public by default
    header = csv_rows(api, "/api/schools/export.csv")[0]
    assert "critical_gaps" not in header and "css_P1" not in header
    planner = geojson(api_as("planner"), "/api/schools/export.geojson")["features"]
    assert planner[0]["properties"]["css_area_scores"]["P1"] == 50


def test_the_priority_list_api_hides_checklist_details_from_the_public(
    api, api_as, data
):
    """It used to send critical gaps and area scores to anonymous readers."""
    k1 = api.get("/api/risk/priorities/").json()["features"][0]["properties"]
    assert k1["critical_gaps"] is None and k1["css_area_scores"] is None
    assert k1["css_score"] == 40
    text = b"".join(api.get("/api/risk/priorities/export.csv").streaming_content)
    row = next(csv.DictReader(io.StringIO(text.decode()[1:])))
    assert row["critical_gaps"] == "" and row["css_P1"] == ""
    k1 = api_as("official_07").get("/api/risk/priorities/").json()["features"][0]
    assert k1["properties"]["critical_gaps"] == ["P2.01"]


def test_css_scores_can_be_made_private(api, api_as, data, settings):
    settings.SALASAFE_PUBLIC = {"collections": ["schools"], "css_scores": False}
    k1 = geojson(api, "/api/schools/export.geojson")["features"][0]["properties"]
    assert "css_score" not in k1 and "css_grade" not in k1
    assert (
        api.get("/api/risk/priorities/").json()["features"][0]["properties"][
            "css_score"
        ]
        is None
    )
    assert api.get("/api/services/export.geojson").status_code == 404
    assert api_as("planner").get("/api/services/export.geojson").status_code == 200
    k1 = geojson(api_as("planner"), "/api/schools/export.geojson")["features"][0]
    assert k1["properties"]["css_score"] == 40


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_sensitive_services_are_left_out_for_the_public_and_planners(
    api, api_as, data, tmp_path, fmt
):
    def codes(client) -> set[str]:
        path = tmp_path / f"services.{fmt}"
        path.write_bytes(body(client.get(f"/api/services/export.{fmt}")))
        text = ogrinfo(path)
        return set(re.findall(r"code \(String\) = (\S+)", text))

    assert codes(api) == {"SRV-HC"}
    assert codes(api_as("planner")) == {"SRV-HC"}
    assert codes(api_as("official_07")) == {"SRV-HC", "SRV-KS"}
    assert codes(api_as("coordinator")) == {"SRV-HC", "SRV-KS", "SRV-PS"}


@pytest.mark.parametrize(
    "collection, fmt, count, fields",
    [
        (
            "schools",
            "gpkg",
            4,
            {"code", "name_km", "risk_class", "hazard_riverine_flood"},
        ),
        ("schools", "kml", 4, {"code", "name_km", "risk_class"}),
        ("schools", "geojson", 4, {"code", "name_km", "hazard_levels"}),
        ("schools", "csv", 4, {"code", "name_km", "lon", "lat"}),
        ("services", "gpkg", 1, {"code", "kind", "contact"}),
        ("hazard_zones", "gpkg", 1, {"layer_name", "hazard_class", "intensity"}),
        ("admin_areas", "gpkg", 3, {"code", "name_km", "schools", "schools_high_risk"}),
        ("plan_coverage", "gpkg", 1, {"title", "status"}),
    ],
)
def test_exports_open_in_gdal_with_their_features_and_fields(
    api, api_as, data, tmp_path, collection, fmt, count, fields
):
    path = tmp_path / f"{collection}.{fmt}"
    client = api_as("planner") if collection == "plan_coverage" else api
    response = client.get(f"/api/{collection}/export.{fmt}")
    path.write_bytes(body(response))
    assert f'filename="salasafe-{collection}.{fmt}"' in response["Content-Disposition"]
    found_count, found_fields = summary(path)
    assert found_count == count
    assert fields <= set(found_fields) | ({"Name"} if fmt == "kml" else set())
    if collection == "schools":
        assert K1_KM in ogrinfo(path)  # Khmer intact after GDAL read it


def test_csv_has_lon_lat_hxl_and_neutralised_formulas(api, data):
    rows = csv_rows(api, "/api/schools/export.csv?hxl=1")
    header, hxl, records = rows[0], rows[1], rows[2:]
    assert header[:3] == ["code", "name_en", "name_km"] and header[-2:] == [
        "lon",
        "lat",
    ]
    tags = dict(zip(header, hxl, strict=True))
    assert tags["code"] == "#loc+code" and tags["province"] == "#adm1+code"
    assert tags["lon"] == "#geo+lon" and tags["learners"] == "#reached+learners"
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in records}
    assert by_code["K2"]["name_en"] == "'" + FORMULA
    assert by_code["K1"]["name_km"] == K1_KM
    assert (by_code["K1"]["lon"], by_code["K1"]["lat"]) == ("104.151235", "10.601235")
    zones = csv_rows(api, "/api/hazard_zones/export.csv")
    assert dict(zip(zones[0], zones[1], strict=True))["intensity"] == "-3.2"
    assert len(csv_rows(api, "/api/schools/export.csv")) == 5  # no HXL row


def test_the_csv_helper_quotes_formula_text_but_not_numbers():
    assert [safe_cell(v) for v in ("=1+1", "+855", "-x", "@SUM(A1)", "\tx")] == [
        "'=1+1",
        "'+855",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
    ]
    assert [safe_cell(v) for v in (-3.2, 0, None, "a=b")] == [-3.2, 0, "", "a=b"]
    assert csv_text(["a"], [["=x"], [-1]], extra=[["#tag"]]) == (
        "\ufeffa\r\n#tag\r\n'=x\r\n-1\r\n"
    )


def test_the_three_older_csv_exports_neutralise_formulas(api, api_as, data):
    text = b"".join(api.get("/api/risk/priorities/export.csv").streaming_content)
    assert "'" + FORMULA.replace('"', '""') in text.decode()
    aggregates = api.get("/api/risk/aggregates/export.csv").content.decode()
    assert aggregates.startswith("\ufeffcode,")


def test_bad_filters_are_400_naming_the_parameter(api, data):
    bad = api.get("/api/schools/export.csv?province=7&risk_class=awful")
    assert bad.status_code == 400
    assert set(bad.json()) == {"province", "risk_class"}
    assert set(api.get("/api/services/export.gpkg?kind=shop").json()) == {"kind"}
    assert set(api.get("/api/hazard_zones/export.csv?bbox=1,2").json()) == {"bbox"}
    assert set(api.get("/api/services/export.kml").json()) == {"format"}
    assert api.get("/api/nothing/export.csv").status_code == 404


def test_the_export_routes_leave_the_school_and_service_routes_alone(api, data):
    assert api.get("/api/schools/").status_code == 200
    assert api.get("/api/schools/K1/").json()["id"] == "K1"
    assert api.get("/api/services/SRV-HC/").status_code == 200
    assert api.get("/api/schools/export.csv").status_code == 200


def test_filters_of_the_other_collections(api, api_as, data):
    def ids(url, client=api):
        return [f["id"] for f in geojson(client, url)["features"]]

    assert ids("/api/services/export.geojson?kind=health_centre") == ["SRV-HC"]
    assert ids("/api/services/export.geojson?province=12") == []
    assert ids("/api/hazard_zones/export.geojson?province=07") == []
    assert ids("/api/hazard_zones/export.geojson?province=12") == [data["zone"].pk]
    assert ids("/api/admin_areas/export.geojson?admin_level=district") == [
        "0701",
        "0801",
        "1201",
    ]
    planner = api_as("planner")
    assert ids("/api/plan_coverage/export.geojson?district=0701", planner) == [
        data["plan"].pk
    ]
    assert ids("/api/plan_coverage/export.geojson?province=12", planner) == []
    # Plans are the Forum's working documents: not public by default.
    assert api.get("/api/plan_coverage/export.geojson").status_code == 404
    kampot = geojson(api, "/api/admin_areas/export.geojson?province=07")["features"]
    assert kampot[0]["properties"]["schools"] == 2
    assert kampot[0]["properties"]["schools_high_risk"] == 1


def test_the_priorities_page_links_geopackage_and_kml(client, data):
    page = client.get("/priorities/?province=07").content.decode()
    assert 'href="/api/schools/export.gpkg?province=07"' in page
    assert 'href="/api/schools/export.kml?province=07"' in page
