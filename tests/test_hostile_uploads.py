"""Hostile uploads: zip bombs, path traversal in zip members, XML entities in KML,
rasters declaring absurd sizes, wrong contents and oversized bodies are refused
with a clear message (HTTP 400 / exit code 2) before GDAL opens them, and nothing
is written.

Every hostile file is written by the test. The existing layer sits in Phnom Penh
(104.90-104.95 E, 11.50-11.55 N).
"""

import io
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
import rasterio
from affine import Affine
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from hazards.models import HazardLayer, HazardZone
from hazards.services import hazard_layer_import
from maps.models import AreaOfInterest
from schools.models import Assessment, School
from tests.factories import make_framework, make_school

LAYERS = "/api/hazards/layers/"
AOIS = "/api/aois/"
RING = [[104.90, 11.50], [104.95, 11.50], [104.95, 11.55], [104.90, 11.55]]
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"depth": 1.2},
            "geometry": {"type": "Polygon", "coordinates": [[*RING, RING[0]]]},
        }
    ],
}
KML_POLYGON = (
    "<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>"
    "104.90,11.50 104.95,11.50 104.95,11.55 104.90,11.55 104.90,11.50"
    "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE kml [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
    + "<name>&lol9;</name>"
    + KML_POLYGON
    + "</Document></kml>\n"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY secret SYSTEM '
    '"file:///etc/passwd">]>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
    "<Document><name>&secret;</name>" + KML_POLYGON + "</Document></kml>\n"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def existing(users, media, tmp_path):
    """A layer "Mekong" with one zone, an area of interest and a school."""
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(ZONES))
    hazard_layer_import(
        path=path, hazard_type="flood", name="Mekong", intensity_field="depth"
    )
    make_school("PP-1", 104.92, 11.52, commune="120101")
    AreaOfInterest.objects.create(
        name="Kept", area=HazardZone.objects.get().area, source="kept.geojson"
    )


def state():
    """Everything an import or upload could write."""
    return (
        sorted(HazardLayer.objects.values_list("pk", "name", "representation")),
        sorted(
            (z.layer_id, z.area.wkt, z.intensity, z.hazard_class)
            for z in HazardZone.objects.all()
        ),
        sorted(AreaOfInterest.objects.values_list("pk", "name")),
        sorted(School.objects.values_list("code", "name_en")),
    )


def stray_files() -> set[str]:
    """Files named like the traversal targets anywhere a member could escape to."""
    places = [
        Path(tempfile.gettempdir()),
        Path.cwd(),
        Path(tempfile.gettempdir()).parent,
    ]
    return {str(p) for place in places for p in place.glob("evil*")}


def shapefile_parts(tmp_path: Path) -> dict[str, bytes]:
    """The .shp, .shx, .dbf and .prj of the zones, written by GDAL's ogr2ogr."""
    source = tmp_path / "src.geojson"
    source.write_text(json.dumps(ZONES))
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", str(folder / "z.shp"), str(source)],
        check=True,
        capture_output=True,
    )
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def hostile_xlsx(tmp_path: Path, name: str, **replace: bytes) -> Path:
    """A real workbook written by openpyxl with some of its parts replaced."""
    book = openpyxl.Workbook()
    book.active.append(["code", "name_en"])
    book.active.append(["PP-2", "School PP-2"])
    plain = tmp_path / f"plain-{name}"
    book.save(plain)
    with zipfile.ZipFile(plain) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    assert set(replace) <= set(members)
    return write_zip(tmp_path / name, members | replace)


def zip_bomb(tmp_path: Path) -> Path:
    """A zipped Shapefile whose .shp is 64 MB of zeros (about 64 kB packed)."""
    parts = shapefile_parts(tmp_path)
    members = {f"zones{suffix}": content for suffix, content in parts.items()}
    members["zones.shp"] = bytes(64 * 2**20)
    return write_zip(tmp_path / "bomb.zip", members)


