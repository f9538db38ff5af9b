"""`/api/search/?q=`: find a school by code or name (English or Khmer) to zoom to."""

import pytest

from tests.maps.riskmap_data import PP1_KM, make_map_data

pytestmark = pytest.mark.django_db

URL = "/api/search/"


@pytest.fixture
def data(geography):
    return make_map_data()


def codes(api, q):
    response = api.get(URL, {"q": q})
    assert response.status_code == 200
    return [r["code"] for r in response.json()["results"]]


def test_by_code_english_and_khmer_name(api, data):
    assert codes(api, "pp") == ["PP1", "PP2"]
    assert codes(api, "KP1") == ["KP1"]
    assert codes(api, "basak primary") == ["PP1"]
    assert codes(api, "ទន្លេបាសាក់") == ["PP1"]
    # A zero-width space typed between Khmer words still matches.
    assert codes(api, "ទន្លេ\u200bបាសាក់") == ["PP1"]
    assert codes(api, "no such school") == []


def test_a_result_has_what_the_map_needs_to_zoom(api, data):
    (result,) = api.get(URL, {"q": "PP1"}).json()["results"]
    assert result == {
        "code": "PP1",
        "name_en": "Tonle Basak Primary",
        "name_km": PP1_KM,
        "lon": 104.92,
        "lat": 11.56,
        "url": "/schools/PP1/",
    }


def test_closed_schools_are_not_found(api, data):
    data["pp2"].status = "closed"
    data["pp2"].save()
    assert codes(api, "pp") == ["PP1"]


@pytest.mark.parametrize("query", ["", "?q=", "?q=a", "?q=" + "x" * 101])
def test_a_missing_or_bad_query_is_400(api, data, query):
    response = api.get(URL + query)
    assert response.status_code == 400
    assert "q" in response.json()


def test_at_most_ten_results(api, geography):
    from tests.factories import make_school

    for i in range(12):
        make_school(f"MANY-{i:02d}", name_en="Many")
    assert len(codes(api, "many")) == 10
