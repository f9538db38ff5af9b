"""The hazard layers API: lists, uploads, switching, deletion, zones and tracks.

Zones sit in Phnom Penh (104.75-105.05 E, 11.45-11.70 N) and Kandal; the test
provinces' extent (103.9-105.2 E, 10.4-11.7 N) stands for Cambodia.
"""

import io
import json
import subprocess
import zipfile

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS

from hazards import callbacks
from hazards.models import HazardLayer, HazardZone
from hazards.services import hazard_layer_import

LAYERS = "/api/hazards/layers/"


def feature(coordinates, kind="Polygon", **properties):
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def box(x0, y0, x1, y1):
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


# Chbar Ampov (Phnom Penh), Russey Keo (Phnom Penh), Kandal Stueng (Kandal).
ZONES = geojson(
    feature(box(104.90, 11.50, 104.95, 11.55), depth=1.2),
    feature(box(104.80, 11.60, 104.85, 11.65), depth=0.3),
    feature(box(104.85, 11.35, 104.95, 11.42), depth=3.5),
)


def upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def post_file(client, name="zones.geojson", content=ZONES, **fields):
    fields.setdefault("hazard_type", "flood")
    fields.setdefault("name", "Mekong 2013")
    fields.setdefault("intensity_field", "depth")
    data = {key: value for key, value in fields.items() if value is not None}
    return client.post(
        LAYERS, {"file": upload(name, content), **data}, format="multipart"
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def changes(monkeypatch):
    """LayerChange notifications sent after commit (other callbacks muted)."""
    seen: list[callbacks.LayerChange] = []
    monkeypatch.setattr(callbacks, "_callbacks", [seen.append])
    return seen


@pytest.fixture
def flood(geography, tmp_path) -> HazardLayer:
    """A zones layer of three flood zones (1.2 m, 0.3 m, 3.5 m)."""
    path = tmp_path / "zones.geojson"
    path.write_bytes(ZONES)
    return hazard_layer_import(
        path=path,
        hazard_type="flood",
        name="Mekong 2013",
        intensity_field="depth",
        return_period=100,
    ).layer


@pytest.fixture
def storms(geography, tmp_path) -> HazardLayer:
    """Ketsana's last fixes over Cambodia: three segments."""
    path = tmp_path / "ketsana.csv"
    path.write_text(
        "SN,Year,Month,Day,Hour,Lat,Lon,VMax\n"
        "200917,2009,9,29,0,15.3,109.2,90\n"
        "200917,2009,9,29,6,15.1,108.0,75\n"
        "200917,2009,9,29,12,14.9,106.9,45\n"
        "200917,2009,9,29,18,14.8,105.8,30\n"
    )
    return hazard_layer_import(path=path, hazard_type="typhoon", name="Ketsana").layer


# --- reading layers -------------------------------------------------------------


def test_layer_list_is_paginated_with_counts(api, flood, storms):
    """Layers by name with their scenario, breaks and feature counts."""
    body = api.get(LAYERS).json()
    assert body["count"] == 2
    by_name = {layer["name"]: layer for layer in body["results"]}
    assert [r["name"] for r in body["results"]] == ["Ketsana", "Mekong 2013"]
    mekong = by_name["Mekong 2013"]
    assert mekong["zone_count"] == 3 and mekong["track_count"] == 0
    assert mekong["hazard_type"] == "riverine_flood"
    assert (mekong["scenario"], mekong["return_period"]) == ("return_period", 100)
    assert (mekong["units"], mekong["breaks"], mekong["active"]) == (
        "m",
        [0.5, 1.5, 3.0],
        True,
    )
    assert by_name["Ketsana"]["track_count"] == 3
    assert "import_summary" not in mekong


def test_layer_list_filters(api, flood, storms):
    """?hazard_type= and ?representation= narrow the list; bad values are 400."""
    names = api.get(LAYERS, {"hazard_type": "storm"}).json()["results"]
    assert [layer["name"] for layer in names] == ["Ketsana"]
    names = api.get(LAYERS, {"representation": "zones"}).json()["results"]
    assert [layer["name"] for layer in names] == ["Mekong 2013"]
    response = api.get(LAYERS, {"hazard_type": "tsunami"})
    assert response.status_code == 400 and "hazard_type" in response.json()


def test_layer_list_query_count_does_not_grow(
    api, flood, storms, django_assert_num_queries
):
    """Count and page: two queries whatever the number of layers and features."""
    with django_assert_num_queries(2):
        api.get(LAYERS)


def test_layer_detail_has_the_import_summary(api, flood):
    """One layer with what its import read and imported."""
    body = api.get(f"{LAYERS}{flood.pk}/").json()
    assert body["id"] == flood.pk and body["zone_count"] == 3
    assert body["import_summary"]["read"] == 3
    assert body["import_summary"]["imported"] == 3


def test_unknown_layer_is_404(api, geography):
    """A layer id that does not exist is 404, for the layer and its features."""
    assert api.get(f"{LAYERS}999/").status_code == 404
    assert api.get(f"{LAYERS}999/zones/").status_code == 404


# --- uploads --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_administrators_upload(api_as, role, media, changes):
    """A GeoJSON upload creates the layer; the answer is its detail."""
    response = post_file(api_as(role), return_period="100", breaks="0.5,2.0")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Mekong 2013" and body["zone_count"] == 3
    assert body["breaks"] == [0.5, 2.0] and body["return_period"] == 100
    layer = HazardLayer.objects.get()
    assert layer.created_by.username == role
    assert sorted(layer.zones.values_list("hazard_class", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize("role", ["planner", "official_07"])
def test_other_roles_may_not_upload(api_as, role):
    """Planners and education officials get 403; nothing is written."""
    assert post_file(api_as(role)).status_code == 403
    assert not HazardLayer.objects.exists()


def test_anonymous_may_not_upload(api, geography):
    """Without a login an upload is refused."""
    assert post_file(api).status_code in (401, 403)
    assert not HazardLayer.objects.exists()


def test_upload_of_a_zipped_shapefile(api_as, media, tmp_path):
    """A zipped Shapefile in UTM 48N is read and reprojected like the CLI does."""
    src = tmp_path / "zones.geojson"
    src.write_bytes(ZONES)
    (tmp_path / "shp").mkdir()
    subprocess.run(
        [
            *("ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:32648"),
            *(str(tmp_path / "shp" / "zones.shp"), str(src)),
        ],
        check=True,
    )
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        for part in (tmp_path / "shp").iterdir():
            archive.write(part, part.name)
    response = post_file(api_as("coordinator"), "zones.zip", content.getvalue())
    assert response.status_code == 201, response.json()
    extent = HazardZone.objects.get(intensity=1.2).area.extent
    assert extent == pytest.approx((104.90, 11.50, 104.95, 11.55), abs=1e-6)


def test_upload_of_a_raster_gets_a_server_chosen_name(api_as, media, tmp_path):
    """A GeoTIFF becomes a COG under MEDIA_ROOT/hazards whatever the upload's name."""
    path = tmp_path / "depth.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=10,
        height=10,
        count=1,
        dtype="float32",
        crs=CRS.from_epsg(32648),
        transform=Affine(100, 0, 490_000, 0, -100, 1_280_000),
        nodata=-9999,
    ) as out:
        out.write(np.ones((1, 10, 10), "float32"))
    response = post_file(
        api_as("coordinator"),
        "../../etc/passwd.tif",
        path.read_bytes(),
        intensity_field=None,
    )
    assert response.status_code == 201, response.json()
    layer = HazardLayer.objects.get()
    assert layer.representation == "raster"
    assert (
        layer.raster.name.startswith("hazards/") and "passwd" not in layer.raster.name
    )
    assert (media / layer.raster.name).is_file()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "notes.txt", "content": b"hello"}, "file", "Not a hazard file type"),
        (
            {"name": "fake.geojson", "content": b"hello"},
            "file",
            "not a readable GeoJSON file",
        ),
        (
            {"name": "broken.zip", "content": b"PK\x03\x04broken"},
            "file",
            "not a readable zip file",
        ),
        (
            {"content": geojson(feature([104.92, 11.56], "Point", depth=1))},
            "file",
            "holds points; hazard zones must be polygons",
        ),
        ({"intensity_field": "depht"}, "intensity_field", "has no field 'depht'"),
        ({"breaks": "1.5,0.5"}, "breaks", "strictly increasing"),
        ({"breaks": "a,b"}, "breaks", "Expected numbers"),
        ({"hazard_type": "tsunami"}, "hazard_type", "unknown hazard type"),
        (
            {"return_period": "10", "event_date": "2013-10-01"},
            "return_period",
            "give one scenario",
        ),
        ({"map": "wind"}, "map", "is not FIELD=COLUMN"),
    ],
)
def test_bad_uploads_are_400_naming_the_field(api_as, media, fields, field, message):
    """Each bad input is refused with a message under the field at fault."""
    name = fields.pop("name", "zones.geojson")
    content = fields.pop("content", ZONES)
    response = post_file(api_as("coordinator"), name, content, **fields)
    assert response.status_code == 400
    body = response.json()
    assert message in " ".join(body[field]), body
    assert not HazardLayer.objects.exists()


