"""import_hazard: zones and storm tracks from the files partners hand over.

Zones sit in Phnom Penh (the box 104.75-105.05 E, 11.45-11.70 N); with no
province boundaries loaded, Cambodia is the box lon 102.3-107.7, lat 10.3-14.7.
Files are written by the tests: GeoJSON by hand, the other formats by ogr2ogr.
"""

import csv
import json
import shlex
import subprocess
import zipfile
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from hazards import callbacks
from hazards.classes import DEFAULT_BREAKS, HazardType, intensity_class
from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.services import hazard_layer_import
from hazards.vectors import WIND_RADIUS_KM, wind_radius_km
from preparedness.readers import InputError

JTWC_CSV = (
    settings.SHARED_DATA_DIR
    / "cambodia/cyclones/jtwc_wp_besttrack_1945_2021_cambodia_bbox.csv"
)
JTWC_COLUMNS = ["SN", "CY", "Year", "Month", "Day", "Hour", "Lat", "Lon", "VMax"]
BANGKOK = (100.45, 13.70, 100.60, 13.80)  # outside Cambodia
CRSES = ("EPSG:4326", "EPSG:32648")


def ring(x0, y0, x1, y1):
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def feature(coordinates, kind="Polygon", **properties):
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": None
        if coordinates is None
        else {"type": kind, "coordinates": coordinates},
    }


def write_geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def ogr2ogr(dest: Path, src: Path, driver: str, *options: str) -> Path:
    subprocess.run(
        ["ogr2ogr", "-f", driver, *options, str(dest), str(src)],
        check=True,
        capture_output=True,
    )
    return dest


def zipped_shapefile(folder: Path, src: Path, *options: str, prj=True) -> Path:
    (folder / "shp").mkdir()
    shp = ogr2ogr(folder / "shp" / "zones.shp", src, "ESRI Shapefile", *options)
    archive = folder / "zones.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for part in sorted(shp.parent.iterdir()):
            if prj or part.suffix != ".prj":
                out.write(part, part.name)
    return archive


def run(path: Path, options: str) -> str:
    """Run import_hazard on `path` with shell-style `options`; return its output."""
    out = StringIO()
    call_command(
        "import_hazard", str(path), *shlex.split(options), stdout=out, stderr=StringIO()
    )
    return out.getvalue()


def refused(path: Path, options: str) -> str:
    """Run import_hazard expecting exit 2 and nothing written; return the message."""
    with pytest.raises(CommandError) as caught:
        run(path, options)
    assert caught.value.returncode == 2
    assert not HazardLayer.objects.exists()
    assert not HazardZone.objects.exists() and not StormTrack.objects.exists()
    return str(caught.value)


@pytest.fixture
def flood_zones(tmp_path):
    """Two flood zones in Phnom Penh: 1.2 m and 0.3 m deep."""
    return write_geojson(
        tmp_path / "zones.geojson",
        [
            feature(ring(104.90, 11.50, 104.95, 11.55), depth=1.2, name="Chbar Ampov"),
            feature(ring(104.80, 11.60, 104.85, 11.65), depth=0.3, name="Russey Keo"),
        ],
    )


@pytest.fixture
def changes(monkeypatch):
    """The LayerChange notifications sent after commit (other callbacks muted)."""
    seen: list[callbacks.LayerChange] = []
    monkeypatch.setattr(callbacks, "_callbacks", [seen.append])
    return seen


# --- the class rule -----------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(0.2, 1), (0.5, 2), (1.5, 3), (3.0, 4), (7.0, 4), (0.0, 0), (-0.4, 0)],
)
def test_zone_class_follows_the_flood_depth_breaks(db, tmp_path, depth, expected):
    """Class 0 at depth <= 0, else 1 + breaks (0.5, 1.5, 3.0) at or below it."""
    path = write_geojson(
        tmp_path / "z.geojson",
        [feature(ring(104.90, 11.50, 104.95, 11.55), depth=depth)],
    )
    run(path, "--type flood --name Depth --intensity-field depth")
    assert HazardZone.objects.get().hazard_class == expected


@pytest.mark.parametrize(
    ("wind", "expected"), [(20, 1), (34, 2), (63, 2), (64, 3), (95, 3), (96, 4)]
)
def test_wind_class_follows_the_storm_breaks(wind, expected):
    """Within a track's radius: < 34 kt -> 1, 34-63 -> 2, 64-95 -> 3, >= 96 -> 4."""
    assert intensity_class(wind, DEFAULT_BREAKS[HazardType.STORM]) == expected