def traversal_zip(tmp_path: Path, prefix: str = "../") -> Path:
    parts = shapefile_parts(tmp_path)
    return write_zip(
        tmp_path / "traversal.zip",
        {
            f"{prefix}evil{suffix}": parts[suffix]
            for suffix in sorted(parts, key=lambda s: s != ".shp")  # .shp first
        },
    )


def huge_raster(tmp_path: Path) -> Path:
    """A GeoTIFF whose header declares 1,000,000 x 1,000,000 pixels; the file is
    sparse (a few hundred bytes: no block is written)."""
    path = tmp_path / "huge.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=1_000_000,
        height=1_000_000,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=Affine(1e-6, 0, 104.0, 0, -1e-6, 12.0),
        nodata=0,
        sparse_ok=True,
        blockysize=1_000_000,  # one strip: a tiny header
    ):
        pass
    assert path.stat().st_size < 10_000
    return path


def layer_options(path: Path) -> dict[str, str]:
    """The options a file of this kind takes (rasters and tables have no fields)."""
    if path.suffix == ".tif":
        return {"hazard_type": "flood", "name": "Mekong"}
    if path.suffix == ".csv":
        return {"hazard_type": "storm", "name": "Mekong"}
    return {"hazard_type": "flood", "name": "Mekong", "intensity_field": "depth"}


def post_layer(client, path: Path):
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name
    return client.post(
        LAYERS, {"file": upload, **layer_options(path)}, format="multipart"
    )


def post_aoi(client, path: Path):
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name
    return client.post(AOIS, {"file": upload, "name": "Hostile"}, format="multipart")


def refused(response, *words: str) -> str:
    assert response.status_code == 400, response.content[:500]
    assert "file" in response.json(), response.json()
    message = " ".join(response.json()["file"])
    for word in words:
        assert word in message, message
    return message


def cli_refused(path: Path, *words: str) -> str:
    options = layer_options(path)
    args = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    args = [a.replace("--hazard-type", "--type") for a in args]
    with pytest.raises(CommandError) as info:
        call_command("import_hazard", str(path), *args, stdout=io.StringIO())
    assert info.value.returncode == 2
    for word in words:
        assert word in str(info.value), str(info.value)
    return str(info.value)


# --- zips ----------------------------------------------------------------------


def test_zip_bomb_is_refused_by_api_and_command(existing, api_as, tmp_path):
    """A zipped Shapefile whose .shp expands a thousand times is refused before
    GDAL reads it, by the API (400) and the command (exit 2); nothing changes."""
    before = state()
    path = zip_bomb(tmp_path)
    assert path.stat().st_size < 2**20
    refused(post_layer(api_as("coordinator"), path), "zones.shp", "expands", "zip bomb")
    cli_refused(path, "zones.shp", "expands")
    refused(post_aoi(api_as("coordinator"), path), "expands")
    assert state() == before


def test_zip_expanding_beyond_the_limit_is_refused(
    existing, api_as, tmp_path, settings
):
    """Members that expand past SALASAFE_ZIP_MAX_UNPACKED_MB in total are refused,
    even at an ordinary compression ratio."""
    settings.SALASAFE_UPLOAD_LIMITS = {
        **settings.SALASAFE_UPLOAD_LIMITS,
        "zip_unpacked_mb": 1,
    }
    before = state()
    parts = shapefile_parts(tmp_path)
    members = {f"zones{suffix}": content for suffix, content in parts.items()}
    members["notes.txt"] = random.Random(8).randbytes(2 * 2**20)  # incompressible
    path = write_zip(tmp_path / "big.zip", members)
    refused(post_layer(api_as("coordinator"), path), "expand to more than 1 MB")
    assert state() == before


def test_zip_with_too_many_members_is_refused(existing, api_as, tmp_path):
    """More than 1,000 members (the default limit) are refused."""
    before = state()
    parts = shapefile_parts(tmp_path)
    members = {f"zones{suffix}": content for suffix, content in parts.items()}
    members |= {f"junk/{i}.txt": b"x" for i in range(1001)}
    path = write_zip(tmp_path / "many.zip", members)
    refused(post_layer(api_as("coordinator"), path), "1005 members", "at most 1000")
    assert state() == before


