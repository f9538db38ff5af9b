"""School risk: the worked example of docs/methodology.md, properties, ranking, API."""

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schools.checklists import services as checklists
from schools.models import RiskSettings, School, SchoolAccess, SchoolRisk
from schools.risk.scoring import RiskInputs, RiskRules, risk_scores
from schools.risk.services import risk_recompute
from tests.factories import ALL_YES, make_framework, make_school

LEVELS = {
    "preschool": 10.0,
    "primary": 6.0,
    "lower_secondary": 3.0,
    "upper_secondary": 1.0,
}
RULES = RiskRules(level_vulnerability=LEVELS)


def inputs(**columns):
    """Risk inputs of n schools; every column defaults to a primary school of 400."""
    n = len(next(iter(columns.values())))
    defaults = {
        "level": ["primary"] * n,
        "learners": [400] * n,
        "disabilities": [0] * n,
        "hazard_level": [3] * n,
        "assessed": [True] * n,
        "css": [50.0] * n,
        "critical_gap": [False] * n,
        "physical": [1.0] * n,
    }
    defaults.update(columns)
    return RiskInputs(**{k: np.array(v) for k, v in defaults.items()})


def test_the_worked_example_of_the_methodology():
    """A: CSS 50; B: CSS 90 with a critical gap; C: never assessed; E: not exposed.

    H = 2.5 x class 3 = 7.5; E = 10 ln(401) / ln(1001) = 8.68; HE = sqrt(7.5 E) = 8.07.
    V = (physical 0 + learners (6 + 0) / 2) / 2 = 1.5 (C: physical unknown 5 -> 4).
    LCC: A 10 - 50/10 = 5; B max(10 - 9, 6) = 6; C 10.
    Risk = (HE V LCC)^(1/3): A 3.93 medium, B 4.17 medium, C 6.86 very high, E 0.
    """
    nan = float("nan")
    result = risk_scores(
        inputs(
            css=[50.0, 90.0, nan, 50.0],
            critical_gap=[False, True, False, False],
            assessed=[True, True, False, True],
            physical=[1.0, 1.0, nan, 1.0],
            hazard_level=[3, 3, 3, 0],
        ),
        RULES,
    )
    assert result.hazard_exposure.tolist() == [8.07, 8.07, 8.07, 0.0]
    assert result.vulnerability.tolist() == [1.5, 1.5, 4.0, 1.5]
    assert result.coping_gap.tolist() == [5.0, 6.0, 10.0, 5.0]
    assert result.score.tolist() == [3.93, 4.17, 6.86, 0.0]
    assert result.risk_class.tolist() == [3, 3, 5, 1]


def test_learners_with_disabilities_and_young_children_raise_vulnerability():
    result = risk_scores(
        inputs(
            level=["preschool", "primary", "primary"],
            learners=[100, 100, 100],
            disabilities=[0, 0, 5],  # 5 % of 10 % -> 5
        ),
        RULES,
    )
    assert result.vulnerability_learners.tolist() == [5.0, 3.0, 5.5]


@st.composite
def school_inputs(draw, n=None):
    n = n or draw(st.integers(1, 20))
    assessed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return inputs(
        level=draw(st.lists(st.sampled_from(list(LEVELS)), min_size=n, max_size=n)),
        learners=draw(st.lists(st.integers(0, 5000), min_size=n, max_size=n)),
        disabilities=draw(st.lists(st.integers(0, 200), min_size=n, max_size=n)),
        hazard_level=draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)),
        assessed=assessed,
        css=[draw(st.floats(0, 100)) if a else float("nan") for a in assessed],
        critical_gap=[draw(st.booleans()) if a else False for a in assessed],
        physical=[
            draw(st.one_of(st.just(float("nan")), st.floats(0, 1)))
            if a
            else float("nan")
            for a in assessed
        ],
    )


def replaced(data: RiskInputs, **columns) -> RiskInputs:
    values = {k: getattr(data, k).copy() for k in data.__dataclass_fields__}
    values.update({k: np.asarray(v) for k, v in columns.items()})
    return RiskInputs(**values)


@settings(max_examples=200, deadline=None)
@given(school_inputs())
def test_scores_stay_within_0_and_10_and_classes_follow_scores(data):
    result = risk_scores(data, RULES)
    for dim in (result.hazard_exposure, result.vulnerability, result.coping_gap):
        assert ((dim >= 0) & (dim <= 10)).all()
    assert ((result.score >= 0) & (result.score <= 10)).all()
    order = np.argsort(result.score, kind="stable")
    assert (np.diff(result.risk_class[order]) >= 0).all()


