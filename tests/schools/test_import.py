"""import_schools and import_services: files as ministries and partners hand them over.

Phnom Penh's commune 120101 is the box 104.90-104.95 E, 11.54-11.58 N; the
point (104.92, 11.56) lies inside it.
"""

import csv
import io
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.contrib.gis.gdal import OGRGeometry
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from preparedness.models import AdminArea
from schools.models import School, Service
from tests.factories import make_school

SCHOOL_COLUMNS = [
    "code",
    "name_en",
    "name_km",
    "level",
    "enrolment_girls",
    "enrolment_boys",
    "commune_code",
    "evacuation_centre",
    "lon",
    "lat",
]
SERVICE_COLUMNS = ["code", "kind", "name_en", "name_km", "contact", "commune_code"]
SERVICE_COLUMNS += ["lon", "lat"]
# Khmer with zero-width spaces between words, as Khmer typists enter it.
KHMER = "សាលា\u200bបឋមសិក្សា\u200bទន្លេបាសាក់"


def school(code: str, **values: str) -> dict[str, str]:
    row = {
        "code": code,
        "name_en": f"School {code}",
        "name_km": KHMER,
        "level": "primary",
        "enrolment_girls": "120",
        "enrolment_boys": "110",
        "commune_code": "120101",
        "evacuation_centre": "no",
        "lon": "104.92",
        "lat": "11.56",
    }
    row.update(values)
    return row


def service(code: str, **values: str) -> dict[str, str]:
    row = {
        "code": code,
        "kind": "health_centre",
        "name_en": f"Service {code}",
        "name_km": "មណ្ឌល\u200bសុខភាព",
        "contact": "012 345 678",
        "commune_code": "120101",
        "lon": "104.93",
        "lat": "11.57",
    }
    row.update(values)
    return row


def write_csv(path: Path, rows, columns=SCHOOL_COLUMNS, *, delimiter=",", bom=False):
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    return path


def write_geojson(path: Path, features) -> Path:
    """Point features given as (properties, (x, y))."""
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": list(xy)},
            }
            for props, xy in features
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def utm48n(lon: float, lat: float) -> tuple[float, float]:
    """A WGS 84 point in UTM zone 48N (EPSG:32648), computed by GDAL."""
    point = OGRGeometry(f"POINT ({lon} {lat})", srs=4326)
    point.transform(32648)
    return point.x, point.y


