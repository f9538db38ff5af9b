"""3W view and plan exports: HXL row, where actions happen, filters, files."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans import services
from preparedness.models import Organization
from tests.factories import make_organization, make_school

pytestmark = pytest.mark.django_db

W3 = "/api/plans/3w/"
W3_CSV = "/api/plans/3w.csv"
SUMMARY = "/api/plans/3w/summary/"
HEADER = [
    "organization",
    "organization_acronym",
    "sector",
    "adm1_code",
    "adm1_name",
    "adm1_name_km",
    "adm2_code",
    "adm2_name",
    "adm2_name_km",
    "activity",
    "action_id",
    "status",
    "plan",
    "plan_id",
    "due_on",
]
HXL = [
    "#org",
    "#org+acronym",
    "#sector",
    "#adm1+code",
    "#adm1+name",
    "#adm1+name+i_km",
    "#adm2+code",
    "#adm2+name",
    "#adm2+name+i_km",
    "#activity",
    "#activity+id",
    "#status",
    "#meta+plan",
    "#meta+plan+id",
    "#date+due",
]


@pytest.fixture
def orgs(users):
    return {
        "sci": Organization.objects.get(acronym="SCI"),
        "unicef": make_organization("UNICEF Cambodia", "UNICEF", kind="un_agency"),
    }


def make_plan(users, orgs, title, coverage, starts_on="2026-06-01"):
    return services.plan_create(
        by=users["coordinator"],
        data={
            "title": title,
            "hazard_types": ["riverine_flood"],
            "starts_on": dt.date.fromisoformat(starts_on),
            "ends_on": dt.date(2099, 12, 31),
            "lead": orgs["sci"].pk,
            "coverage": coverage,
        },
    )


def add_action(users, plan, org, title, sector, areas=(), **extra):
    return services.action_create(
        by=users["coordinator"],
        plan_id=plan.pk,
        data={
            "title": title,
            "sector": sector,
            "organization": org.pk,
            "due_on": dt.date.fromisoformat(extra.pop("due_on", "2026-07-01")),
            "areas": list(areas),
            **extra,
        },
    )


@pytest.fixture
def world(users, orgs):
    """Plan "Floods" covers Kampot (07) and is active; plan "Storms" covers the
    district Chamkar Mon (1201) and stays a draft."""
    floods = make_plan(users, orgs, "Floods 2026", ["07"])
    services.plan_transition(
        by=users["coordinator"], plan_id=floods.pk, to="active", why="Agreed."
    )
    storms = make_plan(users, orgs, "Storms 2026", ["1201"])
    return {
        "floods": floods,
        "storms": storms,
        # A district: its province and itself.
        "district": add_action(
            users, floods, orgs["unicef"], "Teacher training", "education", ["0701"]
        ),
        # A commune of Kandal: its district and province.
        "commune": add_action(
            users, floods, orgs["sci"], "Safe spaces", "child_protection", ["080101"]
        ),
        # No areas: the plan's coverage, the province 07 whole.
        "no_areas": add_action(users, floods, orgs["sci"], "Water kits", "wash"),
        # No areas, plan covering a district: that district and its province.
        "storm": add_action(users, storms, orgs["unicef"], "Roof repairs", "shelter"),
    }


def keys(rows):
    return [(r["activity"], r["adm1_code"], r["adm2_code"]) for r in rows]


def read_csv(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_3w_rows_place_each_action_where_it_happens(api_as, world):
    response = api_as("planner").get(W3)

    assert response.status_code == 200
    rows = response.json()
    # Ordered by organization name, sector, province, district.
    assert keys(rows) == [
        ("Safe spaces", "08", "0801"),
        ("Water kits", "07", ""),
        ("Teacher training", "07", "0701"),
        ("Roof repairs", "12", "1201"),
    ]
    commune = rows[0]
    assert commune == {
        "organization": "Save the Children",
        "organization_acronym": "SCI",
        "sector": "child_protection",
        "adm1_code": "08",
        "adm1_name": "Kandal",
        "adm1_name_km": "កណ្ដាល",
        "adm2_code": "0801",
        "adm2_name": "Kandal Stueng",
        "adm2_name_km": "កណ្ដាលស្ទឹង",
        "activity": "Safe spaces",
        "action_id": world["commune"].pk,
        "status": "not_started",
        "plan": "Floods 2026",
        "plan_id": world["floods"].pk,
        "due_on": "2026-07-01",
    }
    district = rows[2]
    assert (district["adm1_name"], district["adm2_name"]) == ("Kampot", "Angkor Chey")
    assert (district["adm1_name_km"], district["adm2_name_km"]) == (
        "កំពត",
        "អង្គរជ័យ",
    )
    # The whole province: no district, no district name.
    assert rows[1]["adm2_name"] == rows[1]["adm2_name_km"] == ""
    assert rows[1]["adm1_name"] == "Kampot"


def test_a_whole_province_is_not_listed_again_district_by_district(
    api_as, users, orgs, world
):
    plan = world["storms"]
    add_action(
        users, plan, orgs["sci"], "Drills", "education", ["07", "070101", "080101"]
    )

    rows = api_as("planner").get(W3, {"plan": plan.pk}).json()

    assert keys(rows) == [
        ("Drills", "07", ""),
        ("Drills", "08", "0801"),
        ("Roof repairs", "12", "1201"),
    ]


def test_3w_csv_has_a_bom_the_header_the_hxl_row_and_khmer(api_as, world):
    response = api_as("planner").get(W3_CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="salasafe-3w.csv"' in response["Content-Disposition"]
    lines = read_csv(response)
    assert lines[0] == HEADER
    assert lines[1] == HXL
    assert lines[2] == [
        "Save the Children",
        "SCI",
        "child_protection",
        "08",
        "Kandal",
        "កណ្ដាល",
        "0801",
        "Kandal Stueng",
        "កណ្ដាលស្ទឹង",
        "Safe spaces",
        str(world["commune"].pk),
        "not_started",
        "Floods 2026",
        str(world["floods"].pk),
        "2026-07-01",
    ]
    assert len(lines) == 2 + 4


def test_3w_csv_is_served_to_clients_asking_for_csv(api_as, world):
    response = api_as("planner").get(W3_CSV, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert read_csv(response)[1] == HXL


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"province": "08"}, [("Safe spaces", "08", "0801")]),
        ({"province": "12"}, [("Roof repairs", "12", "1201")]),
        ({"status": "draft"}, [("Roof repairs", "12", "1201")]),
        (
            {"status": "active", "province": "07"},
            [("Water kits", "07", ""), ("Teacher training", "07", "0701")],
        ),
        ({"status": "closed"}, []),
    ],
)
def test_3w_filters(api_as, world, query, expected):
    assert keys(api_as("planner").get(W3, query).json()) == expected


def test_3w_filter_by_plan_and_in_csv(api_as, world):
    rows = api_as("planner").get(W3, {"plan": world["storms"].pk}).json()
    assert keys(rows) == [("Roof repairs", "12", "1201")]

    lines = read_csv(api_as("planner").get(W3_CSV, {"province": "08"}))
    assert [line[9] for line in lines[2:]] == ["Safe spaces"]


def test_an_action_in_two_provinces_shows_only_the_filtered_one(
    api_as, users, orgs, world
):
    add_action(
        users, world["storms"], orgs["sci"], "Radios", "logistics", ["0701", "1201"]
    )

    rows = api_as("planner").get(W3, {"province": "12"}).json()

    assert keys(rows) == [("Radios", "12", "1201"), ("Roof repairs", "12", "1201")]


@pytest.mark.parametrize("url", [W3, W3_CSV, SUMMARY], ids=["json", "csv", "summary"])
@pytest.mark.parametrize(
    "query, field",
    [
        ({"province": "7"}, "province"),
        ({"province": "0701"}, "province"),
        ({"status": "ongoing"}, "status"),
        ({"plan": "x"}, "plan"),
        ({"plan": "0"}, "plan"),
    ],
)
def test_bad_parameters_are_400_naming_them(api_as, world, url, query, field):
    response = api_as("planner").get(url, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_summary_counts_actions_by_organization_sector_and_province(
    api_as, users, orgs, world
):
    # Two districts of one province count once there; another of the same
    # organization and sector counts too.
    add_action(users, world["storms"], orgs["sci"], "Kits 2", "wash", ["0701"])
    add_action(users, world["storms"], orgs["sci"], "Kits 3", "wash", ["070101", "08"])

    response = api_as("planner").get(SUMMARY)

    assert response.status_code == 200
    counted = [
        (r["organization_acronym"], r["sector"], r["adm1_code"], r["actions"])
        for r in response.json()
    ]
    assert counted == [
        ("SCI", "child_protection", "08", 1),
        ("SCI", "wash", "07", 3),
        ("SCI", "wash", "08", 1),
        ("UNICEF", "education", "07", 1),
        ("UNICEF", "shelter", "12", 1),
    ]
    assert response.json()[0]["adm1_name_km"] == "កណ្ដាល"
    filtered = api_as("planner").get(SUMMARY, {"province": "08"}).json()
    assert [(r["sector"], r["actions"]) for r in filtered] == [
        ("child_protection", 1),
        ("wash", 1),
    ]


def test_the_exports_are_for_signed_in_users(api, world):
    pk = world["floods"].pk
    for url in (
        W3,
        W3_CSV,
        SUMMARY,
        f"/api/plans/{pk}/actions.csv",
        f"/api/plans/{pk}/coverage.geojson",
    ):
        response = api.get(url)
        assert response.status_code in (401, 403), url
        assert b"Floods" not in response.content


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_actions(
    api_as, users, orgs, geography, django_assert_max_num_queries
):
    plan = make_plan(users, orgs, "Floods", ["07", "0801"])
    schools = [make_school(f"S-{i}", 104.15, 10.60, "070101") for i in range(3)]
    codes = [s.code for s in schools]
    areas = [["0701"], ["080101", "12"], []]

    def add(n):
        for i in range(n):
            add_action(
                users,
                plan,
                orgs["sci" if i % 2 else "unicef"],
                f"Action {i}",
                "education",
                areas[i % 3],
                schools=codes[: i % 3 + 1],
            )

    client = api_as("planner")
    urls = [
        W3,
        W3_CSV + "?province=07",
        SUMMARY,
        f"/api/plans/{plan.pk}/actions.csv",
    ]
    add(2)
    few = {url: _count(client, url) for url in urls}
    add(18)
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            response = client.get(url)
        assert response.status_code == 200
    # 7 actions in 0701 (1 row each), 7 in 0801 and 12 (2), 6 on the coverage (2).
    assert len(client.get(W3).json()) == 7 + 14 + 12


def test_plan_actions_csv(api_as, users, orgs, geography):
    plan = make_plan(users, orgs, "Floods", ["07"], starts_on="2020-01-01")
    school_b = make_school("K-B", 104.15, 10.60, "070101", name_km="សាលា")
    school_a = make_school("K-A", 104.16, 10.60, "070101")
    late = add_action(
        users,
        plan,
        orgs["unicef"],
        "ចែកចាយសម្ភារៈ (supplies)",
        "education",
        ["080101", "0701"],
        due_on="2020-03-01",
        focal_person="Sokha",
        progress="Half, see notes",
        schools=[school_b.code, school_a.code],
    )
    done = add_action(
        users,
        plan,
        orgs["sci"],
        "Drill",
        "wash",
        due_on="2020-02-01",
        status="done",
    )
    ahead = add_action(users, plan, orgs["sci"], "Later", "wash", due_on="2099-01-01")

    response = api_as("official_07").get(f"/api/plans/{plan.pk}/actions.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="salasafe-plan-{plan.pk}-actions.csv"'
        in (response["Content-Disposition"])
    )
    lines = read_csv(response)
    assert lines == [
        [
            "id",
            "title",
            "sector",
            "organization",
            "focal_person",
            "due_on",
            "status",
            "overdue",
            "progress",
            "areas",
            "schools",
        ],
        [str(done.pk), "Drill", "wash", "SCI", "", "2020-02-01", "done", "false"]
        + 3 * [""],
        [
            str(late.pk),
            "ចែកចាយសម្ភារៈ (supplies)",
            "education",
            "UNICEF",
            "Sokha",
            "2020-03-01",
            "not_started",
            "true",
            "Half, see notes",
            "0701;080101",
            "K-A;K-B",
        ],
        [str(ahead.pk), "Later", "wash", "SCI", "", "2099-01-01", "not_started"]
        + ["false"]
        + 3 * [""],
    ]


def test_plan_coverage_geojson(api_as, users, orgs, geography):
    # Kampot (103.9-104.5 E, 10.4-10.9 N) and Phnom Penh's district Chamkar Mon
    # (104.85-105.0 E, 11.5-11.6 N).
    plan = make_plan(users, orgs, "Floods", ["1201", "07"])

    response = api_as("planner").get(f"/api/plans/{plan.pk}/coverage.geojson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json; charset=utf-8"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["type"] == "Feature"
    assert feature["properties"] == {
        "id": plan.pk,
        "title": "Floods",
        "status": "draft",
        "coverage": ["07", "1201"],
    }
    geometry = feature["geometry"]
    assert geometry["type"] == "MultiPolygon"
    assert len(geometry["coordinates"]) == 2
    points = [xy for polygon in geometry["coordinates"] for xy in polygon[0]]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx(
        (103.9, 10.4, 105.0, 11.6)
    )


@pytest.mark.parametrize("suffix", ["actions.csv", "coverage.geojson"])
def test_exports_of_an_unknown_plan_are_404(api_as, world, suffix):
    assert api_as("planner").get(f"/api/plans/999999/{suffix}").status_code == 404