def test_rejected_features_are_listed_in_the_400(api_as, geography):
    """A zone outside Cambodia fails the upload and is listed; skip_bad_rows
    imports the rest."""
    content = geojson(
        feature(box(104.90, 11.50, 104.95, 11.55), depth=1.2),
        feature(box(100.45, 13.70, 100.60, 13.80), depth=1.0),
    )
    client = api_as("coordinator")
    response = post_file(client, content=content)
    assert response.status_code == 400
    assert response.json()["file"] == [
        "1 of 2 features rejected; nothing was written (skip_bad_rows imports the "
        "others).",
        "row 2 (geometry): lies entirely outside Cambodia",
    ]
    assert not HazardLayer.objects.exists()
    response = post_file(client, content=content, skip_bad_rows="true")
    assert response.status_code == 201
    assert response.json()["import_summary"]["rejected"] == 1


def test_upload_replaces_a_layer_of_the_same_name(api_as, flood, media):
    """Uploading under an existing name replaces its zones, keeping its id."""
    content = geojson(feature(box(104.90, 11.50, 104.95, 11.55), depth=2.0))
    response = post_file(api_as("coordinator"), content=content)
    assert response.status_code == 201
    assert response.json()["id"] == flood.pk and response.json()["zone_count"] == 1


# --- switching and deleting -----------------------------------------------------