def run(command: str, path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rejected(command: str, path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as info:
        run(command, path, *args)
    assert info.value.returncode == 2
    return str(info.value)


def snapshot(model=School):
    return sorted(
        (p.code, p.name_en, p.name_km, p.location.coords, p.commune_id, p.status)
        for p in model.objects.all()
    )


# --- formats, upsert, names -----------------------------------------------------


def test_reimport_updates_and_never_duplicates(geography, tmp_path):
    """Importing the same file twice leaves the same rows; an edited name is updated."""
    path = write_csv(tmp_path / "emis.csv", [school("S1"), school("S2")])
    out, _ = run("import_schools", path)
    assert "read 2, created 2, updated 0, closed 0, rejected 0" in out
    first = snapshot()

    out, _ = run("import_schools", path)
    assert "read 2, created 0, updated 2, closed 0, rejected 0" in out
    assert snapshot() == first

    write_csv(path, [school("S1", name_en="Wat Phnom Primary"), school("S2")])
    run("import_schools", path)
    assert School.objects.count() == 2
    assert School.objects.get(code="S1").name_en == "Wat Phnom Primary"


def test_csv_values_land_in_the_right_fields(geography, tmp_path):
    """Every default column is stored, with the Khmer name intact byte for byte."""
    row = school("0012", evacuation_centre="Yes", level="Lower Secondary")
    run("import_schools", write_csv(tmp_path / "s.csv", [row]))
    s = School.objects.get()
    assert s.code == "0012"
    assert s.name_km.encode() == KHMER.encode()
    assert (s.level, s.enrolment_girls, s.enrolment_boys) == (
        "lower_secondary",
        120,
        110,
    )
    assert s.evacuation_centre is True
    assert s.commune_id == "120101"
    assert s.location.coords == pytest.approx((104.92, 11.56))


def test_csv_with_bom_semicolons_and_decimal_commas(geography, tmp_path):
    """A ';' CSV saved by Excel with a BOM and decimal commas reads like a plain one."""
    row = school("S1", lon="104,92", lat="11,56")
    path = write_csv(tmp_path / "s.csv", [row], delimiter=";", bom=True)
    run("import_schools", path)
    s = School.objects.get()
    assert s.code == "S1"  # not '\ufeffcode' as the first column
    assert s.name_km == KHMER
    assert s.location.coords == pytest.approx((104.92, 11.56))


def test_csv_that_is_not_utf8_is_refused(geography, tmp_path):
    """A CSV in a legacy encoding is refused with a clear message, nothing written."""
    path = tmp_path / "s.csv"
    path.write_bytes(
        "code,name_en,level,lon,lat\nS1,École,primary,104.92,11.56\n".encode("cp1252")
    )
    message = rejected("import_schools", path)
    assert "not UTF-8" in message
    assert School.objects.count() == 0


def test_unreadable_xlsx_is_refused(geography, tmp_path):
    """A file named .xlsx that is not a workbook exits 2 with a clear message."""
    path = write_csv(tmp_path / "emis.xlsx", [school("S1")])
    assert "not a readable XLSX workbook" in rejected("import_schools", path)


def test_unknown_file_type_is_refused(geography, tmp_path):
    """A file that is not CSV, XLSX, GeoJSON or GeoPackage exits 2 naming the type."""
    path = tmp_path / "schools.txt"
    path.write_text("code\n")
    assert "unknown file type '.txt'" in rejected("import_schools", path)


def test_xlsx_keeps_text_codes_and_reads_numeric_cells(geography, tmp_path):
    """XLSX text codes keep leading zeros; whole-number cells become plain strings."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["Code", "Name_KM", "Level", "Enrolment_Girls", "Commune_Code", "Lon", "Lat"]
    )
    sheet.append(["00123", KHMER, "primary", 45, 120101, 104.92, 11.56])
    sheet.append([4567.0, KHMER, "preschool", 30.0, "120101", 104.93, 11.57])
    book.save(tmp_path / "emis.xlsx")
    run("import_schools", tmp_path / "emis.xlsx")
    assert sorted(School.objects.values_list("code", "enrolment_girls", "commune")) == [
        ("00123", 45, "120101"),
        ("4567", 30, "120101"),
    ]
    assert School.objects.get(code="00123").name_km == KHMER


def test_geojson_points_find_their_commune(geography, tmp_path):
    """A GeoJSON without commune_code gets each school's commune from its location."""
    features = [
        ({"code": "G1", "name_km": KHMER, "level": "primary"}, (104.92, 11.56)),
        ({"code": "G2", "name_en": "Angk", "level": "primary"}, (104.20, 10.60)),
    ]
    run("import_schools", write_geojson(tmp_path / "s.geojson", features))
    assert dict(School.objects.values_list("code", "commune")) == {
        "G1": "120101",
        "G2": "070101",
    }
    assert School.objects.get(code="G1").name_km == KHMER


def test_geojson_errors_are_numbered_by_feature(geography, tmp_path):
    """In a vector file the row number is the feature number, starting at 1."""
    features = [
        ({"code": "G1", "name_en": "A", "level": "primary"}, (104.92, 11.56)),
        ({"code": "G2", "name_en": "B", "level": "primary"}, (100.5, 13.75)),
    ]
    message = rejected(
        "import_schools", write_geojson(tmp_path / "s.geojson", features)
    )
    assert "row 2 (geometry): point is outside Cambodia" in message
    assert School.objects.count() == 0


def test_geopackage_in_utm_48n_lands_at_the_right_place(geography, tmp_path):
    """A GeoPackage in UTM zone 48N lands at the right lon/lat and commune."""
    x, y = utm48n(104.92, 11.56)
    source = write_geojson(
        tmp_path / "utm.geojson",
        [({"code": "U1", "name_km": KHMER, "level": "primary"}, (x, y))],
    )
    gpkg = tmp_path / "schools.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), "-a_srs", "EPSG:32648"],
        check=True,
    )
    run("import_schools", gpkg)
    s = School.objects.get()
    assert s.location.coords == pytest.approx((104.92, 11.56), abs=1e-7)
    assert s.commune_id == "120101"
    assert s.name_km.encode() == KHMER.encode()


def test_utm_xy_columns_with_srid(geography, tmp_path):
    """x/y columns with --srid 32648 are transformed to lon/lat and find the commune."""
    x, y = utm48n(104.92, 11.56)
    columns = ["code", "name_en", "level", "EAST", "NORTH"]
    row = {"code": "U1", "name_en": "U", "level": "primary", "EAST": x, "NORTH": y}
    path = write_csv(tmp_path / "utm.csv", [row], columns)
    run("import_schools", path, "--map", "x=EAST,y=NORTH", "--srid", "32648")
    s = School.objects.get()
    assert s.location.coords == pytest.approx((104.92, 11.56), abs=1e-7)
    assert s.commune_id == "120101"


def test_xy_columns_without_srid_are_refused(geography, tmp_path):
    """Projected x/y without --srid are refused rather than read as degrees."""
    columns = ["code", "name_en", "level", "x", "y"]
    row = {
        "code": "U1",
        "name_en": "U",
        "level": "primary",
        "x": "491000",
        "y": "1278000",
    }
    message = rejected("import_schools", write_csv(tmp_path / "u.csv", [row], columns))
    assert "--srid" in message


def test_unknown_srid_is_refused_naming_it(geography, tmp_path):
    """An SRID PostGIS does not know exits 2 naming it."""
    columns = ["code", "name_en", "level", "x", "y"]
    row = {
        "code": "U1",
        "name_en": "U",
        "level": "primary",
        "x": "491000",
        "y": "1278000",
    }
    path = write_csv(tmp_path / "u.csv", [row], columns)
    assert "EPSG:999999" in rejected("import_schools", path, "--srid", "999999")


def test_geometry_file_without_crs_needs_srid(geography, tmp_path):
    """A GeoPackage layer without a CRS is refused unless --srid says what it is."""
    x, y = utm48n(104.92, 11.56)
    columns = ["code", "name_en", "level", "x", "y"]
    row = {"code": "U1", "name_en": "U", "level": "primary", "x": x, "y": y}
    source = write_csv(tmp_path / "nocrs.csv", [row], columns)
    gpkg = tmp_path / "nocrs.gpkg"
    points = ["-oo", "X_POSSIBLE_NAMES=x", "-oo", "Y_POSSIBLE_NAMES=y"]
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(gpkg), str(source), *points], check=True
    )
    message = rejected("import_schools", gpkg)
    assert "no coordinate reference system" in message and "--srid" in message
    assert School.objects.count() == 0

    run("import_schools", gpkg, "--srid", "32648")
    assert School.objects.get().location.coords == pytest.approx((104.92, 11.56))