@pytest.mark.parametrize(
    ("wind", "km"), [(20, 50), (33.9, 50), (34, 150), (64, 200), (96, 250), (150, 250)]
)
def test_wind_radius_rule_by_intensity_band(wind, km):
    """Without radii in the file, the radius comes from the intensity band."""
    assert wind_radius_km(wind) == km
    assert [r for _, r in WIND_RADIUS_KM] == [50, 150, 200, 250]


# --- zones in every format ----------------------------------------------------


def test_geojson_zones_are_imported_with_a_summary(
    db, flood_zones, changes, django_capture_on_commit_callbacks
):
    """Each polygon becomes a zone with its depth, class and attributes."""
    options = "--type flood --name 'Mekong 2013' --intensity-field depth"
    with django_capture_on_commit_callbacks(execute=True):
        out = run(flood_zones, f"{options} --event-date 2013-10-01 --source MRC")
    assert "read 2, imported 2 zones, repaired 0, rejected 0" in out
    layer = HazardLayer.objects.get()
    assert (layer.hazard_type, layer.representation) == ("riverine_flood", "zones")
    assert (layer.scenario, str(layer.event_date)) == ("event", "2013-10-01")
    assert (layer.units, layer.breaks, layer.source) == ("m", [0.5, 1.5, 3.0], "MRC")
    zones = {z.properties["name"]: z for z in layer.zones.all()}
    assert (
        zones["Chbar Ampov"].intensity == 1.2 and zones["Chbar Ampov"].hazard_class == 2
    )
    assert zones["Russey Keo"].hazard_class == 1
    assert zones["Chbar Ampov"].area.extent == pytest.approx(
        (104.90, 11.50, 104.95, 11.55)
    )
    assert layer.import_summary["imported"] == 2
    assert changes == [callbacks.LayerChange(layer_ids=(layer.pk,))]


@pytest.mark.parametrize(
    ("fmt", "crs"),
    [
        *((fmt, crs) for fmt in ("geojson", "gpkg", "shapefile") for crs in CRSES),
        ("kml", "EPSG:4326"),  # KML is always WGS84
    ],
)
def test_every_vector_format_and_crs_lands_in_wgs84(
    db, tmp_path, flood_zones, fmt, crs
):
    """GeoPackage, zipped Shapefile, KML, GeoJSON; in WGS84 or UTM 48N: read alike."""
    reproject = ("-t_srs", crs)
    path = {
        "geojson": lambda: ogr2ogr(
            tmp_path / "z.geojson", flood_zones, "GeoJSON", *reproject
        ),
        "gpkg": lambda: ogr2ogr(tmp_path / "z.gpkg", flood_zones, "GPKG", *reproject),
        "shapefile": lambda: zipped_shapefile(tmp_path, flood_zones, *reproject),
        "kml": lambda: ogr2ogr(tmp_path / "z.kml", flood_zones, "KML"),
    }[fmt]()
    out = run(path, "--type flood --name F --intensity-field DEPTH")
    assert "imported 2 zones" in out
    zones = sorted(HazardZone.objects.all(), key=lambda z: z.intensity)
    assert [z.intensity for z in zones] == [0.3, 1.2]
    assert [z.hazard_class for z in zones] == [1, 2]
    tolerance = 1e-9 if crs == "EPSG:4326" else 1e-6  # a round trip through UTM
    assert zones[1].area.srid == 4326
    assert zones[1].area.extent == pytest.approx(
        (104.90, 11.50, 104.95, 11.55), abs=tolerance
    )


def test_a_file_without_crs_needs_srid(db, tmp_path, flood_zones):
    """A Shapefile without .prj is refused; with --srid it is read in that CRS."""
    archive = zipped_shapefile(tmp_path, flood_zones, "-t_srs", "EPSG:32648", prj=False)
    message = refused(archive, "--type flood --name F --intensity-field depth")
    assert "no coordinate reference system" in message and "--srid" in message
    run(archive, "--type flood --name F --intensity-field depth --srid 32648")
    area = HazardZone.objects.get(intensity=1.2).area
    assert area.extent == pytest.approx((104.90, 11.50, 104.95, 11.55), abs=1e-6)


