"""Risk aggregates per unit (the tables pasted into reports) and safe places.

The numbers below are worked out by hand from the `data` fixture:

school commune learners risk class CSS (F/P1/P2/P3) gaps focal km hazards
K1     070101  200      very_high  40 (30/50/40/40)  1    8        flood 3, storm 1
K2     070101  100      low        80 (90/70/80/80)  0    2        -
K3     070101   50      (none)     never assessed         (none)   flood 1
D1     080101  200      very_high  75 (45/60/90/-)   2    5.0      storm 2
D2     080101   20      medium     never assessed         1        flood 0
KX     070101 1000      very_high  closed: counted nowhere
"""

import csv
import datetime as dt
import io

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from schools.models import (
    RiskSettings,
    School,
    SchoolAccess,
    SchoolRisk,
    SchoolSafety,
    Service,
)
from schools.risk.aggregates import risk_aggregates
from tests.factories import make_area, make_school, make_service

pytestmark = pytest.mark.django_db

URL = "/api/risk/aggregates/"
CSV_URL = "/api/risk/aggregates/export.csv"
SAFE_URL = "/api/risk/safe-places/"
CLASSES = ("very_low", "low", "medium", "high", "very_high")
CLASS_NUMBER = {code: n for n, code in enumerate(CLASSES, start=1)}
SUMMED = (
    "schools",
    "learners",
    *(f"schools_{c}" for c in CLASSES),
    *(f"learners_{c}" for c in CLASSES),
    "schools_not_computed",
    "learners_not_computed",
    "assessed",
    "never_assessed",
    "schools_critical_gaps",
    "access_gaps",
    "evacuation_centres",
    "learners_in_evacuation_centres",
    *(f"services_{k}" for k in Service.Kind.values),
    *(f"services_{k}_exposed" for k in Service.Kind.values),
)


CENTRE = {"07": (104.15, 10.6), "08": (104.95, 11.42), "12": (104.92, 11.56)}


def school(code, commune, girls, boys, **extra):
    lon, lat = CENTRE[commune[:2]]
    return make_school(
        code, lon, lat, commune, enrolment_girls=girls, enrolment_boys=boys, **extra
    )


def risk(s, risk_class):
    SchoolRisk.objects.create(
        school=s,
        hazard=1,
        exposure=1,
        hazard_exposure=1,
        vulnerability_physical=1,
        vulnerability_learners=1,
        vulnerability=1,
        coping_gap=1,
        score=2 * CLASS_NUMBER[risk_class] - 1,
        risk_class=CLASS_NUMBER[risk_class],
        assessed=True,
        computed_at=timezone.now(),
    )


def safety(s, score, areas, gaps=()):
    SchoolSafety.objects.create(
        school=s,
        assessed_on=dt.date(2026, 3, 1),
        framework_version="test.1",
        score=score,
        area_scores=areas,
        critical_gaps=list(gaps),
        grade="fair",
    )


def access(s, km):
    SchoolAccess.objects.create(
        school=s, nearest={}, focal_point_km=km, computed_at=timezone.now()
    )


@pytest.fixture
def areas(geography):
    """Adds district 0702 (commune 070201) with no school, and a retired 0703."""
    make_area("0702", "Banteay Meas", "បន្ទាយមាស")
    make_area("070201", "Banteay Meas Khang Kaeut", "បន្ទាយមាសខាងកើត")
    make_area("0703", "Retired", valid_to=dt.date(2020, 1, 1))
    return geography


@pytest.fixture
def data(areas):
    k1 = school(
        "K1",
        "070101",
        100,
        100,
        hazard_level=3,
        hazard_levels={"riverine_flood": 3, "storm": 1},
    )
    risk(k1, "very_high")
    safety(k1, 40, {"F": 30, "P1": 50, "P2": 40, "P3": 40}, ["P1.01"])
    access(k1, 8.0)
    k2 = school("K2", "070101", 50, 50, evacuation_centre=True)
    risk(k2, "low")
    safety(k2, 80, {"F": 90, "P1": 70, "P2": 80, "P3": 80})
    access(k2, 2.0)
    school("K3", "070101", 30, 20, hazard_level=1, hazard_levels={"riverine_flood": 1})
    d1 = school("D1", "080101", 120, 80, hazard_level=2, hazard_levels={"storm": 2})
    risk(d1, "very_high")
    safety(d1, 75, {"F": 45, "P1": 60, "P2": 90}, ["F.02", "P2.01"])
    access(d1, 5.0)
    d2 = school("D2", "080101", 10, 10, hazard_levels={"riverine_flood": 0})
    risk(d2, "medium")
    access(d2, 1.0)
    kx = school("KX", "070101", 500, 500, status=School.Status.CLOSED, hazard_level=4)
    risk(kx, "very_high")
    access(kx, 50.0)

    kind = Service.Kind
    shelter = {"kind": kind.SAFE_SHELTER, "sensitive": True}
    make_service("S1", 104.16, 10.61, "070101", kind=kind.CCWC)
    make_service("S2", 104.16, 10.61, "070101", kind=kind.CCWC, hazard_level=2)
    make_service("S3", 104.16, 10.61, "070101", hazard_level=1)  # health centre
    make_service("S4", 104.16, 10.61, "070101", hazard_level=3, **shelter)
    make_service(
        "S5", 104.16, 10.61, "070101", kind=kind.CCWC, status=Service.Status.CLOSED
    )
    make_service("S6", 104.95, 11.42, "080101", **shelter)
    make_service("S7", 104.95, 11.42, "080101", kind=kind.POLICE_POST)
    make_service("S8", 104.95, 11.42, "080101", kind=kind.SAFE_SHELTER)


