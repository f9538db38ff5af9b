"""The school and service API: GeoJSON lists, details, filters, edits, sensitivity."""

import json

import pytest
from django.contrib.gis.geos import GEOSGeometry

from schools.models import School, Service
from tests.factories import make_school, make_service

ZWSP = "\u200b"
SCHOOLS_URL = "/api/schools/"
SERVICES_URL = "/api/services/"


@pytest.fixture
def schools(geography):
    """One school per commune: Phnom Penh (an evacuation centre), Kampot and Kandal."""
    return {
        "pp": make_school(
            "SCH-PP",
            104.92,
            11.56,
            "120101",
            name_en="Tonle Basak Primary School",
            name_km=f"សាលា{ZWSP}បឋមសិក្សា{ZWSP}ទន្លេបាសាក់",
            enrolment_girls=120,
            enrolment_boys=130,
            evacuation_centre=True,
        ),
        "kp": make_school(
            "SCH-KP",
            104.20,
            10.60,
            "070101",
            name_en="Angk Phnum Touch Lower Secondary School",
            level=School.Level.LOWER_SECONDARY,
        ),
        "kd": make_school("SCH-KD", 104.95, 11.42, "080101"),
    }


@pytest.fixture
def services(geography):
    """A health centre and a sensitive safe shelter in Phnom Penh and in Kampot."""
    shelter = {"kind": Service.Kind.SAFE_SHELTER, "sensitive": True}
    return {
        "hc_pp": make_service("SRV-HC-PP", 104.93, 11.57, "120101"),
        "ss_pp": make_service(
            "SRV-SS-PP", 104.91, 11.55, "120101", contact="012 345 678", **shelter
        ),
        "hc_kp": make_service("SRV-HC-KP", 104.15, 10.62, "070101"),
        "ss_kp": make_service("SRV-SS-KP", 104.22, 10.65, "070101", **shelter),
    }


def codes(response) -> list[str]:
    return [feature["id"] for feature in response.json()["features"]]


# Schools: list


def test_school_list_is_a_paginated_geojson_feature_collection(api, schools):
    """Anyone reads schools as a FeatureCollection of features keyed by EMIS code."""
    response = api.get(SCHOOLS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert codes(response) == ["SCH-KD", "SCH-KP", "SCH-PP"]
    feature = body["features"][2]
    assert feature["type"] == "Feature"
    assert feature["properties"] == {
        "code": "SCH-PP",
        "name_en": "Tonle Basak Primary School",
        "name_km": f"សាលា{ZWSP}បឋមសិក្សា{ZWSP}ទន្លេបាសាក់",
        "level": "primary",
        "enrolment_girls": 120,
        "enrolment_boys": 130,
        "learners": 250,
        "commune": "120101",
        "district": "1201",
        "province": "12",
        "evacuation_centre": True,
        "status": "open",
        "learners_with_disabilities": 0,
        "hazard_level": 0,
        "hazard_levels": {},
        # Never assessed: unknown, not safe.
        "assessed": False,
        "css_score": None,
        "css_grade": None,
        "css_critical_gaps": [],
        "css_assessed_on": None,
        "css_verified": False,
    }


def test_school_geometry_parses_back_to_its_point(api, schools):
    """The geometry is valid GeoJSON: a point at 104.92 E, 11.56 N (lon, lat order)."""
    feature = api.get(SCHOOLS_URL + "SCH-PP/").json()

    point = GEOSGeometry(json.dumps(feature["geometry"]))
    assert point.geom_type == "Point"
    assert point.valid
    assert (point.x, point.y) == pytest.approx((104.92, 11.56))


def test_school_list_pages_link_to_each_other(api, schools):
    """With page_size=2, page 1 links to page 2 and page 2 back to page 1."""
    first = api.get(SCHOOLS_URL, {"page_size": 2}).json()
    assert first["count"] == 3
    assert len(first["features"]) == 2
    assert first["previous"] is None
    assert "page=2" in first["next"]

    second = api.get(first["next"]).json()
    assert [f["id"] for f in second["features"]] == ["SCH-PP"]
    assert second["next"] is None
    assert second["previous"] is not None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "07"}, ["SCH-KP"]),
        ({"district": "1201"}, ["SCH-PP"]),
        ({"commune": "080101"}, ["SCH-KD"]),
        ({"province": "12", "commune": "080101"}, []),
        ({"level": "lower_secondary"}, ["SCH-KP"]),
        ({"status": "closed"}, []),
        ({"evacuation_centre": "true"}, ["SCH-PP"]),
        ({"evacuation_centre": "false"}, ["SCH-KD", "SCH-KP"]),
        ({"q": "angk phnum"}, ["SCH-KP"]),
        ({"q": "sch-kd"}, ["SCH-KD"]),
        # Phnom Penh's commune 120101 only, not Kandal (11.42 N) or Kampot.
        ({"bbox": "104.9,11.5,105.0,11.6"}, ["SCH-PP"]),
        # A school on the edge of the box counts as inside.
        ({"bbox": "104.92,11.56,105.0,11.6"}, ["SCH-PP"]),
        ({"bbox": "104.0,10.0,105.0,11.5", "level": "primary"}, ["SCH-KD"]),
    ],
)
def test_school_list_filters(api, schools, params, expected):
    """Area codes filter by commune-code prefix; level, flags, name and bbox too."""
    response = api.get(SCHOOLS_URL, params)

    assert response.status_code == 200
    assert codes(response) == expected
    assert response.json()["count"] == len(expected)