def test_class_field_gives_the_class(db, tmp_path):
    """With --class-field, zones take their class (0-4) from that field."""
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(ring(104.90, 11.50, 104.95, 11.55), susceptibility="4"),
            feature(ring(104.80, 11.60, 104.85, 11.65), susceptibility=2),
        ],
    )
    run(path, "--type landslide --name L --class-field susceptibility")
    assert sorted(HazardZone.objects.values_list("hazard_class", flat=True)) == [2, 4]
    assert set(HazardZone.objects.values_list("intensity", flat=True)) == {None}


def test_class_field_outside_0_to_4_is_rejected(db, tmp_path):
    """A class of 5 or 1.5 is a rejected row, named with its value."""
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(ring(104.90, 11.50, 104.95, 11.55), c=5),
            feature(ring(104.8, 11.6, 104.85, 11.65), c=1.5),
        ],
    )
    message = refused(path, "--type flood --name L --class-field c")
    assert "row 1 (c): hazard class 5 is not a whole number from 0 to 4" in message
    assert "row 2 (c)" in message


def test_bowtie_polygon_is_repaired_and_reported(db, tmp_path):
    """A self-intersecting polygon is repaired into valid parts and listed."""
    bowtie = [
        [
            [104.90, 11.50],
            [104.95, 11.55],
            [104.95, 11.50],
            [104.90, 11.55],
            [104.90, 11.50],
        ]
    ]
    path = write_geojson(tmp_path / "z.geojson", [feature(bowtie, depth=2.0)])
    out = run(path, "--type flood --name F --intensity-field depth")
    assert "imported 1 zones, repaired 1, rejected 0" in out
    assert "row 1 (geometry): repaired: Self-intersection" in out
    area = HazardZone.objects.get().area
    assert area.valid and len(area) == 2
    assert area.area == pytest.approx(0.05 * 0.05 / 2)


# --- rejected features --------------------------------------------------------


@pytest.fixture
def mixed_zones(tmp_path):
    """A good zone, then one in Bangkok, one without geometry, empty, infinite."""
    infinite = [[[104.90, 11.50], [999.125, 11.50], [104.95, 11.55], [104.90, 11.50]]]
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [
            feature(ring(104.90, 11.50, 104.95, 11.55), depth=1.0),
            feature(ring(*BANGKOK), depth=1.0),
            feature(None, depth=1.0),
            feature([], "MultiPolygon", depth=1.0),
            feature(infinite, depth=1.0),
        ],
    )
    # JSON has no infinity; a number too large for a double reads as one.
    path.write_text(path.read_text().replace("999.125", "1e400"))
    return path


def test_rejected_features_fail_the_whole_import(db, mixed_zones):
    """Outside Cambodia, no geometry, empty or non-finite: listed, nothing written."""
    message = refused(mixed_zones, "--type flood --name F --intensity-field depth")
    assert "4 of 5 features rejected; nothing was written" in message
    assert "row 2 (geometry): lies entirely outside Cambodia" in message
    assert "row 3 (geometry): no geometry" in message
    assert "row 4 (geometry): empty geometry" in message
    assert "row 5 (geometry): non-finite coordinates" in message


def test_skip_bad_rows_imports_the_good_features(db, mixed_zones):
    """With --skip-bad-rows the good zone is imported and the others listed."""
    out = run(
        mixed_zones, "--type flood --name F --intensity-field depth --skip-bad-rows"
    )
    assert "read 5, imported 1 zones, repaired 0, rejected 4" in out
    assert "row 2 (geometry): lies entirely outside Cambodia" in out
    assert HazardZone.objects.count() == 1
    summary = HazardLayer.objects.get().import_summary
    assert summary["rejected"] == 4
    assert summary["rows"]["rejected"][0] == (
        "row 2 (geometry): lies entirely outside Cambodia"
    )


def test_outside_means_outside_the_loaded_provinces(geography, tmp_path):
    """With boundaries loaded Cambodia is their extent: Siem Reap is outside the
    three test provinces."""
    path = write_geojson(
        tmp_path / "z.geojson", [feature(ring(103.80, 13.30, 103.90, 13.40), depth=1)]
    )
    assert "outside Cambodia" in refused(
        path, "--type flood --name F --intensity-field depth"
    )


def test_rejected_rows_can_be_written_to_a_report(db, mixed_zones, tmp_path):
    """--report writes the rejected rows as CSV."""
    report = tmp_path / "rejected.csv"
    refused(
        mixed_zones, f"--type flood --name F --intensity-field depth --report {report}"
    )
    rows = list(csv.DictReader(report.open()))
    assert [r["row"] for r in rows] == ["2", "3", "4", "5"]