@settings(max_examples=200, deadline=None)
@given(school_inputs(), st.integers(0, 4), st.integers(0, 3000))
def test_more_hazard_or_more_learners_never_lowers_risk(
    data, more_class, more_learners
):
    before = risk_scores(data, RULES).score
    hazard = np.minimum(data.hazard_level + more_class, 4)
    assert (
        risk_scores(replaced(data, hazard_level=hazard), RULES).score >= before
    ).all()
    learners = data.learners + more_learners
    # Same disabilities among more learners: a smaller share, so compare at zero.
    base = replaced(data, disabilities=np.zeros_like(data.disabilities))
    more = replaced(base, learners=learners)
    assert (risk_scores(more, RULES).score >= risk_scores(base, RULES).score).all()


@settings(max_examples=200, deadline=None)
@given(school_inputs(), st.floats(0, 100))
def test_better_preparedness_never_raises_risk(data, gain):
    before = risk_scores(data, RULES).score
    css = np.where(data.assessed, np.minimum(data.css + gain, 100), data.css)
    assert (risk_scores(replaced(data, css=css), RULES).score <= before).all()
    gap_closed = replaced(data, critical_gap=np.zeros_like(data.critical_gap))
    assert (risk_scores(gap_closed, RULES).score <= before).all()


@settings(max_examples=200, deadline=None)
@given(school_inputs())
def test_a_school_never_assessed_never_ranks_below_itself_assessed(data):
    unknown = replaced(
        data,
        assessed=np.zeros_like(data.assessed),
        physical=np.full(len(data.css), np.nan),
    )
    assessed = replaced(data, physical=np.full(len(data.css), np.nan))
    assert (
        risk_scores(unknown, RULES).score >= risk_scores(assessed, RULES).score
    ).all()


# ---------------------------------------------------------------- in the database

pytestmark_db = pytest.mark.django_db


@pytest.fixture
def ranked(tmp_path, users, geography):
    """The worked example as real schools, assessments and a risk recompute."""
    make_framework(tmp_path)
    RiskSettings.objects.update_or_create(pk=1, defaults={"physical_items": ["P1.02"]})
    official = users["official_07"]
    schools = {}
    for code, commune, lon, lat in [
        ("A", "070101", 104.15, 10.60),
        ("B", "070101", 104.16, 10.60),
        ("C", "120101", 104.92, 11.56),
        ("D", "070101", 104.17, 10.60),
        ("E", "080101", 104.95, 11.42),
    ]:
        schools[code] = make_school(
            code,
            lon=lon,
            lat=lat,
            commune=commune,
            # A and D have 1,000 learners or more (exposure 10): their scores tie,
            # and the tie goes to the school with more learners.
            enrolment_girls=600 if code in "AD" else 200,
            enrolment_boys={"A": 500, "D": 600}.get(code, 200),
            hazard_level=0 if code == "E" else 3,
            hazard_levels={} if code == "E" else {"riverine_flood": 3},
        )
    # CSS 54.1 (F 60, P1 75, P2 81.25, P3 0), no critical gap, P1.02 (physical) yes.
    answers_a = {**ALL_YES, "F.01": "no", "P1.01": 0.8, "P2.01": 1, "P3.01": "no"}
    for code in ("A", "D", "E"):
        checklists.assessment_create(
            school=schools[code],
            by=official if code != "E" else users["admin"],
            answers=answers_a,
            submit=True,
        )
    # CSS 90.6 with a critical gap (no drill): lack of coping at least 6.
    checklists.assessment_create(
        school=schools["B"], by=official, answers={**ALL_YES, "P2.01": 0}, submit=True
    )
    risk_recompute()
    return schools


@pytest.mark.django_db
def test_the_priority_list_ranks_by_risk_with_ties_by_learners(api, api_as, ranked):
    # Critical gaps are for logged-in roles (tests/maps/test_exports.py).
    rows = api_as("coordinator").get("/api/risk/priorities/").json()["features"]
    codes = [f["id"] for f in rows]
    assert codes == ["C", "B", "D", "A", "E"]
    c, b, d, a, e = (f["properties"] for f in rows)
    assert c["assessed"] is False and c["risk_class"] == "very_high"
    assert b["critical_gaps"] == ["P2.01"] and b["css_score"] > a["css_score"]
    assert a["risk_score"] == d["risk_score"]  # a tie, broken by learners
    assert (d["learners"], a["learners"]) == (1200, 1100)
    assert e["risk_score"] == 0 and e["risk_class"] == "very_low"
    reverse = [
        f["id"] for f in api.get("/api/risk/priorities/?order=-risk").json()["features"]
    ]
    assert reverse == codes[::-1]


@pytest.mark.django_db
def test_priority_filters(api, ranked):
    def codes(query):
        response = api.get("/api/risk/priorities/?" + query)
        assert response.status_code == 200, response.json()
        return [f["id"] for f in response.json()["features"]]

    assert codes("never_assessed=true") == ["C"]
    assert codes("province=07") == ["B", "D", "A"]
    assert codes("risk_class=very_high,very_low") == ["C", "E"]
    assert codes("hazard_type=riverine_flood") == ["C", "B", "D", "A"]
    SchoolAccess.objects.create(
        school=ranked["A"],
        nearest={},
        focal_point_km=2.0,
        computed_at="2026-01-01T00:00Z",
    )
    SchoolAccess.objects.create(
        school=ranked["B"],
        nearest={},
        focal_point_km=9.0,
        computed_at="2026-01-01T00:00Z",
    )
    assert codes("access_gap=false") == ["A"]  # 2 km <= 5 km; others have none
    assert "A" not in codes("access_gap=true")
    bad = api.get("/api/risk/priorities/?risk_class=awful&province=7")
    assert bad.status_code == 400
    assert set(bad.json()) == {"risk_class", "province"}