def rows_by_code(response):
    assert response.status_code == 200, response.json()
    return {row["code"]: row for row in response.json()["rows"]}


def test_province_rows_add_up_to_the_national_row(api, data):
    response = api.get(URL)
    body = response.json()
    assert body["level"] == "province"
    rows = body["rows"]
    assert [r["code"] for r in rows] == ["", "07", "08", "12"]
    nation = rows[0]
    assert (nation["name_en"], nation["name_km"]) == ("Cambodia", "កម្ពុជា")
    assert rows[1]["name_km"] == "កំពត"
    for field in SUMMED:
        assert sum(r[field] for r in rows[1:]) == nation[field], field

    # The national numbers, by hand (the closed school KX counts nowhere).
    assert nation["schools"] == 5
    assert nation["learners"] == 570
    assert nation["schools_very_high"] == 2
    assert nation["learners_very_high"] == 400
    assert nation["schools_low"] == 1
    assert nation["learners_low"] == 100
    assert nation["schools_medium"] == 1
    assert nation["learners_medium"] == 20
    assert nation["schools_very_low"] == nation["schools_high"] == 0
    assert nation["schools_not_computed"] == 1
    assert nation["learners_not_computed"] == 50
    assert nation["assessed"] == 3
    assert nation["never_assessed"] == 2
    # K1 (8 km) and K3 (no access row); D1 at exactly 5 km is no gap.
    assert nation["access_gaps"] == 2
    # K2 would be used as a shelter: its 100 learners would lose their school.
    assert nation["evacuation_centres"] == 1
    assert nation["learners_in_evacuation_centres"] == 100

    kampot, kandal = rows[1], rows[2]
    assert (kampot["schools"], kampot["learners"]) == (3, 350)
    assert (kandal["schools"], kandal["learners"]) == (2, 220)
    assert kampot["never_assessed"] == 1
    assert kandal["never_assessed"] == 1
    assert (kampot["access_gaps"], kandal["access_gaps"]) == (2, 0)


def test_mean_css_by_area_and_share_with_critical_gaps(api, data):
    rows = rows_by_code(api.get(URL))
    nation, kampot, kandal = rows[""], rows["07"], rows["08"]
    assert nation["mean_css"] == pytest.approx(65.0)  # (40 + 80 + 75) / 3
    assert nation["mean_css_F"] == pytest.approx(55.0)  # (30 + 90 + 45) / 3
    assert nation["mean_css_P1"] == pytest.approx(60.0)
    assert nation["mean_css_P2"] == pytest.approx(70.0)
    assert nation["mean_css_P3"] == pytest.approx(60.0)  # D1 has no P3 score
    assert kampot["mean_css"] == pytest.approx(60.0)
    assert kandal["mean_css"] == pytest.approx(75.0)
    assert kandal["mean_css_P3"] is None
    # Assessed schools with at least one critical gap: K1 and D1 of K1, K2, D1.
    assert nation["schools_critical_gaps"] == 2
    assert nation["share_critical_gaps"] == pytest.approx(0.6667)
    assert kampot["share_critical_gaps"] == pytest.approx(0.5)
    assert kandal["share_critical_gaps"] == pytest.approx(1.0)


def test_a_unit_without_schools_has_zeros_and_no_means(api, data):
    pp = rows_by_code(api.get(URL))["12"]
    assert pp["name_en"] == "Phnom Penh"
    assert pp["schools"] == pp["learners"] == pp["never_assessed"] == 0
    assert pp["access_gaps"] == 0
    assert all(pp[f"schools_{c}"] == 0 for c in CLASSES)
    assert pp["mean_css"] is None
    assert pp["mean_css_F"] is None
    assert pp["share_critical_gaps"] is None
    assert pp["services_ccwc"] == 0


