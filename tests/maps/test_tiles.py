"""Vector tiles `/tiles/{layer}/{z}/{x}/{y}.pbf`, decoded by GDAL's own MVT driver.

The data is tests/maps/riskmap_data.py: two schools and two services in Phnom
Penh (one a sensitive safe shelter), one school and one sensitive shelter in
Kampot, a class-3 flood zone over Phnom Penh's commune 120101.
"""

import json
import subprocess

import pytest

from tests.maps.riskmap_data import PP1_KM, make_map_data, tile_of

pytestmark = pytest.mark.django_db

PHNOM_PENH = tile_of(104.925, 11.565, 12)
KAMPOT = tile_of(104.155, 10.605, 12)


@pytest.fixture
def data(geography):
    return make_map_data()


def url(layer, zxy, query=""):
    z, x, y = zxy
    return f"/tiles/{layer}/{z}/{x}/{y}.pbf" + (f"?{query}" if query else "")


def decode(tmp_path, content, zxy, layer):
    """Features of one layer of a tile, in lon/lat, read by ogr2ogr (MVT driver)."""
    z, x, y = zxy
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    out = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GeoJSON",
            "-t_srs",
            "EPSG:4326",
            "/vsistdout/",
            str(path),
            layer,
        ],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)["features"]


def as_json(value):
    """GDAL's GeoJSON writer may already have parsed a JSON text attribute."""
    return json.loads(value) if isinstance(value, str) else value


def by_code(features):
    return {f["properties"]["code"]: f for f in features}


def test_a_school_tile_holds_each_school_with_its_popup_fields(api, data, tmp_path):
    """Close up, each school is a point where it stands with its names (Khmer
    intact), learners, risk class and hazard levels."""
    response = api.get(url("schools", PHNOM_PENH))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age=" in response["Cache-Control"]
    schools = by_code(decode(tmp_path, response.content, PHNOM_PENH, "schools"))
    assert set(schools) == {"PP1", "PP2"}
    pp1 = schools["PP1"]
    lon, lat = pp1["geometry"]["coordinates"]
    assert lon == pytest.approx(104.92, abs=1e-3)
    assert lat == pytest.approx(11.56, abs=1e-3)
    props = pp1["properties"]
    assert props["name_km"] == PP1_KM
    assert props["name_en"] == "Tonle Basak Primary"
    assert props["learners"] == 300
    assert props["risk_class"] == "very_high"
    assert as_json(props["hazard_levels"]) == {"riverine_flood": 3}
    assert props["css_score"] == 40
    assert schools["PP2"]["properties"]["risk_class"] == "low"


def test_checklist_details_only_for_logged_in_roles(api, api_as, data, tmp_path):
    """Anonymous tiles carry no critical gaps or CSS scores by area; a
    coordinator's do."""
    anonymous = decode(
        tmp_path, api.get(url("schools", PHNOM_PENH)).content, PHNOM_PENH, "schools"
    )
    assert all("critical_gaps" not in f["properties"] for f in anonymous)
    assert all("css_area_scores" not in f["properties"] for f in anonymous)
    response = api_as("coordinator").get(url("schools", PHNOM_PENH))
    assert response["Cache-Control"].startswith("private")
    pp1 = by_code(decode(tmp_path, response.content, PHNOM_PENH, "schools"))["PP1"]
    assert as_json(pp1["properties"]["critical_gaps"]) == ["P1.01"]
    assert as_json(pp1["properties"]["css_area_scores"])["P1"] == 50


def test_the_maps_filters_apply_to_school_tiles(api, data, tmp_path):
    """risk_class, never_assessed and province filter the tile as they filter
    the priority list; a tile left empty answers 204."""
    response = api.get(url("schools", PHNOM_PENH, "risk_class=very_high"))
    assert set(by_code(decode(tmp_path, response.content, PHNOM_PENH, "schools"))) == {
        "PP1"
    }
    response = api.get(url("schools", PHNOM_PENH, "never_assessed=true"))
    assert set(by_code(decode(tmp_path, response.content, PHNOM_PENH, "schools"))) == {
        "PP2"
    }
    assert api.get(url("schools", PHNOM_PENH, "province=07")).status_code == 204