# --- bad input ----------------------------------------------------------------


def test_not_a_geospatial_file(db, tmp_path):
    """A text file, or text named .geojson, is refused by name."""
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert "notes.txt: not a hazard file type (.txt)" in refused(
        notes, "--type flood --name F"
    )
    fake = tmp_path / "fake.geojson"
    fake.write_text("hello")
    assert "fake.geojson: not a readable GeoJSON file" in refused(
        fake, "--type flood --name F"
    )


def test_corrupt_zip(db, tmp_path, flood_zones):
    """A truncated zip is refused as such."""
    archive = zipped_shapefile(tmp_path, flood_zones)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:200])
    assert "broken.zip: not a readable zip file" in refused(
        broken, "--type flood --name F"
    )


def test_zip_without_shapefile(db, tmp_path):
    """A zip without a .shp says so."""
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("readme.txt", "hello")
    assert "exactly one .shp (found no .shp file)" in refused(
        archive, "--type flood --name F"
    )


def test_points_offered_as_zones(db, tmp_path):
    """Points cannot be flood zones."""
    path = write_geojson(
        tmp_path / "p.geojson", [feature([104.92, 11.56], "Point", depth=1)]
    )
    assert "p.geojson holds points; hazard zones must be polygons" in refused(
        path, "--type flood --name F --intensity-field depth"
    )


def test_unknown_field_names(db, flood_zones):
    """An --intensity-field the file lacks is named, with the fields it has."""
    message = refused(flood_zones, "--type flood --name F --intensity-field depht")
    assert "zones.geojson has no field 'depht' (fields: depth, name)" in message


def test_zones_need_an_intensity_or_class_field(db, flood_zones):
    """Without --intensity-field, --class-field or an 'intensity' field: refused."""
    message = refused(flood_zones, "--type flood --name F")
    assert "--intensity-field" in message and "fields: depth, name" in message


@pytest.mark.parametrize(
    ("breaks", "problem"),
    [
        (
            "1.5,0.5,3.0",
            "breaks 1.5, 0.5, 3: Class breaks must be strictly increasing.",
        ),
        ("0.5,0.5", "breaks 0.5, 0.5: Class breaks must be strictly increasing."),
        ("-1,2", "breaks -1, 2: Class breaks must be positive numbers."),
        ("1,2,3,4", "breaks 1, 2, 3, 4: Give one to three class breaks."),
    ],
)
def test_breaks_must_be_one_to_three_increasing_positive_numbers(
    db, flood_zones, breaks, problem
):
    """Breaks out of order, repeated, negative or too many are refused."""
    options = f"--type flood --name F --intensity-field depth --breaks={breaks}"
    assert problem in refused(flood_zones, options)


def test_custom_breaks_classify_zones(db, flood_zones):
    """--breaks overrides the hazard type's defaults."""
    run(
        flood_zones,
        "--type flash_flood --name F --intensity-field depth --breaks 0.2,1.0",
    )
    assert HazardLayer.objects.get().breaks == [0.2, 1.0]
    assert sorted(HazardZone.objects.values_list("hazard_class", flat=True)) == [2, 3]


def test_unknown_hazard_type(db, flood_zones):
    """The type must be a hazard type or one of its aliases."""
    assert "unknown hazard type 'tsunami'" in refused(
        flood_zones, "--type tsunami --name F"
    )


def test_lines_are_storm_tracks_not_floods(db, tmp_path):
    """A line file offered as a flood asks for the storm type."""
    path = write_geojson(
        tmp_path / "l.geojson",
        [feature([[104, 11], [105, 12]], "LineString", max_wind_kt=50)],
    )
    assert "holds lines (storm tracks)" in refused(path, "--type flood --name F")


def test_one_scenario_at_a_time(db, flood_zones):
    """A return period and an event date together are refused."""
    with pytest.raises(InputError) as caught:
        hazard_layer_import(
            path=flood_zones,
            hazard_type="flood",
            name="F",
            intensity_field="depth",
            return_period=100,
            event_date=date(2013, 10, 1),
        )
    assert caught.value.field == "return_period"
    assert not HazardLayer.objects.exists()


# --- re-import ----------------------------------------------------------------