def test_access_gaps_follow_the_configured_distance(api, data):
    RiskSettings.objects.update_or_create(pk=1, defaults={"focal_point_km": 4.5})
    rows = rows_by_code(api.get(URL))
    assert rows[""]["access_gaps"] == 3  # D1 at 5 km now counts
    assert rows["08"]["access_gaps"] == 1


def test_services_by_kind_and_exposed(api, data):
    rows = rows_by_code(api.get(URL))
    nation, kampot = rows[""], rows["07"]
    assert nation["services_ccwc"] == 2  # S5 is closed
    assert nation["services_ccwc_exposed"] == 1
    assert nation["services_health_centre"] == 1
    assert nation["services_health_centre_exposed"] == 1
    assert nation["services_police_post"] == 1
    assert nation["services_police_post_exposed"] == 0
    assert kampot["services_ccwc"] == 2
    assert rows["08"]["services_police_post"] == 1


@pytest.mark.parametrize(
    "who, nation, nation_exposed, kampot, kandal",
    [
        (None, 1, 0, 0, 1),  # only the shelter S8 that is not sensitive
        ("planner", 1, 0, 0, 1),
        ("official_07", 2, 1, 1, 1),  # S4 in Kampot, not S6 in Kandal
        ("coordinator", 3, 1, 1, 2),
        ("admin", 3, 1, 1, 2),
    ],
)
def test_sensitive_services_count_only_for_who_may_see_them(
    api, api_as, data, who, nation, nation_exposed, kampot, kandal
):
    client = api_as(who) if who else api
    rows = rows_by_code(client.get(URL))
    assert rows[""]["services_safe_shelter"] == nation
    assert rows[""]["services_safe_shelter_exposed"] == nation_exposed
    assert rows["07"]["services_safe_shelter"] == kampot
    assert rows["08"]["services_safe_shelter"] == kandal


def test_districts_under_a_parent_add_up_to_the_parent(api, data):
    rows = api.get(URL, {"level": "district", "parent": "07"}).json()["rows"]
    # 0703 is retired and empty; districts of Kandal are not under 07.
    assert [r["code"] for r in rows] == ["07", "0701", "0702"]
    assert rows[0]["name_en"] == "Kampot"
    assert (rows[1]["schools"], rows[1]["learners"]) == (3, 350)
    assert rows[2]["schools"] == rows[2]["learners"] == 0
    assert rows[2]["name_km"] == "បន្ទាយមាស"
    for field in SUMMED:
        assert rows[1][field] + rows[2][field] == rows[0][field], field

    communes = api.get(URL, {"level": "commune", "parent": "0701"}).json()["rows"]
    assert [r["code"] for r in communes] == ["0701", "070101"]
    every = api.get(URL, {"level": "commune"}).json()["rows"]
    assert [r["code"] for r in every] == [
        "",
        "070101",
        "070201",
        "080101",
        "120101",
    ]


def test_a_retired_unit_with_open_schools_keeps_its_row(api, data):
    make_area("070301", "Old commune", valid_to=dt.date(2020, 1, 1))
    school("R1", "070301", 5, 5)
    rows = api.get(URL, {"level": "district"}).json()["rows"]
    assert [r["code"] for r in rows] == ["", "0701", "0702", "0703", "0801", "1201"]
    assert rows[3]["schools"] == 1
    for field in SUMMED:
        assert sum(r[field] for r in rows[1:]) == rows[0][field], field


def hazard_rows(client, **params):
    response = client.get(URL, {"by": "hazard", **params})
    assert response.status_code == 200, response.json()
    assert response.json()["by"] == "hazard"
    return response.json()["rows"]