def test_coordinator_switches_a_layer_off_and_on(
    api_as, flood, changes, django_capture_on_commit_callbacks
):
    """Deactivate reports the layer as removed; activate brings it back."""
    client = api_as("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LAYERS}{flood.pk}/deactivate/")
    assert response.status_code == 200 and response.json()["active"] is False
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{LAYERS}{flood.pk}/activate/")
    assert response.json()["active"] is True
    assert changes == [
        callbacks.LayerChange(layer_ids=(flood.pk,), removed=(flood.pk,)),
        callbacks.LayerChange(layer_ids=(flood.pk,)),
    ]


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_planner_may_not_switch_layers(api_as, flood, action):
    """Switching is for coordinators and administrators."""
    assert api_as("planner").post(f"{LAYERS}{flood.pk}/{action}/").status_code == 403
    assert HazardLayer.objects.get().active


def test_switching_an_unknown_layer_is_404(api_as, geography):
    """There is nothing to switch."""
    assert api_as("coordinator").post(f"{LAYERS}999/activate/").status_code == 404


def test_administrator_deletes_a_layer(
    api_as, flood, changes, django_capture_on_commit_callbacks
):
    """DELETE removes the layer and its zones, reported as removed."""
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("admin").delete(f"{LAYERS}{flood.pk}/")
    assert response.status_code == 204
    assert not HazardLayer.objects.exists() and not HazardZone.objects.exists()
    assert changes == [
        callbacks.LayerChange(layer_ids=(flood.pk,), removed=(flood.pk,))
    ]