# --- columns and mapping ------------------------------------------------------------


def test_column_mapping_reads_another_layout(geography, tmp_path):
    """--map reads our fields from a ministry's own column names, case-insensitively."""
    columns = ["SCHOOL_ID", "SchoolName", "Level", "X", "Y"]
    row = {"SCHOOL_ID": "M1", "SchoolName": "Mapped", "Level": "primary"}
    row |= {"X": "104.92", "Y": "11.56"}
    path = write_csv(tmp_path / "m.csv", [row], columns)
    run(
        "import_schools", path, "--map", "code=SCHOOL_ID,name_en=schoolname,lat=Y,lon=X"
    )
    s = School.objects.get()
    assert (s.code, s.name_en) == ("M1", "Mapped")
    assert s.location.coords == pytest.approx((104.92, 11.56))


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ("colour=SCHOOL_ID", "unknown field colour"),
        ("code=SCHOOL_NO", "code=SCHOOL_NO"),
        ("code", "'code' is not FIELD=COLUMN"),
    ],
)
def test_bad_mapping_exits_2_naming_it(geography, tmp_path, mapping, expected):
    """An unknown field or an absent column in --map exits 2 naming it."""
    path = write_csv(tmp_path / "s.csv", [school("S1")])
    assert expected in rejected("import_schools", path, "--map", mapping)


def test_missing_required_columns_are_named(geography, tmp_path):
    """A file without the code, level or coordinate columns exits 2 naming them."""
    path = write_csv(tmp_path / "s.csv", [school("S1")], ["name_en", "lon"])
    message = rejected("import_schools", path)
    assert "missing column code, level, lat" in message


def test_optional_columns_may_be_absent_and_are_not_reset(geography, tmp_path):
    """A file without enrolment columns imports and does not reset enrolment."""
    run("import_schools", write_csv(tmp_path / "full.csv", [school("S1")]))
    columns = ["code", "name_en", "level", "lon", "lat"]
    path = write_csv(tmp_path / "short.csv", [school("S1", name_en="Renamed")], columns)
    run("import_schools", path)
    s = School.objects.get()
    assert (s.name_en, s.enrolment_girls, s.name_km) == ("Renamed", 120, KHMER)


