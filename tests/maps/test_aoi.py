"""Areas of interest: uploaded (GeoJSON, zipped Shapefile, KML) or drawn, who may
create them, refused files, and what lies inside them (`/summary/`).

The files are written by the tests (the Shapefile by GDAL's ogr2ogr).
"""

import json
import subprocess
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from maps.models import AreaOfInterest
from tests.maps.riskmap_data import make_map_data

pytestmark = pytest.mark.django_db

URL = "/api/aois/"
# Phnom Penh's commune 120101 and a little more: PP1, PP2, SRV-HC, SRV-SS.
RING = [
    [104.89, 11.53],
    [104.96, 11.53],
    [104.96, 11.59],
    [104.89, 11.59],
    [104.89, 11.53],
]
POLYGON = {"type": "Polygon", "coordinates": [RING]}


@pytest.fixture
def data(geography):
    return make_map_data()


def geojson_file(tmp_path, geometry=POLYGON, name="area.geojson"):
    path = tmp_path / name
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def upload(path, content_type="application/octet-stream"):
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type=content_type)


def zipped_shapefile(tmp_path, *, with_prj=True):
    folder = tmp_path / "shp"
    folder.mkdir()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "ESRI Shapefile",
            str(folder / "area.shp"),
            str(geojson_file(tmp_path)),
        ],
        check=True,
    )
    path = tmp_path / "area.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            if with_prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return path


def kml_file(tmp_path):
    coordinates = " ".join(f"{x},{y}" for x, y in RING)
    path = tmp_path / "area.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        "<name>ទន្លេបាសាក់</name><Polygon><outerBoundaryIs><LinearRing>"
        f"<coordinates>{coordinates}</coordinates>"
        "</LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("kind", ["geojson", "shapefile", "kml"])
def test_a_coordinator_uploads_an_area(api_as, data, tmp_path, kind):
    """Each file format becomes the same area (it holds PP1 and PP2)."""
    path = {
        "geojson": lambda: geojson_file(tmp_path),
        "shapefile": lambda: zipped_shapefile(tmp_path),
        "kml": lambda: kml_file(tmp_path),
    }[kind]()
    response = api_as("coordinator").post(
        URL, {"file": upload(path), "name": "ពេញ area"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    aoi = AreaOfInterest.objects.get(pk=response.json()["id"])
    assert aoi.name == "ពេញ area"
    assert aoi.source == path.name
    assert aoi.area.extent == pytest.approx((104.89, 11.53, 104.96, 11.59))
    assert response.json()["map"] == f"/map/?aoi={aoi.pk}"


def test_a_drawn_polygon_is_sent_as_geojson(api_as, data):
    response = api_as("admin").post(
        URL, {"name": "Drawn", "geometry": POLYGON}, format="json"
    )
    assert response.status_code == 201, response.content
    aoi = AreaOfInterest.objects.get(pk=response.json()["id"])
    assert (aoi.name, aoi.source) == ("Drawn", "")
    feature = {
        "type": "Feature",
        "properties": {"name": "As a feature"},
        "geometry": POLYGON,
    }
    response = api_as("coordinator").post(URL, feature, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "As a feature"


@pytest.mark.parametrize("who", [None, "planner", "official_07"])
def test_only_coordinators_and_administrators_create_areas(api, api_as, data, who):
    client = api if who is None else api_as(who)
    response = client.post(URL, {"geometry": POLYGON}, format="json")
    assert response.status_code in (401, 403)
    assert not AreaOfInterest.objects.exists()


def test_refused_files_say_why(api_as, data, tmp_path):
    """Not a polygon, no CRS, outside Cambodia, corrupt zip, unknown type: 400."""
    coordinator = api_as("coordinator")

    def refused(path, field="file"):
        response = coordinator.post(URL, {"file": upload(path)}, format="multipart")
        assert response.status_code == 400, response.content
        return " ".join(response.json()[field])

    point = geojson_file(
        tmp_path, {"type": "Point", "coordinates": [104.9, 11.5]}, "pt.geojson"
    )
    assert "not a polygon" in refused(point)
    far = [[2.0, 48.0], [3.0, 48.0], [3.0, 49.0], [2.0, 48.0]]
    paris = geojson_file(
        tmp_path, {"type": "Polygon", "coordinates": [far]}, "paris.geojson"
    )
    assert "outside Cambodia" in refused(paris)
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip file")
    assert "zip" in refused(corrupt)
    no_prj = zipped_shapefile(tmp_path, with_prj=False)
    assert "no coordinate reference system" in refused(no_prj, "srid")
    text = tmp_path / "area.txt"
    text.write_text("hello")
    assert "GeoJSON, zipped Shapefile" in refused(text)
    response = coordinator.post(URL, {"geometry": {"type": "Polygon"}}, format="json")
    assert response.status_code == 400
    assert not AreaOfInterest.objects.exists()


def test_the_summary_counts_what_lies_inside(api, api_as, data):
    """PP1 (very high, 300 learners) and PP2 (low, never assessed) are inside;
    the sensitive shelter counts only for those who may see it."""
    aoi = AreaOfInterest.objects.create(name="PP", area=_area())
    url = f"/api/aois/{aoi.pk}/summary/"
    summary = api.get(url).json()
    schools = summary["schools"]
    assert schools["open"] == 2
    assert schools["schools"] == 2
    assert (
        schools["schools_very_high"],
        schools["schools_low"],
        schools["schools_high"],
    ) == (1, 1, 0)
    assert schools["learners_at_risk"] == 300
    assert schools["never_assessed"] == 1
    assert summary["services"]["total"] == 1
    assert summary["services"]["by_kind"]["safe_shelter"] == 0
    coordinator = api_as("coordinator").get(url).json()
    assert coordinator["services"]["by_kind"]["safe_shelter"] == 1
    assert api.get("/api/aois/99999/summary/").status_code == 404


def test_the_summary_counts_exposures_by_layer_and_class(api, data):
    from django.utils import timezone

    from schools.models import Exposure

    Exposure.objects.create(
        layer=data["layer"],
        school=data["pp1"],
        hazard_class=3,
        intensity=2.0,
        computed_at=timezone.now(),
    )
    Exposure.objects.create(
        layer=data["layer"],
        school=data["kp1"],
        hazard_class=2,
        intensity=1.0,
        computed_at=timezone.now(),
    )
    aoi = AreaOfInterest.objects.create(name="PP", area=_area())
    exposures = api.get(f"/api/aois/{aoi.pk}/summary/").json()["exposures"]
    assert len(exposures) == 1
    assert exposures[0]["name"] == "Test flood"
    assert exposures[0]["schools_by_class"] == {"0": 0, "1": 0, "2": 0, "3": 1, "4": 0}


def _area():
    from django.contrib.gis.geos import GEOSGeometry

    return GEOSGeometry(
        json.dumps({"type": "MultiPolygon", "coordinates": [[RING]]}), srid=4326
    )