def test_school_search_ignores_zero_width_spaces_in_khmer(api, schools):
    """A Khmer name typed without the stored zero-width spaces finds the school."""
    typed = "បឋមសិក្សាទន្លេបាសាក់"
    assert ZWSP not in typed

    response = api.get(SCHOOLS_URL, {"q": typed})

    assert codes(response) == ["SCH-PP"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": "university"}, "level"),
        ({"status": "demolished"}, "status"),
        ({"province": "7"}, "province"),
        ({"commune": "12010"}, "commune"),
        ({"evacuation_centre": "perhaps"}, "evacuation_centre"),
        ({"bbox": "104.9,11.5,105.0"}, "bbox"),
        ({"bbox": "west,11.5,105.0,11.6"}, "bbox"),
        ({"bbox": "105.0,11.5,104.9,11.6"}, "bbox"),
        ({"bbox": "104.9,-95,105.0,11.6"}, "bbox"),
        ({"bbox": "nan,11.5,105.0,11.6"}, "bbox"),
    ],
)
def test_school_list_rejects_invalid_filters_naming_the_field(
    api, schools, params, field
):
    """A bad filter value is a 400 naming the parameter, never an empty list."""
    response = api.get(SCHOOLS_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list)
    assert body[field]


def test_school_list_query_count_does_not_grow_with_schools(
    api, schools, django_assert_num_queries
):
    """A page of schools costs one count and one select, however many it holds."""
    for i in range(10):
        make_school(f"SCH-X{i:02}", 104.93, 11.57, "120101")

    with django_assert_num_queries(2):
        response = api.get(SCHOOLS_URL)

    assert response.json()["count"] == 13


# Schools: detail and edits


def test_school_detail_is_one_feature(api, schools):
    """A school's detail is a single Feature with the same properties as in the list."""
    response = api.get(SCHOOLS_URL + "SCH-KP/")

    assert response.status_code == 200
    feature = response.json()
    assert (feature["type"], feature["id"]) == ("Feature", "SCH-KP")
    assert feature["properties"]["province"] == "07"
    assert feature["properties"]["level"] == "lower_secondary"


def test_unknown_school_is_404_with_detail_list(api, schools):
    """An unknown EMIS code is a 404 rendered as {"detail": [message]}."""
    response = api.get(SCHOOLS_URL + "NO-SUCH/")

    assert response.status_code == 404
    assert list(response.json()) == ["detail"]
    assert isinstance(response.json()["detail"], list)