# --- bad rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (school("", name_en="No code"), "row 3 (code): code is missing"),
        (school("S2", lat="eleven"), "row 3 (lat): lat 'eleven' is not a number"),
        (
            school("S2", lon="11.56", lat="104.92"),
            "row 3 (lat): coordinates look swapped",
        ),
        (
            school("S2", lon="100.5", lat="13.75"),
            "row 3 (lat): point is outside Cambodia",
        ),
        (school("S1"), "row 3 (code): duplicate code 'S1', first in row 2"),
        (
            school("S2", commune_code="999999"),
            "row 3 (commune_code): unknown commune code",
        ),
        (
            school("S2", level="college"),
            "row 3 (level): level 'college' is not one of preschool, primary, "
            "lower_secondary, upper_secondary",
        ),
        (
            school("S2", enrolment_boys="-4"),
            "row 3 (enrolment_boys): enrolment_boys '-4'",
        ),
        (school("S2", name_en="", name_km=""), "row 3 (name_en): a name is required"),
    ],
)
def test_a_bad_row_rejects_the_file_and_writes_nothing(
    geography, tmp_path, bad, expected
):
    """Each bad row is reported with its row number and reason; nothing is written."""
    make_school(code="S1", name_en="Before")
    before = snapshot()
    path = write_csv(tmp_path / "s.csv", [school("S1", name_en="After"), bad])
    message = rejected("import_schools", path)
    assert expected in message
    assert "nothing was written" in message
    assert snapshot() == before


def test_skip_bad_rows_imports_the_rest_and_writes_the_report(geography, tmp_path):
    """--skip-bad-rows imports the good rows, exits 0 and reports bad rows in a CSV."""
    rows = [school("S1"), school("S2", lat="x"), school("S3"), school("S1")]
    path = write_csv(tmp_path / "s.csv", rows)
    report = tmp_path / "report.csv"
    out, err = run("import_schools", path, "--skip-bad-rows", "--report", str(report))
    assert "read 4, created 2, updated 0, closed 0, rejected 2" in out
    assert "row 3 (lat): lat 'x' is not a number" in err
    assert sorted(School.objects.values_list("code", flat=True)) == ["S1", "S3"]
    with report.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [(r["row"], r["code"], r["field"]) for r in lines] == [
        ("3", "S2", "lat"),
        ("5", "S1", "code"),
    ]
    assert "first in row 2" in lines[1]["reason"]


def test_skip_bad_rows_report_defaults_to_the_file_stem(
    geography, tmp_path, monkeypatch
):
    """Without --report the rejected rows go to <file stem>-rejected.csv in the cwd."""
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "emis2024.csv", [school("S1"), school("S2", lat="")])
    run("import_schools", path, "--skip-bad-rows")
    report = (tmp_path / "emis2024-rejected.csv").read_text(encoding="utf-8")
    assert report.splitlines()[0] == "row,code,field,reason"
    assert "3,S2,lat,lat is missing" in report


# --- communes, Cambodia -------------------------------------------------------------


def test_commune_is_found_from_the_location(geography, tmp_path):
    """Without commune_code a school gets the commune containing it, or the nearest
    one within 2 km (boundaries are simplified); further away it is an error."""
    columns = ["code", "name_en", "level", "lon", "lat"]
    near = school("NEAR", lon="104.955", lat="11.56")  # about 550 m east of 120101
    path = write_csv(tmp_path / "s.csv", [school("IN"), near], columns)
    run("import_schools", path)
    assert dict(School.objects.values_list("code", "commune")) == {
        "IN": "120101",
        "NEAR": "120101",
    }

    far = school("FAR", lon="104.99", lat="11.66")  # in province 12, far from 120101
    message = rejected(
        "import_schools", write_csv(tmp_path / "far.csv", [far], columns)
    )
    assert "row 2 (commune_code): no commune found at this location" in message


def test_a_given_commune_code_is_trusted(geography, tmp_path):
    """A known commune_code is kept even if the point lies in another commune."""
    run(
        "import_schools",
        write_csv(tmp_path / "s.csv", [school("S1", commune_code="080101")]),
    )
    assert School.objects.get().commune_id == "080101"