@pytest.mark.django_db
def test_changing_the_settings_reorders_the_ranking_as_documented(api_as, ranked):
    """Without the critical-gap floor, B's lack of coping falls to 1: below A."""
    admin = api_as("admin")
    response = admin.patch(
        "/api/risk/settings/", {"critical_gap_min_coping": 0}, format="json"
    )
    assert response.status_code == 200, response.json()
    rows = [f["id"] for f in admin.get("/api/risk/priorities/").json()["features"]]
    assert rows.index("A") < rows.index("B")
    assert (
        api_as("coordinator")
        .patch("/api/risk/settings/", {"weight_coping": 2}, format="json")
        .status_code
        == 403
    )
    bad = admin.patch(
        "/api/risk/settings/", {"class_breaks": [5, 2, 3, 4]}, format="json"
    )
    assert bad.status_code == 400 and "class_breaks" in bad.json()


@pytest.mark.django_db
def test_submitting_an_assessment_updates_the_risk(users, ranked):
    before = SchoolRisk.objects.get(school=ranked["C"])
    checklists.assessment_create(
        school=ranked["C"], by=users["admin"], answers=ALL_YES, submit=True
    )
    after = SchoolRisk.objects.get(school=ranked["C"])
    assert before.assessed is False and after.assessed is True
    assert after.score < before.score


@pytest.mark.django_db
def test_exports_keep_khmer_and_mask_sensitive_services(api, api_as, ranked):
    from tests.factories import make_service

    shelter = make_service(
        "SHELTER-1",
        lon=104.151,
        lat=10.601,
        commune="070101",
        kind="safe_shelter",
        sensitive=True,
    )
    School.objects.filter(code="A").update(name_km="សាលាបឋមសិក្សាអង្គភ្នំតូច")
    SchoolAccess.objects.create(
        school=ranked["A"],
        nearest={
            "safe_shelter": {
                "code": shelter.code,
                "km": 1.46,
                "sensitive": True,
                "unavailable": False,
            }
        },
        focal_point_km=None,
        computed_at="2026-01-01T00:00Z",
    )
    planner = api_as("planner").get("/api/risk/priorities/export.csv")
    text = b"".join(planner.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert rows["A"]["name_km"] == "សាលាបឋមសិក្សាអង្គភ្នំតូច"
    assert rows["A"]["nearest_safe_shelter_km"] == "1.0"  # rounded to the km
    assert rows["A"]["nearest_safe_shelter_code"] == ""
    assert list(rows) == ["C", "B", "D", "A", "E"]
    coordinator = api_as("coordinator").get("/api/risk/priorities/export.geojson")
    data = json.loads(b"".join(coordinator.streaming_content))
    a = next(f for f in data["features"] if f["id"] == "A")["properties"]
    assert a["nearest_safe_shelter_code"] == "SHELTER-1"
    assert a["nearest_safe_shelter_km"] == 1.46
    anonymous = api.get("/api/risk/priorities/?province=07").json()["features"]
    a = next(f for f in anonymous if f["id"] == "A")["properties"]
    assert (
        a["nearest_safe_shelter_code"] is None and a["nearest_safe_shelter_km"] == 1.0
    )


@pytest.mark.django_db
def test_the_priorities_page_ranks_filters_and_links_exports(client, ranked):
    page = client.get("/priorities/?province=07").content.decode()
    assert page.index(">B<") < page.index(">D<") < page.index(">A<")
    assert '">C</a>' not in page  # C is in Phnom Penh
    assert 'href="/api/risk/priorities/export.csv?province=07"' in page
    assert client.get("/priorities/?risk_class=awful").status_code == 400


@pytest.mark.django_db
def test_the_school_page_explains_its_risk_and_masks_safe_shelters(
    client, users, ranked
):
    from tests.factories import make_service

    make_service(
        "SHELTER-1",
        lon=104.151,
        lat=10.601,
        commune="070101",
        kind="safe_shelter",
        sensitive=True,
    )
    from schools.risk.nearest import nearest_services_refresh

    nearest_services_refresh()
    client.force_login(users["planner"])
    page = client.get("/schools/A/").content.decode()
    assert "Lack of coping capacity" in page and "Medium" in page
    assert "Safe shelter" in page and "SHELTER-1" not in page
    client.force_login(users["coordinator"])
    assert "SHELTER-1" in client.get("/schools/A/").content.decode()