def test_official_edits_a_school_in_their_province(api_as, schools):
    """The official of province 07 changes a school in commune 070101."""
    response = api_as("official_07").patch(
        SCHOOLS_URL + "SCH-KP/",
        {"enrolment_girls": 41, "name_km": f"អនុវិទ្យាល័យ{ZWSP}អង្គភ្នំតូច"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["properties"]["enrolment_girls"] == 41
    assert response.json()["properties"]["learners"] == 41
    school = School.objects.get(code="SCH-KP")
    assert school.enrolment_girls == 41
    assert school.name_km == f"អនុវិទ្យាល័យ{ZWSP}អង្គភ្នំតូច"


def test_administrator_edits_any_school(api_as, schools):
    """Administrators may change schools anywhere."""
    response = api_as("admin").patch(
        SCHOOLS_URL + "SCH-PP/", {"evacuation_centre": False}, format="json"
    )

    assert response.status_code == 200
    assert School.objects.get(code="SCH-PP").evacuation_centre is False


def test_official_may_not_edit_a_school_outside_their_province(api_as, schools):
    """The official of province 07 gets 403 for a school in Phnom Penh's 120101."""
    response = api_as("official_07").patch(
        SCHOOLS_URL + "SCH-PP/", {"enrolment_girls": 1}, format="json"
    )

    assert response.status_code == 403
    assert list(response.json()) == ["detail"]
    assert School.objects.get(code="SCH-PP").enrolment_girls == 120


@pytest.mark.parametrize("name", ["planner", "coordinator"])
def test_nationwide_readers_may_not_edit_schools(api_as, schools, name):
    """Planners and coordinators read every school but change none."""
    response = api_as(name).patch(
        SCHOOLS_URL + "SCH-KP/", {"enrolment_girls": 1}, format="json"
    )

    assert response.status_code == 403
    assert School.objects.get(code="SCH-KP").enrolment_girls == 0


def test_anonymous_may_not_edit_schools(api, schools):
    """Anonymous writes are refused."""
    response = api.patch(SCHOOLS_URL + "SCH-KP/", {"enrolment_girls": 1}, format="json")

    assert response.status_code in (401, 403)
    assert School.objects.get(code="SCH-KP").enrolment_girls == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"enrolment_girls": -5}, "enrolment_girls"),
        ({"enrolment_boys": "many"}, "enrolment_boys"),
        ({"level": "university"}, "level"),
        ({"commune": "080101"}, "commune"),
        ({"location": {"type": "Point", "coordinates": [0, 0]}}, "location"),
    ],
)
def test_invalid_school_edit_is_400_naming_the_field(api_as, schools, data, field):
    """Bad values, and fields PATCH may not change, are 400 {field: [messages]}."""
    response = api_as("official_07").patch(SCHOOLS_URL + "SCH-KP/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field], list)
    school = School.objects.get(code="SCH-KP")
    assert (school.enrolment_girls, school.level, school.commune_id) == (
        0,
        "lower_secondary",
        "070101",
    )


def test_school_edit_keeps_the_record_valid(api_as, schools):
    """Blanking both names breaks the model's rule and is a 400, not a 500."""
    response = api_as("official_07").patch(
        SCHOOLS_URL + "SCH-KP/", {"name_en": "", "name_km": ""}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Give a name in English or in Khmer."]
    }
    assert School.objects.get(code="SCH-KP").name_en != ""


def test_edit_of_unknown_school_is_404(api_as, schools):
    """PATCH on an unknown code is a 404."""
    response = api_as("admin").patch(
        SCHOOLS_URL + "NO-SUCH/", {"enrolment_girls": 1}, format="json"
    )

    assert response.status_code == 404


# Services and sensitivity


@pytest.mark.parametrize("name", [None, "planner"])
def test_sensitive_services_are_absent_for_the_public_and_planners(
    api, api_as, services, name
):
    """Safe shelters are missing from rows and count for the public and planners."""
    client = api_as(name) if name else api

    response = client.get(SERVICES_URL)

    assert response.status_code == 200
    assert codes(response) == ["SRV-HC-KP", "SRV-HC-PP"]
    assert response.json()["count"] == 2
    shelters = client.get(SERVICES_URL, {"kind": "safe_shelter"}).json()
    assert shelters["count"] == 0
    assert client.get(SERVICES_URL + "SRV-SS-PP/").status_code == 404
    assert client.get(SERVICES_URL + "SRV-SS-KP/").status_code == 404


def test_coordinator_sees_every_sensitive_service_with_contact(api_as, services):
    """Coordinators see safe shelters everywhere, with exact location and contact."""
    client = api_as("coordinator")

    assert codes(client.get(SERVICES_URL)) == [
        "SRV-HC-KP",
        "SRV-HC-PP",
        "SRV-SS-KP",
        "SRV-SS-PP",
    ]
    feature = client.get(SERVICES_URL + "SRV-SS-PP/").json()
    assert feature["properties"]["contact"] == "012 345 678"
    point = GEOSGeometry(json.dumps(feature["geometry"]))
    assert (point.x, point.y) == pytest.approx((104.91, 11.55))


def test_official_sees_sensitive_services_only_in_their_province(api_as, services):
    """The official of 07 sees the Kampot shelter (070101), not the Phnom Penh one."""
    client = api_as("official_07")

    response = client.get(SERVICES_URL)

    assert codes(response) == ["SRV-HC-KP", "SRV-HC-PP", "SRV-SS-KP"]
    assert response.json()["count"] == 3
    assert client.get(SERVICES_URL + "SRV-SS-KP/").status_code == 200
    assert client.get(SERVICES_URL + "SRV-SS-PP/").status_code == 404


def test_service_detail_is_one_feature(api, services):
    """An ordinary service's detail is a Feature with area codes from its commune."""
    feature = api.get(SERVICES_URL + "SRV-HC-KP/").json()

    assert (feature["type"], feature["id"]) == ("Feature", "SRV-HC-KP")
    assert feature["properties"] == {
        "code": "SRV-HC-KP",
        "kind": "health_centre",
        "name_en": "Service SRV-HC-KP",
        "name_km": "",
        "contact": "",
        "commune": "070101",
        "district": "0701",
        "province": "07",
        "status": "open",
        "hazard_level": 0,
        "hazard_levels": {},
    }


def test_unknown_service_is_404(api, services):
    """An unknown service code is a 404 like a hidden one."""
    assert api.get(SERVICES_URL + "NO-SUCH/").status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "07"}, ["SRV-HC-KP", "SRV-SS-KP"]),
        ({"district": "1201"}, ["SRV-HC-PP", "SRV-SS-PP"]),
        ({"commune": "070101", "kind": "safe_shelter"}, ["SRV-SS-KP"]),
        ({"bbox": "104.0,10.5,104.2,10.7"}, ["SRV-HC-KP"]),
        ({"q": "srv-ss"}, ["SRV-SS-KP", "SRV-SS-PP"]),
    ],
)
def test_service_list_filters(api_as, services, params, expected):
    """Services filter by area code, kind, bbox and name like schools."""
    response = api_as("coordinator").get(SERVICES_URL, params)

    assert codes(response) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "bakery"}, "kind"),
        ({"bbox": "1,2"}, "bbox"),
        ({"district": "12"}, "district"),
    ],
)
def test_service_list_rejects_invalid_filters(api, services, params, field):
    """An invalid service filter is a 400 naming the parameter."""
    response = api.get(SERVICES_URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_service_list_query_counts(api, api_as, services, django_assert_num_queries):
    """Anonymous: count and select; an official adds one query: their membership
    with its areas."""
    with django_assert_num_queries(2):
        api.get(SERVICES_URL)
    for i in range(10):
        make_service(f"SRV-X{i:02}", 104.93, 11.57, "120101", sensitive=True)

    with django_assert_num_queries(3):
        response = api_as("official_07").get(SERVICES_URL)

    assert response.json()["count"] == 3