def test_by_hazard_rows_by_hand_and_adding_up(api, data):
    rows = hazard_rows(api)
    counts = {
        (r["code"], r["hazard_type"], r["hazard_class"]): (r["schools"], r["learners"])
        for r in rows
    }
    # Every unit x type present x class 0-4, zeros included; the total first.
    assert rows[0]["code"] == ""
    assert {r["hazard_type"] for r in rows} == {"riverine_flood", "storm"}
    assert len(rows) == 4 * 2 * 5
    assert counts["", "riverine_flood", 0] == (3, 320)  # K2, D1, D2
    assert counts["", "riverine_flood", 1] == (1, 50)
    assert counts["", "riverine_flood", 3] == (1, 200)
    assert counts["", "riverine_flood", 2] == (0, 0)
    assert counts["", "storm", 0] == (3, 170)  # K2, K3, D2
    assert counts["", "storm", 1] == (1, 200)
    assert counts["", "storm", 2] == (1, 200)
    assert counts["07", "riverine_flood", 0] == (1, 100)
    assert counts["12", "storm", 0] == (0, 0)
    first = next(r for r in rows if r["hazard_type"] == "storm")
    assert first["hazard_type_label"] == "Storm / typhoon"
    assert first["hazard_class_label"] == "None"

    plain = rows_by_code(api.get(URL))
    for code, unit in plain.items():
        for hazard_type in ("riverine_flood", "storm"):
            per_class = [counts[code, hazard_type, c] for c in range(5)]
            assert sum(s for s, _ in per_class) == unit["schools"], (code, hazard_type)
            assert sum(n for _, n in per_class) == unit["learners"], (code, hazard_type)
    for hazard_type in ("riverine_flood", "storm"):
        for c in range(5):
            units = [counts[code, hazard_type, c] for code in ("07", "08", "12")]
            assert (
                tuple(map(sum, zip(*units, strict=True))) == counts["", hazard_type, c]
            )


def test_by_hazard_under_a_parent_only_counts_its_schools(api, data):
    rows = hazard_rows(api, level="commune", parent="08")
    assert {r["code"] for r in rows} == {"08", "080101"}
    total = {
        (r["hazard_type"], r["hazard_class"]): r["schools"]
        for r in rows
        if r["code"] == "08"
    }
    assert total["storm", 2] == 1
    assert total["storm", 0] == 1
    assert total["riverine_flood", 0] == 2