@pytest.mark.parametrize("prefix", ["../", "/tmp/", "a/../../", "..\\"])
def test_zip_member_paths_outside_the_archive_are_refused(
    existing, api_as, tmp_path, prefix
):
    """`../evil.shp`, absolute and backslash paths are refused by the hazard and
    area-of-interest uploads and the command; no file escapes the temporary
    folder and nothing is written."""
    before_files = stray_files()
    before = state()
    path = traversal_zip(tmp_path, prefix)
    refused(post_layer(api_as("coordinator"), path), "evil.shp", "unsafe path")
    refused(post_aoi(api_as("coordinator"), path), "unsafe path")
    cli_refused(path, "unsafe path")
    assert state() == before
    assert stray_files() == before_files


# --- XML -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external"]
)
def test_kml_with_entities_is_refused_before_gdal(existing, api_as, tmp_path, content):
    """A KML declaring entities (billion laughs, an external file) is refused
    before GDAL parses it, by both uploads and the command."""
    before = state()
    path = tmp_path / "laughs.kml"
    path.write_text(content)
    refused(post_layer(api_as("coordinator"), path), "DOCTYPE")
    refused(post_aoi(api_as("coordinator"), path), "DOCTYPE")
    cli_refused(path, "DOCTYPE")
    assert state() == before


def test_plain_kml_is_still_imported(existing, api_as, tmp_path):
    """A KML without a DOCTYPE (HTML in a CDATA description) is read as before."""
    path = tmp_path / "area.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<description><![CDATA[<!DOCTYPE html><p>flood</p>]]></description>"
        + KML_POLYGON
        + "</Document></kml>\n"
    )
    response = post_aoi(api_as("coordinator"), path)
    assert response.status_code == 201, response.content
    assert AreaOfInterest.objects.filter(name="Hostile").exists()


def test_xlsx_with_a_doctype_is_refused_by_import_schools(existing, tmp_path):
    """An XLSX whose parts declare a DOCTYPE is refused (exit 2) before openpyxl
    parses it; the schools are unchanged."""
    before = state()
    workbook = BILLION_LAUGHS.replace("kml", "workbook").encode()
    path = hostile_xlsx(tmp_path, "schools.xlsx", **{"xl/workbook.xml": workbook})
    with pytest.raises(CommandError) as info:
        call_command("import_schools", str(path), stdout=io.StringIO())
    assert info.value.returncode == 2
    assert "xl/workbook.xml" in str(info.value) and "DOCTYPE" in str(info.value)
    assert state() == before


# --- rasters -------------------------------------------------------------------


def test_raster_declaring_a_trillion_pixels_is_refused(
    existing, api_as, tmp_path, media
):
    """A tiny GeoTIFF whose header declares 1,000,000 x 1,000,000 pixels is refused
    from its header, before a pixel is read or a COG written."""
    before = state()
    path = huge_raster(tmp_path)
    db = connection.settings_dict
    command = subprocess.run(  # without the check this reads for minutes
        [
            sys.executable,
            "manage.py",
            "import_hazard",
            str(path),
            "--type=flood",
            "--name=Mekong",
        ],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "preparedness.settings",
            "MEDIA_ROOT": str(media),
            "DATABASE_URL": f"postgis://{db['USER']}@{quote(db['HOST'], safe='')}"
            f":{db['PORT']}/{db['NAME']}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert command.returncode == 2, command.stderr[-2000:]
    assert "1000000 x 1000000 pixels" in command.stderr
    refused(
        post_layer(api_as("coordinator"), path),
        "1000000 x 1000000 pixels",
    )
    cli_refused(path, "1000000 x 1000000 pixels")
    assert state() == before
    assert not list((media / "hazards").glob("*.tif"))


def test_raster_with_too_many_bands_is_refused(existing, api_as, tmp_path):
    """A header declaring more bands than SALASAFE_RASTER_MAX_BANDS is refused."""
    path = tmp_path / "bands.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=4,
        height=4,
        count=17,
        dtype="uint8",
        crs="EPSG:4326",
        transform=Affine(0.01, 0, 104.9, 0, -0.01, 11.55),
    ):
        pass
    before = state()
    refused(post_layer(api_as("coordinator"), path), "17 bands", "at most 16")
    assert state() == before