def test_without_province_boundaries_cambodia_is_a_bounding_box(geography, tmp_path):
    """With no province boundary loaded, 'in Cambodia' means the country's box."""
    AdminArea.objects.update(boundary=None)
    good = school("S1", lon="103.0", lat="13.0")
    bangkok = school("S2", lon="100.5", lat="13.75")
    message = rejected("import_schools", write_csv(tmp_path / "s.csv", [good, bangkok]))
    assert "row 3 (lat): point is outside Cambodia" in message
    assert "row 2" not in message


def test_import_runs_a_constant_number_of_queries(geography, tmp_path):
    """The number of queries does not grow with the rows (no per-row queries)."""

    def queries(n: int) -> int:
        rows = [school(f"Q{n}-{i}", commune_code="") for i in range(n)]
        path = write_csv(tmp_path / f"q{n}.csv", rows)
        with CaptureQueriesContext(connection) as ctx:
            run("import_schools", path, "--no-recompute")
        return len(ctx.captured_queries)

    assert queries(3) == queries(40)
    assert School.objects.count() == 43


def test_an_import_recomputes_risk_of_the_new_schools(geography, tmp_path):
    """After an import, every new school has its risk (and nearest services)."""
    from schools.models import SchoolAccess, SchoolRisk

    path = write_csv(tmp_path / "new.csv", [school("R-1"), school("R-2")])
    out, _ = run("import_schools", path)
    assert "exposure, nearest services and risk recomputed" in out
    assert SchoolRisk.objects.filter(school__code__in=["R-1", "R-2"]).count() == 2
    assert SchoolAccess.objects.filter(school__code__in=["R-1", "R-2"]).count() == 2


# --- closing, reopening -------------------------------------------------------------


def test_close_missing_closes_absent_schools_and_never_deletes(geography, tmp_path):
    """--close-missing closes open schools absent from the file, keeps them, and
    reopens a closed school that is back in the file."""
    make_school(code="KEEP")
    make_school(code="GONE")
    make_school(code="BACK", status="closed", closed_on="2023-06-30")
    path = write_csv(tmp_path / "emis.csv", [school("KEEP"), school("BACK")])

    run("import_schools", path)
    assert School.objects.get(code="GONE").status == "open"  # not without the flag

    out, _ = run("import_schools", path, "--close-missing")
    assert "closed 1" in out
    status = {s.code: (s.status, s.closed_on) for s in School.objects.all()}
    assert status == {
        "KEEP": ("open", None),
        "BACK": ("open", None),
        "GONE": ("closed", timezone.localdate()),
    }


def test_close_missing_refuses_a_file_without_rows(geography, tmp_path):
    """An empty file with --close-missing exits 2 instead of closing every school."""
    make_school(code="S1")
    path = write_csv(tmp_path / "empty.csv", [])
    assert "has no rows" in rejected("import_schools", path, "--close-missing")
    assert School.objects.get().status == "open"


def test_close_missing_keeps_schools_whose_row_was_rejected(geography, tmp_path):
    """A school whose row is bad is in the file: --close-missing leaves it open."""
    make_school(code="S2")
    rows = [school("S1"), school("S2", lat="bad")]
    path = write_csv(tmp_path / "emis.csv", rows)
    report = tmp_path / "r.csv"
    run(
        "import_schools",
        path,
        "--close-missing",
        "--skip-bad-rows",
        "--report",
        str(report),
    )
    assert School.objects.get(code="S2").status == "open"


# --- services, progress -------------------------------------------------------------


def test_safe_shelters_are_sensitive_by_default(geography, tmp_path):
    """Without a sensitive column a safe shelter is sensitive, a health centre not."""
    rows = [service("SH1", kind="Safe_Shelter"), service("HC1")]
    path = write_csv(tmp_path / "services.csv", rows, SERVICE_COLUMNS)
    out, _ = run("import_services", path)
    assert "created 2" in out
    assert dict(Service.objects.values_list("code", "sensitive")) == {
        "SH1": True,
        "HC1": False,
    }
    assert Service.objects.get(code="HC1").name_km == "មណ្ឌល\u200bសុខភាព"