def test_reimport_under_the_same_name_replaces_the_layer(
    db, tmp_path, flood_zones, changes, django_capture_on_commit_callbacks
):
    """Same row and id, new scenario and zones; the old zones are gone."""
    options = "--type flood --name Mekong --intensity-field depth --return-period"
    with django_capture_on_commit_callbacks(execute=True):
        run(flood_zones, f"{options} 10")
    first = HazardLayer.objects.get()
    old_zones = set(first.zones.values_list("pk", flat=True))
    one = write_geojson(
        tmp_path / "one.geojson", [feature(ring(104.9, 11.5, 105.0, 11.6), depth=4.0)]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run(one, f"{options} 100")
    layer = HazardLayer.objects.get()
    assert layer.pk == first.pk and layer.return_period == 100
    assert list(layer.zones.values_list("intensity", flat=True)) == [4.0]
    assert not HazardZone.objects.filter(pk__in=old_zones).exists()
    assert changes == [callbacks.LayerChange(layer_ids=(layer.pk,))] * 2


def test_failed_reimport_keeps_the_old_layer(db, tmp_path, flood_zones):
    """A refused re-import leaves the layer as it was."""
    run(flood_zones, "--type flood --name Mekong --intensity-field depth")
    bad = write_geojson(tmp_path / "bad.geojson", [feature(ring(*BANGKOK), depth=1)])
    with pytest.raises(CommandError):
        run(bad, "--type flood --name Mekong --intensity-field depth")
    assert HazardZone.objects.count() == 2


# --- storm tracks -------------------------------------------------------------


def write_best_track(path: Path, fixes) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(JTWC_COLUMNS)
        out.writerows(fixes)
    return path


@pytest.fixture
def three_storms(tmp_path):
    """Ketsana crossing Cambodia, a storm off Japan, one whose last fix lacks wind."""
    return write_best_track(
        tmp_path / "jtwc.csv",
        [
            # SN, CY, Year, Month, Day, Hour, Lat, Lon, VMax
            (200917, 17, 2009, 9, 29, 0, 15.3, 109.2, 90.0),
            (200917, 17, 2009, 9, 29, 6, 15.1, 108.0, 75.0),
            (200917, 17, 2009, 9, 29, 12, 14.9, 106.9, 45.0),
            (200917, 17, 2009, 9, 29, 18, 14.8, 105.8, 30.0),
            (201919, 19, 2019, 10, 12, 0, 33.0, 138.0, 100.0),
            (201919, 19, 2019, 10, 12, 6, 35.0, 139.0, 80.0),
            (197217, 17, 1972, 9, 5, 0, 14.8, 106.2, 30.0),
            (197217, 17, 1972, 9, 5, 6, 14.6, 105.1, 25.0),
            (197217, 17, 1972, 9, 5, 12, 14.3, 104.0, -999.0),
        ],
    )


def test_best_track_fixes_become_segments(db, three_storms):
    """Consecutive fixes join into segments carrying the larger wind and its radius."""
    out = run(three_storms, "--type typhoon --name Storms")
    assert "read 9, imported 4 track segments" in out and "dropped 2" in out
    assert (
        "row 6 (geometry): storm 201919 never passes within 500 km of Cambodia" in out
    )
    assert "row 10 (vmax): no wind (-999.0); fix left out" in out
    layer = HazardLayer.objects.get()
    assert (layer.hazard_type, layer.representation, layer.units) == (
        "storm",
        "tracks",
        "kt",
    )
    ketsana = list(layer.tracks.filter(storm_id="200917").order_by("starts_at"))
    assert [t.max_wind_kt for t in ketsana] == [90, 75, 45]
    assert [t.radius_km for t in ketsana] == [200, 200, 150]
    assert ketsana[0].path.coords == ((109.2, 15.3), (108.0, 15.1))
    assert ketsana[0].starts_at.isoformat() == "2009-09-29T00:00:00+00:00"
    assert ketsana[0].ends_at.isoformat() == "2009-09-29T06:00:00+00:00"
    assert list(
        layer.tracks.filter(storm_id="197217").values_list("max_wind_kt", "radius_km")
    ) == [(30, 50)]


def test_other_best_track_layouts_through_map(db, tmp_path):
    """IBTrACS-like columns are read with --map (and its units row is skipped)."""
    path = tmp_path / "ibtracs.csv"
    path.write_text(
        "SID,NAME,ISO_TIME,LAT,LON,USA_WIND,USA_R34\n"
        " ,,,degrees_north,degrees_east,kts,km\n"
        "2009268N14128,KETSANA,2009-09-29 00:00:00,15.3,109.2,90,180\n"
        "2009268N14128,KETSANA,2009-09-29 06:00:00,15.1,108.0,75,\n"
    )
    out = run(path, "--type storm --name K --map time=ISO_TIME,radius=USA_R34")
    assert "read 2, imported 1 track segments" in out
    track = StormTrack.objects.get()
    assert (track.storm_id, track.name, track.max_wind_kt, track.radius_km) == (
        "2009268N14128",
        "KETSANA",
        90,
        180,
    )


def test_best_track_without_needed_columns(db, tmp_path):
    """A CSV lacking storm columns is refused, naming what is missing."""
    path = tmp_path / "schools.csv"
    path.write_text("code,lat,lon\nA,11.5,104.9\n")
    message = refused(path, "--type storm --name S")
    assert "not a best-track table; no column for storm_id" in message
    assert "--map" in message


def test_bad_fix_fails_the_import(db, tmp_path):
    """A fix with an unreadable latitude is a rejected row."""
    path = write_best_track(
        tmp_path / "t.csv",
        [
            (200917, 17, 2009, 9, 29, 0, "15,3", 109.2, 90),
            (200917, 17, 2009, 9, 29, 6, 15.1, 108.0, 75),
        ],
    )
    assert "row 2 (lat): '15,3' is not a number" in refused(
        path, "--type storm --name S"
    )


def test_real_jtwc_file_imports_all_106_storms(db):
    """The JTWC subset near Cambodia: every storm kept, Ketsana (200917) among them."""
    run(JTWC_CSV, "--type typhoon --name 'JTWC 1945-2021' --source JTWC")
    tracks = StormTrack.objects.all()
    assert tracks.values("storm_id").distinct().count() == 106
    ketsana = tracks.filter(storm_id="200917")
    assert ketsana.count() == 19
    assert max(t.max_wind_kt for t in ketsana) == 90
    # Storm 197217's last seven fixes have no wind (-999): 2,946 fixes, 106 storms.
    assert tracks.count() == 2946 - 106 - 7


def test_track_lines_with_wind(db, tmp_path):
    """A line file is a tracks layer; lines far from Cambodia are dropped and listed."""
    path = write_geojson(
        tmp_path / "tracks.geojson",
        [
            feature(
                [[109.2, 15.3], [105.8, 14.8]],
                "LineString",
                max_wind_kt=90,
                name="Ketsana",
            ),
            feature(
                [[138.0, 33.0], [139.0, 35.0]],
                "LineString",
                max_wind_kt=100,
                name="Hagibis",
            ),
            feature(
                [[111.0, 12.0], [108.0, 12.5]],
                "LineString",
                max_wind_kt=40,
                radius_km=80,
            ),
        ],
    )
    out = run(path, "--type cyclone --name T")
    assert "imported 2 track segments" in out and "dropped 1" in out
    assert "row 2 (geometry): row 2 never passes within 500 km of Cambodia" in out
    assert sorted(StormTrack.objects.values_list("radius_km", flat=True)) == [80, 200]


def test_track_within_500_km_is_kept_whole(db, tmp_path):
    """A track 4 degrees (~440 km) east of Cambodia is kept; 6 degrees (~660 km) not."""
    near = feature([[111.7, 12.0], [112.5, 12.5]], "LineString", max_wind_kt=50)
    far = feature([[113.7, 12.0], [114.5, 12.5]], "LineString", max_wind_kt=50)
    path = write_geojson(tmp_path / "t.geojson", [near, far])
    out = run(path, "--type storm --name T")
    assert "imported 1 track segments" in out
    assert StormTrack.objects.get().path.coords[0] == (111.7, 12.0)


def test_points_of_a_storm_are_best_track_fixes(db, tmp_path):
    """A point file (as IBTrACS publishes) with storm id, time and wind is a track."""
    fixes = [
        ("2009-09-29T00:00:00", 109.2, 15.3, 90),
        ("2009-09-29T06:00:00", 108.0, 15.1, 75),
        ("2009-09-29T12:00:00", 106.9, 14.9, 45),
    ]
    path = write_geojson(
        tmp_path / "fixes.geojson",
        [
            feature([lon, lat], "Point", SID="200917", ISO_TIME=time, USA_WIND=wind)
            for time, lon, lat, wind in fixes
        ],
    )
    out = run(path, "--type storm --name K --map time=iso_time")
    assert "read 3, imported 2 track segments" in out
    winds = StormTrack.objects.order_by("starts_at").values_list(
        "max_wind_kt", flat=True
    )
    assert list(winds) == [90, 75]