# --- content and size ----------------------------------------------------------


VRT = (
    '<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Byte" '
    'band="1"><SimpleSource><SourceFilename>/etc/passwd</SourceFilename>'
    "</SimpleSource></VRTRasterBand></VRTDataset>"
)


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("flood.tif", VRT.encode(), "not a readable GeoTIFF (its content"),
        (
            "zones.geojson",
            b"PK\x03\x04 not json",
            "not a readable GeoJSON file (its content",
        ),
        (
            "zones.gpkg",
            json.dumps(ZONES).encode(),
            "not a readable GeoPackage file (its content",
        ),
        (
            "zones.zip",
            json.dumps(ZONES).encode(),
            "not a readable zip file (its content",
        ),
        (
            "zones.kml",
            b'<?xml version="1.0"?><html><body/></html>',
            "not a readable KML file (its content",
        ),
        ("tracks.csv", b"SN,Year\x00\x00\x01", "not a readable CSV file (its content"),
    ],
)
def test_content_must_match_the_suffix(existing, api_as, tmp_path, name, content, what):
    """A file is judged by its content, not only its name: a GDAL VRT named .tif
    (which could read other files), a zip named .geojson... are refused."""
    before = state()
    path = tmp_path / name
    path.write_bytes(content)
    refused(post_layer(api_as("coordinator"), path), what)
    assert state() == before


def test_hazard_upload_over_the_limit_is_refused(existing, api_as, tmp_path, settings):
    """A hazard upload over SALASAFE_MAX_UPLOAD_MB (here 1 MB) is refused from its
    Content-Length, naming the limit."""
    settings.SALASAFE_UPLOAD_LIMITS = {
        **settings.SALASAFE_UPLOAD_LIMITS,
        "hazard_mb": 1,
    }
    before = state()
    path = tmp_path / "zones.geojson"
    zones = dict(ZONES, padding="x" * (2 * 2**20))
    path.write_text(json.dumps(zones))
    refused(post_layer(api_as("coordinator"), path), "larger than 1 MB")
    assert state() == before


def test_aoi_upload_over_the_limit_is_refused(existing, api_as, tmp_path, settings):
    """An area-of-interest upload over its own limit (here 1 MB) is refused."""
    settings.SALASAFE_UPLOAD_LIMITS = {**settings.SALASAFE_UPLOAD_LIMITS, "aoi_mb": 1}
    before = state()
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(dict(ZONES, padding="x" * (2 * 2**20))))
    refused(post_aoi(api_as("coordinator"), path), "larger than 1 MB")
    assert state() == before


def test_drawn_area_over_the_body_limit_is_a_400(existing, api_as):
    """A drawn area (a JSON body) over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is
    refused with a 400, not a 500, and nothing is saved."""
    before = state()
    ring = [[104.9 + i * 1e-7, 11.5] for i in range(150_000)]
    geometry = {"type": "Polygon", "coordinates": [[*ring, [104.95, 11.55], ring[0]]]}
    body = json.dumps(geometry)
    assert len(body) > 2_621_440
    response = api_as("coordinator").post(AOIS, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert state() == before


def test_kobo_xlsx_zip_bomb_is_refused(existing, api_as, tmp_path):
    """A KoboToolbox export (.xlsx) whose sheet expands a thousand times is refused
    before openpyxl reads it (400), and no assessment is created."""
    make_framework(tmp_path)
    before = (state(), Assessment.objects.count())
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    )
    bomb = sheet + b" " * 64 * 2**20 + b"<sheetData/></worksheet>"
    path = hostile_xlsx(tmp_path, "kobo.xlsx", **{"xl/worksheets/sheet1.xml": bomb})
    upload = io.BytesIO(path.read_bytes())
    upload.name = path.name
    response = api_as("official_07").post(
        "/api/assessments/import/", {"file": upload}, format="multipart"
    )
    refused(response, "sheet1.xml", "expands")
    assert (state(), Assessment.objects.count()) == before