def test_schools_are_gridded_into_clusters_at_national_zoom(api, data, tmp_path):
    """At zoom 6 (two tiles over our schools) clusters count every school once
    and carry the worst risk class; no school's name goes out."""
    tiles = [tile_of(104.92, 11.56, 6), tile_of(104.15, 10.6, 6)]
    assert tiles[0] != tiles[1]
    features = []
    for zxy in tiles:
        content = api.get(url("schools", zxy)).content
        features += decode(tmp_path / str(zxy[2]), content, zxy, "schools")
    assert sorted(f["properties"]["count"] for f in features) == [1, 2]
    assert sum(f["properties"]["high"] for f in features) == 2
    assert max(f["properties"]["worst_class"] for f in features) == 5
    assert all("name_en" not in f["properties"] for f in features)
    assert api.get(url("schools", tiles[0], "province=07")).status_code == 204


def test_sensitive_services_are_left_out_for_those_who_may_not_see_them(
    api, api_as, data, tmp_path
):
    """Anonymous users and planners get no safe shelter; a coordinator gets them
    all; an official of Kampot gets Kampot's but not Phnom Penh's."""

    def codes(client, zxy):
        response = client.get(url("services", zxy))
        if response.status_code == 204:
            return set()
        return set(by_code(decode(tmp_path, response.content, zxy, "services")))

    assert codes(api, PHNOM_PENH) == {"SRV-HC"}
    assert codes(api_as("planner"), PHNOM_PENH) == {"SRV-HC"}
    assert codes(api, KAMPOT) == set()
    assert codes(api_as("coordinator"), PHNOM_PENH) == {"SRV-HC", "SRV-SS"}
    assert codes(api_as("official_07"), PHNOM_PENH) == {"SRV-HC"}
    assert codes(api_as("official_07"), KAMPOT) == {"SRV-KS"}


def test_hazard_zone_and_boundary_tiles(api, data, tmp_path):
    """Zones carry their class and layer; boundaries their codes and names."""
    zxy = tile_of(104.92, 11.56, 12)
    zones = decode(
        tmp_path, api.get(url("hazard_zones", zxy)).content, zxy, "hazard_zones"
    )
    assert [
        (z["properties"]["hazard_class"], z["properties"]["layer_name"]) for z in zones
    ] == [(3, "Test flood")]
    other_layer = data["layer"].pk + 1
    assert api.get(url("hazard_zones", zxy, f"layer={other_layer}")).status_code == 204
    zxy = tile_of(104.9, 11.5, 7)
    areas = decode(
        tmp_path, api.get(url("admin_areas", zxy)).content, zxy, "admin_areas"
    )
    names = {a["properties"]["code"]: a["properties"]["name_km"] for a in areas}
    assert names["12"] == "ភ្នំពេញ"
    assert {a["properties"]["level"] for a in areas} == {"province"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/tiles/roads/10/800/480.pbf", "layer"),
        ("/tiles/schools/23/0/0.pbf", "z"),
        ("/tiles/schools/3/8/0.pbf", "x"),
        ("/tiles/schools/3/0/-1.pbf", "y"),
        ("/tiles/schools/x/0/0.pbf", "z"),
        ("/tiles/schools/10/800/480.pbf?risk_class=awful", "risk_class"),
    ],
)
def test_bad_layer_names_and_tile_addresses_are_400(api, data, path, field):
    """A bad layer, z, x, y or filter is a 400 naming it, never a 500."""
    response = api.get(path)
    assert response.status_code == 400
    assert field in response.json()


def test_a_tile_outside_the_data_is_empty(api, data):
    """A tile over the open ocean answers 204 with no body."""
    response = api.get(url("schools", tile_of(-30.0, 0.0, 12)))
    assert response.status_code == 204
    assert response.content == b""