def test_planner_may_not_delete_a_layer(api_as, flood):
    """Deleting is for coordinators and administrators."""
    assert api_as("planner").delete(f"{LAYERS}{flood.pk}/").status_code == 403
    assert HazardLayer.objects.exists()


# --- zones and tracks -----------------------------------------------------------


def test_zones_are_a_geojson_feature_collection(api, flood):
    """Zones parse back as valid MultiPolygons with their intensity and class."""
    body = api.get(f"{LAYERS}{flood.pk}/zones/").json()
    assert body["type"] == "FeatureCollection" and body["count"] == 3
    first = body["features"][0]
    assert first["properties"]["intensity"] == 1.2
    assert first["properties"]["hazard_class"] == 2
    area = shapely.geometry.shape(first["geometry"])
    assert area.geom_type == "MultiPolygon" and area.is_valid
    assert area.bounds == pytest.approx((104.90, 11.50, 104.95, 11.55))


@pytest.mark.parametrize(
    ("bbox", "depths"),
    [
        ("104.7,11.45,105.05,11.7", [1.2, 0.3]),  # Phnom Penh
        ("104.95,11.55,105.0,11.6", [1.2]),  # touches a corner
        ("104.7,11.3,104.96,11.45", [3.5]),  # Kandal
        ("103.0,10.0,103.5,10.5", []),
    ],
)
def test_zones_bbox_filter(api, flood, bbox, depths):
    """?bbox= keeps the zones that intersect the box (edges count)."""
    body = api.get(f"{LAYERS}{flood.pk}/zones/", {"bbox": bbox}).json()
    assert [f["properties"]["intensity"] for f in body["features"]] == depths


def test_zones_bad_bbox_is_400(api, flood):
    """A malformed bbox is refused naming the parameter."""
    response = api.get(f"{LAYERS}{flood.pk}/zones/", {"bbox": "1,2,3"})
    assert response.status_code == 400 and "bbox" in response.json()


def test_zones_pages_link_to_each_other(api, flood):
    """?page_size=2 gives two pages linked by next and previous."""
    first = api.get(f"{LAYERS}{flood.pk}/zones/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["features"]) == 2
    second = api.get(first["next"]).json()
    assert len(second["features"]) == 1 and second["previous"] and not second["next"]


def test_zones_query_count(api, flood, django_assert_num_queries):
    """Layer, count and page: three queries whatever the number of zones."""
    with django_assert_num_queries(3):
        api.get(f"{LAYERS}{flood.pk}/zones/")


def test_tracks_are_a_geojson_feature_collection(api, storms):
    """Track segments in time order with wind and radius; bbox filters them."""
    body = api.get(f"{LAYERS}{storms.pk}/tracks/").json()
    assert body["count"] == 3
    props = [f["properties"] for f in body["features"]]
    assert [p["max_wind_kt"] for p in props] == [90, 75, 45]
    assert [p["radius_km"] for p in props] == [200, 200, 150]
    assert body["features"][0]["geometry"]["coordinates"] == [
        [109.2, 15.3],
        [108.0, 15.1],
    ]
    inland = api.get(f"{LAYERS}{storms.pk}/tracks/", {"bbox": "105,14,106.5,15"})
    inland = inland.json()
    assert [f["properties"]["max_wind_kt"] for f in inland["features"]] == [45]
