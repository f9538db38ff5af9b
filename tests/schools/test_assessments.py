"""Assessments through the API: answers, scores, submit/verify, locking, audit."""

import io
import threading

import pytest
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from preparedness.models import AuditEntry
from schools.checklists import services
from schools.models import Assessment, SchoolSafety
from tests.factories import ALL_YES, make_framework, make_school, make_user

pytestmark = pytest.mark.django_db

URL = "/api/assessments/"


@pytest.fixture
def framework(tmp_path, db):
    return make_framework(tmp_path)


@pytest.fixture
def kampot_school(geography):
    """A school in commune 070101, inside official_07's province."""
    return make_school("KPT-1", lon=104.15, lat=10.6, commune="070101")


@pytest.fixture
def pp_school(geography):
    """A school in Phnom Penh, outside official_07's areas."""
    return make_school("PP-1")


def create(client, school="KPT-1", **data):
    return client.post(URL, {"school": school, **data}, format="json")


def test_official_creates_a_draft_and_sees_provisional_scores(
    api_as, framework, kampot_school
):
    response = create(api_as("official_07"), answers={"F.01": "yes", "F.02": "partial"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["framework"] == "test.1"
    assert body["version"] == 1
    assert body["answers"] == {"F.01": "yes", "F.02": "partial"}
    assert body["area_scores"]["F"] == 100 * (2 + 1.5) / 5
    assert body["assessor"] == "official_07"
    # A draft is not the school's current assessment.
    assert not SchoolSafety.objects.filter(school=kampot_school).exists()


@pytest.mark.parametrize(
    "answers, field, message",
    [
        ({"Z9.99": "yes"}, "Z9.99", "not an item of framework version test.1"),
        ({"F.01": "partial"}, "F.01", "is not an answer here"),
        ({"F.01": "na"}, "F.01", "cannot be answered 'not applicable'"),
        ({"P2.01": 1.5}, "P2.01", "whole number"),
        ({"P2.01": 51}, "P2.01", "from 0 to 50"),
        ({"P1.01": "deep"}, "P1.01", "Give a number"),
        ({"P1.01": "yes"}, "P1.01", "Give a number"),
        ({"F.02": 3}, "F.02", "answer one of"),
    ],
)
def test_bad_answers_get_400_naming_the_item_and_write_nothing(
    api_as, framework, kampot_school, answers, field, message
):
    response = create(api_as("official_07"), answers=answers)
    assert response.status_code == 400
    assert message.lower() in " ".join(response.json()[field]).lower()
    assert not Assessment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_answers_to_items_of_another_version_are_refused(
    api_as, tmp_path, framework, kampot_school
):
    from tests.factories import framework_document

    doc = framework_document("test.2", published_on="2026-06-01")
    doc["areas"][3]["items"].append(
        {**doc["areas"][3]["items"][0], "code": "P3.02", "answer_type": "yes_no"}
    )
    make_framework(tmp_path, doc)
    client = api_as("official_07")
    response = create(client, framework="test.1", answers={"P3.02": "yes"})
    assert response.status_code == 400
    assert "not an item of framework version test.1" in response.json()["P3.02"][0]
    # The latest version is the default, and it has P3.02.
    assert create(client, answers={"P3.02": "yes"}).json()["framework"] == "test.2"


def test_submit_needs_every_answer_then_sets_the_current_score(
    api_as, framework, kampot_school
):
    client = api_as("official_07")
    draft = create(client, answers={"F.01": "yes"}).json()
    response = client.post(f"{URL}{draft['id']}/submit/", {"version": 1}, format="json")
    assert response.status_code == 400
    assert "missing: F.02, P1.01" in response.json()["answers"][0]

    answers = {**ALL_YES, "P2.01": 0}  # no drill: a critical gap
    patched = client.patch(
        f"{URL}{draft['id']}/", {"version": 1, "answers": answers}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["version"] == 2
    submitted = client.post(
        f"{URL}{draft['id']}/submit/", {"version": 2}, format="json"
    )
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "submitted"
    safety = SchoolSafety.objects.get(school=kampot_school)
    assert safety.assessment_id == draft["id"]
    assert safety.critical_gaps == ["P2.01"]
    assert safety.grade == "needs_improvement"
    assert (
        safety.score
        == submitted.json()["score"]
        == round((100 + 100 + 62.5 + 100) / 4, 1)
    )

    school = client.get(f"/api/schools/{kampot_school.code}/").json()["properties"]
    assert school["css_score"] == safety.score
    assert school["css_grade"] == "needs_improvement"
    assert school["css_critical_gaps"] == ["P2.01"]
    public = APIClient().get(f"/api/schools/{kampot_school.code}/").json()
    assert public["properties"]["css_score"] == safety.score
    assert public["properties"]["css_critical_gaps"] == []  # details: logged in


def test_latest_submitted_is_current_and_older_ones_stay_as_history(
    users, framework, kampot_school
):
    official = users["official_07"]
    old = services.assessment_create(
        school=kampot_school,
        by=official,
        answers=ALL_YES,
        submit=True,
        assessed_on=__import__("datetime").date(2025, 3, 1),
    )
    new = services.assessment_create(
        school=kampot_school,
        by=official,
        answers={**ALL_YES, "F.01": "no"},
        submit=True,
    )
    services.assessment_create(school=kampot_school, by=official, answers={})  # a draft
    safety = SchoolSafety.objects.get(school=kampot_school)
    assert safety.assessment_id == new.pk
    assert Assessment.objects.filter(school=kampot_school).count() == 3
    assert old.score == 100 and safety.score < 100


def test_two_officials_saving_the_same_version_second_gets_409(
    api_as, users, framework, kampot_school
):
    make_user("official_07b", "education_official", areas=["07"])
    first = api_as("official_07")
    draft = create(first, answers={"F.01": "yes"}).json()
    from rest_framework.test import APIClient

    second = APIClient()
    second.force_authenticate(
        __import__("django.contrib.auth", fromlist=["get_user_model"])
        .get_user_model()
        .objects.get(username="official_07b")
    )
    url = f"{URL}{draft['id']}/"
    ok = first.patch(url, {"version": 1, "answers": {"F.01": "no"}}, format="json")
    assert ok.status_code == 200
    stale = second.patch(url, {"version": 1, "answers": {"F.02": "yes"}}, format="json")
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["detail"][0]
    body = first.get(url).json()
    assert body["answers"] == {"F.01": "no"}  # the first save is kept, nothing merged
    assert body["version"] == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_in_real_transactions_never_lose_an_update(
    users, tmp_path, geography
):
    make_framework(tmp_path)
    school = make_school("KPT-1", lon=104.15, lat=10.6, commune="070101")
    official = users["official_07"]
    draft = services.assessment_create(school=school, by=official, answers={})
    barrier = threading.Barrier(2)
    outcomes = []

    def save(code):
        try:
            barrier.wait()
            services.assessment_update(
                assessment_id=draft.pk, by=official, version=1, answers={code: "yes"}
            )
            outcomes.append("saved")
        except Exception as exc:  # the outcome is what we assert
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(c,)) for c in ("F.01", "F.02")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["Conflict", "saved"]
    draft.refresh_from_db()
    assert draft.version == 2
    assert draft.answers.count() == 1


def test_officials_edit_only_their_areas_and_read_nothing_outside(
    api_as, users, framework, kampot_school, pp_school
):
    official = api_as("official_07")
    assert create(official, school="PP-1").status_code == 403
    pp = services.assessment_create(school=pp_school, by=users["admin"], answers={})
    assert official.get(f"{URL}{pp.pk}/").status_code == 404
    assert official.get(f"{URL}{pp.pk}/history/").status_code == 404
    assert (
        official.patch(f"{URL}{pp.pk}/", {"version": 1}, format="json").status_code
        == 404
    )
    assert [a["id"] for a in official.get(URL).json()["results"]] == []
    # Coordinators and planners read but do not edit.
    for name in ("coordinator", "planner"):
        client = api_as(name)
        assert client.get(f"{URL}{pp.pk}/").status_code == 200
        assert create(client, school="PP-1").status_code == 403
        response = client.patch(
            f"{URL}{pp.pk}/", {"version": 1, "answers": {"F.01": "yes"}}, format="json"
        )
        assert response.status_code == 403


def test_anonymous_users_see_no_assessment(api, users, framework, pp_school):
    pp = services.assessment_create(school=pp_school, by=users["admin"], answers={})
    assert api.get(URL).status_code in (401, 403)
    assert api.get(f"{URL}{pp.pk}/").status_code in (401, 403)


def test_verification_by_a_coordinator_or_provincial_official_not_the_assessor(
    api_as, users, framework, kampot_school
):
    draft = services.assessment_create(
        school=kampot_school, by=users["official_07"], answers=ALL_YES, submit=True
    )
    url = f"{URL}{draft.pk}/verify/"
    own = api_as("official_07").post(url, {"version": draft.version}, format="json")
    assert own.status_code == 403
    district = make_user("official_0701", "education_official", areas=["0701"])
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(district)
    assert (
        client.post(url, {"version": draft.version}, format="json").status_code == 403
    )
    response = api_as("coordinator").post(
        url, {"version": draft.version}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert response.json()["verified_by"] == "coordinator"
    assert SchoolSafety.objects.get(school=kampot_school).verified

    # Editing a verified assessment needs a new verification.
    again = api_as("official_07").patch(
        f"{URL}{draft.pk}/",
        {"version": response.json()["version"], "answers": {"F.01": "no"}},
        format="json",
    )
    assert again.json()["status"] == "submitted"
    assert not SchoolSafety.objects.get(school=kampot_school).verified


def test_every_change_is_audited_with_who_what_and_when(
    api_as, framework, kampot_school
):
    client = api_as("official_07")
    draft = create(client, answers={"F.01": "yes"}).json()
    client.patch(
        f"{URL}{draft['id']}/",
        {
            "version": 1,
            "answers": {"F.01": "no", "P2.01": 3},
            "comments": {"F.01": "ស្លាក"},
        },
        format="json",
    )
    history = client.get(f"{URL}{draft['id']}/history/").json()["results"]
    assert [h["action"] for h in history] == ["changed", "created"]
    changed = history[0]
    assert changed["who"] == "official_07"
    assert changed["changes"]["F.01"] == ["yes", "no"]
    assert changed["changes"]["P2.01"] == [None, 3.0]
    assert changed["changes"]["F.01 comment"] == ["", "ស្លាក"]
    assert changed["changes"]["score"][0] != changed["changes"]["score"][1]


def _photo(fmt="PNG", size=(3000, 2000)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    buffer.seek(0)
    buffer.name = f"crack.{fmt.lower()}"
    return buffer


def test_evidence_photos_are_resized_and_bad_files_refused(
    api_as, framework, kampot_school, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = api_as("official_07")
    draft = create(client, answers={"F.01": "yes"}).json()
    url = f"{URL}{draft['id']}/answers/F.01/evidence/"
    response = client.post(url, {"photo": _photo()}, format="multipart")
    assert response.status_code == 201, response.json()
    assert (response.json()["width"], response.json()["height"]) == (1280, 853)
    assert response.json()["bytes"] < 200_000

    text = io.BytesIO(b"not a photo at all")
    text.name = "evil.jpg"
    bad = client.post(url, {"photo": text}, format="multipart")
    assert bad.status_code == 400
    assert "not a photo" in bad.json()["photo"][0]
    gif = client.post(url, {"photo": _photo("GIF", (10, 10))}, format="multipart")
    assert gif.status_code == 400
    assert "JPEG, PNG or WebP" in gif.json()["photo"][0]
    unanswered = client.post(
        f"{URL}{draft['id']}/answers/F.02/evidence/",
        {"photo": _photo()},
        format="multipart",
    )
    assert unanswered.status_code == 404