def test_service_sensitive_column_and_kinds(geography, tmp_path):
    """A sensitive column is obeyed; an unknown kind is rejected naming the kinds."""
    columns = [*SERVICE_COLUMNS, "sensitive"]
    rows = [
        service("SH1", kind="safe_shelter", sensitive="n"),
        service("P1", kind="police_post", sensitive="yes"),
    ]
    run("import_services", write_csv(tmp_path / "s.csv", rows, columns))
    assert dict(Service.objects.values_list("code", "sensitive")) == {
        "SH1": False,
        "P1": True,
    }

    path = write_csv(
        tmp_path / "bad.csv", [service("X1", kind="temple")], SERVICE_COLUMNS
    )
    message = rejected("import_services", path)
    assert "row 2 (kind): kind 'temple' is not one of ccwc, wccc" in message


def test_large_files_show_a_progress_bar(geography, tmp_path, capsys):
    """Files of more than 1,000 rows show a progress bar on stderr."""
    rows = [school(f"P{i:04}", lon=f"{104.901 + i * 0.00004:.5f}") for i in range(1001)]
    run("import_schools", write_csv(tmp_path / "big.csv", rows))
    assert "1001/1001" in capsys.readouterr().err
    assert School.objects.count() == 1001


# --- the set-based write ------------------------------------------------------------


def test_counts_created_and_updated_across_batches(
    geography, tmp_path, monkeypatch, capsys
):
    """Created and updated are counted per row over several write batches, and
    the progress bar reaches the total."""
    monkeypatch.setattr("schools.sql.BATCH", 2)
    monkeypatch.setattr("schools.management.commands.import_schools.PROGRESS_FROM", 1)
    make_school(code="S2")
    make_school(code="S4")
    rows = [school(f"S{i}") for i in range(1, 6)]
    out, _ = run("import_schools", write_csv(tmp_path / "s.csv", rows))
    assert "read 5, created 3, updated 2, closed 0, rejected 0" in out
    assert "5/5" in capsys.readouterr().err
    assert School.objects.count() == 5
    assert set(School.objects.values_list("name_en", flat=True)) == {
        f"School S{i}" for i in range(1, 6)
    }


def test_reimport_keeps_created_at_and_moves_updated_at(geography, tmp_path):
    """A re-import changes updated_at but never created_at."""
    month = timedelta(days=30)
    path = write_csv(tmp_path / "s.csv", [school("S1")])
    run("import_schools", path)
    before = School.objects.get()
    assert before.created_at == before.updated_at
    School.objects.update(
        created_at=before.created_at - month,
        updated_at=before.updated_at - month,
    )
    run("import_schools", path)
    after = School.objects.get()
    assert after.created_at == before.created_at - month
    assert after.updated_at > before.updated_at - month
    assert after.id == before.id


def test_new_school_without_optional_columns_gets_model_defaults(geography, tmp_path):
    """A school created from a file without optional columns gets the model's
    defaults, and its location and commune from the file."""
    columns = ["code", "name_km", "level", "lon", "lat"]
    path = write_csv(tmp_path / "s.csv", [school("S1")], columns)
    run("import_schools", path)
    s = School.objects.get()
    assert (s.name_en, s.name_km) == ("", KHMER)
    assert (s.enrolment_girls, s.enrolment_boys, s.evacuation_centre) == (0, 0, False)
    assert (s.status, s.closed_on, s.commune_id) == ("open", None, "120101")
    assert s.location.srid == 4326
    assert s.location.coords == pytest.approx((104.92, 11.56))


def test_reimport_moves_a_school_and_keeps_fields_the_file_lacks(geography, tmp_path):
    """A re-import updates the location and commune it gives and keeps the rest."""
    make_school(code="S1", enrolment_girls=7, evacuation_centre=True)
    columns = ["code", "name_en", "level", "lon", "lat"]
    moved = school("S1", name_en="Moved", lon="104.20", lat="10.60")  # Kampot
    run("import_schools", write_csv(tmp_path / "s.csv", [moved], columns))
    s = School.objects.get()
    assert (s.name_en, s.commune_id) == ("Moved", "070101")
    assert s.location.coords == pytest.approx((104.20, 10.60))
    assert (s.enrolment_girls, s.evacuation_centre) == (7, True)


def test_service_reimport_keeps_a_sensitive_flag(geography, tmp_path):
    """Without a sensitive column a re-import keeps the stored flag of a service."""
    run(
        "import_services",
        write_csv(tmp_path / "a.csv", [service("P1")], SERVICE_COLUMNS),
    )
    Service.objects.update(sensitive=True)
    out, _ = run(
        "import_services",
        write_csv(tmp_path / "b.csv", [service("P1")], SERVICE_COLUMNS),
    )
    assert "created 0, updated 1" in out
    assert Service.objects.get().sensitive is True