def test_csv_export_has_a_bom_khmer_names_and_the_same_rows(api, data):
    response = api.get(CSV_URL, {"level": "district", "parent": "07"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "salasafe-risk-district-07.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["code"] for r in table] == ["07", "0701", "0702"]
    assert table[0]["name_km"] == "កំពត"
    assert table[1]["schools"] == "3"
    assert table[2]["mean_css"] == ""  # null, not zero

    hazard = api.get(CSV_URL, {"by": "hazard"}).content.decode("utf-8")
    header = next(csv.reader(io.StringIO(hazard[1:])))
    assert header[:5] == [
        "code",
        "name_en",
        "name_km",
        "hazard_type",
        "hazard_type_label",
    ]


@pytest.mark.parametrize(
    "url, params, field",
    [
        (URL, {"level": "village"}, "level"),
        (URL, {"parent": "abc"}, "parent"),
        (URL, {"parent": "070101", "level": "commune"}, "parent"),
        (URL, {"parent": "07"}, "parent"),  # provinces have no parent
        (URL, {"parent": "0701", "level": "district"}, "parent"),
        (URL, {"parent": "99", "level": "district"}, "parent"),  # no such area
        (URL, {"by": "x"}, "by"),
        (CSV_URL, {"level": "village"}, "level"),
        (CSV_URL, {"by": "kind"}, "by"),
        (SAFE_URL, {"province": "7"}, "province"),
        (SAFE_URL, {"district": "07011"}, "district"),
        (SAFE_URL, {"commune": "abc"}, "commune"),
        (SAFE_URL, {"page": "99"}, "detail"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(api, data, url, params, field):
    response = api.get(url, params)
    expected = 404 if field == "detail" else 400
    assert response.status_code == expected, response.content
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field]


def test_query_count_does_not_grow_with_schools(api, api_as, data):
    coordinator = api_as("coordinator")
    coordinator.get(URL)  # the risk settings row exists from now on

    def count(client, url, params=None):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params or {}).status_code == 200
        # the test's transaction turns transaction.atomic() into savepoints
        return sum("SAVEPOINT" not in q["sql"] for q in queries.captured_queries)

    calls = [
        (api, URL, {}),
        (coordinator, URL, {"level": "commune"}),
        (api, URL, {"by": "hazard", "level": "district"}),
        (api, CSV_URL, {}),
        (api, SAFE_URL, {}),
    ]
    before = [count(*call) for call in calls]
    make_area("0704", "Chhuk", "ឈូក")
    make_area("070401", "Chhuk commune", "ឃុំឈូក")
    for i in range(30):
        commune = ("070101", "080101", "120101", "070401")[i % 4]
        s = school(f"N{i}", commune, 10, 10, hazard_level=i % 2)
        risk(s, CLASSES[i % 5])
        make_service(f"V{i}", 104.92, 11.56, "120101", kind=Service.Kind.CCWC)
    after = [count(*call) for call in calls]
    assert after == before
    # units, settings, schools, services grouped and in total
    assert before[0] == 5
    assert before[2] == 2  # units, hazard rows
    assert before[4] == 3  # count, temporary table, page


# ------------------------------------------------------------ safe places

# Points placed by their UTM 48N coordinates (metres), so distances are exact:
# E exposed at (491000, 1278000); A 1000 m east of it, B 1500 m north of it;
# E3 exposed at (494000, 1282000): 2000 m east and 4000 m north of A.
# E4 exposed at (500000, 1278000): 8 km from A, 9.12 km from B; E5 exposed at
# (504500, 1278000): 12.5 km from A, 13.58 km from B (beyond 10 km).
# In Kampot, C is 3000 m south of the exposed E2, far from the others.


def at_utm(code, x, y, commune, **extra):
    point = Point(x, y, srid=32648)
    point.transform(4326)
    return make_school(code, point.x, point.y, commune, **extra)


@pytest.fixture
def places(areas):
    return {
        "E": at_utm("E", 491000, 1278000, "120101", hazard_level=2),
        "A": at_utm("A", 492000, 1278000, "120101", enrolment_girls=7),
        "B": at_utm("B", 491000, 1279500, "120101", evacuation_centre=True),
        "E3": at_utm("E3", 494000, 1282000, "120101", hazard_level=1),
        "E4": at_utm("E4", 500000, 1278000, "120101", hazard_level=1),
        "E5": at_utm("E5", 504500, 1278000, "120101", hazard_level=3),
        "E2": at_utm("E2", 416000, 1172000, "070101", hazard_level=4),
        "C": at_utm("C", 416000, 1169000, "070101", enrolment_boys=30),
        # closed: neither listed nor counted as exposed
        "X": at_utm("X", 492100, 1278000, "120101", status="closed"),
        "XE": at_utm("XE", 416000, 1169500, "070101", hazard_level=4, status="closed"),
    }


def features(response):
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def test_safe_places_closest_to_an_exposed_school_first(api, places):
    found = features(api.get(SAFE_URL))
    assert [f["id"] for f in found] == ["A", "B", "C"]
    a, b, c = (f["properties"] for f in found)
    assert a["nearest_exposed_km"] == pytest.approx(1.0, abs=0.005)
    assert b["nearest_exposed_km"] == pytest.approx(1.5, abs=0.005)
    assert c["nearest_exposed_km"] == pytest.approx(3.0, abs=0.005)
    # E, E3 (4.47 km from A, 3.91 km from B) and E4 within 10 km; not E5, nor
    # E2 (100+ km off).
    assert (a["exposed_within_10km"], b["exposed_within_10km"]) == (3, 3)
    assert c["exposed_within_10km"] == 1
    assert a["learners"] == 7
    assert c["learners"] == 30
    assert b["evacuation_centre"] is True
    assert (c["province"], c["district"], c["commune"]) == ("07", "0701", "070101")
    assert found[0]["geometry"]["type"] == "Point"
    assert set(a) == {
        "code",
        "name_en",
        "name_km",
        "province",
        "district",
        "commune",
        "level",
        "learners",
        "evacuation_centre",
        "nearest_exposed_km",
        "exposed_within_10km",
    }


def test_safe_places_filter_and_paginate(api, places):
    assert [f["id"] for f in features(api.get(SAFE_URL, {"province": "07"}))] == ["C"]
    assert [f["id"] for f in features(api.get(SAFE_URL, {"commune": "120101"}))] == [
        "A",
        "B",
    ]
    pages = [api.get(SAFE_URL, {"page_size": 1, "page": n}).json() for n in (1, 2, 3)]
    assert [p["count"] for p in pages] == [3, 3, 3]
    assert [f["id"] for p in pages for f in p["features"]] == ["A", "B", "C"]
    assert pages[1]["features"][0]["properties"]["exposed_within_10km"] == 3
    assert pages[2]["next"] is None


def test_safe_places_with_no_exposed_school_are_ordered_by_code(api, areas):
    school("Z2", "120101", 1, 1)
    school("Z1", "070101", 1, 1)
    found = features(api.get(SAFE_URL))
    assert [f["id"] for f in found] == ["Z1", "Z2"]
    assert found[0]["properties"]["nearest_exposed_km"] is None
    assert found[0]["properties"]["exposed_within_10km"] == 0


def test_selector_validates_level_and_parent(data):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        risk_aggregates(level="village", parent=None, by_hazard=False, user=None)
    assert "level" in error.value.message_dict
    rows = risk_aggregates(level="district", parent="08", by_hazard=False, user=None)
    assert [r["code"] for r in rows] == ["08", "0801"]
