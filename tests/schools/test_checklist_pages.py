"""The pages officials use: my schools, a school's safety, the checklist form, print."""

import pytest
from django.test import Client

from schools.checklists import services
from schools.models import Assessment
from tests.factories import ALL_YES, make_framework, make_school, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def framework(tmp_path, db):
    return make_framework(tmp_path)


@pytest.fixture
def schools(geography):
    return {
        "kampot": make_school(
            "KPT-1", lon=104.15, lat=10.6, commune="070101", name_km="សាលាបឋមសិក្សាកំពត"
        ),
        "kampot2": make_school("KPT-2", lon=104.16, lat=10.6, commune="070101"),
        "pp": make_school("PP-1"),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_schools_lists_the_officials_schools_with_scores(users, framework, schools):
    services.assessment_create(
        school=schools["kampot"],
        by=users["official_07"],
        answers={**ALL_YES, "P2.01": 0},
        submit=True,
    )
    page = client_for(users["official_07"]).get("/schools/").content.decode()
    assert "KPT-1" in page and "KPT-2" in page and "PP-1" not in page
    assert "1 critical gap" in page
    assert "Never assessed" in page  # KPT-2: unknown, not safe
    found = client_for(users["official_07"]).get("/schools/?q=កំពត").content.decode()
    assert "KPT-1" in found and "KPT-2" not in found


def test_the_form_saves_a_draft_and_shows_the_previous_answers(
    users, framework, schools
):
    official = users["official_07"]
    services.assessment_create(
        school=schools["kampot"], by=official, answers=ALL_YES, submit=True
    )
    client = client_for(official)
    response = client.post("/schools/KPT-1/assess/")
    assert response.status_code == 302
    url = response["Location"]
    page = client.get(url).content.decode()
    assert page.count('<div class="q" id="i-') == 8  # every item, grouped by area
    assert page.count("<fieldset") == 4
    assert "Last time: Yes" in page
    draft = Assessment.objects.get(status="draft")
    saved = client.post(
        url,
        {
            "version": 1,
            "assessed_on": "2026-01-05",
            "a-F.01": "no",
            "a-P2.01": "3",
            "c-F.01": "ត្រូវការអ្នកទទួលខុសត្រូវ",
            "action": "save",
        },
    )
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.version == 2
    assert str(draft.assessed_on) == "2026-01-05"
    assert draft.answers.get(item__code="F.01").comment == "ត្រូវការអ្នកទទួលខុសត្រូវ"


def test_a_bad_answer_is_shown_beside_its_question_and_nothing_is_saved(
    users, framework, schools
):
    client = client_for(users["official_07"])
    url = client.post("/schools/KPT-1/assess/")["Location"]
    response = client.post(
        url,
        {"version": 1, "assessed_on": "2026-01-05", "a-F.01": "yes", "a-P2.01": "500"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a number from 0 to 50." in page
    assert 'value="500"' in page  # what was typed is kept
    assert not Assessment.objects.get().answers.exists()


def test_a_conflicting_save_keeps_both_and_says_so(users, framework, schools):
    colleague = make_user("official_07b", "education_official", areas=["07"])
    mine, theirs = client_for(users["official_07"]), client_for(colleague)
    url = mine.post("/schools/KPT-1/assess/")["Location"]
    theirs.post(url, {"version": 1, "assessed_on": "2026-01-05", "a-F.01": "no"})
    response = mine.post(
        url, {"version": 1, "assessed_on": "2026-01-05", "a-F.01": "yes"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed by someone else" in page
    assert "Saved by someone else: No" in page
    assert 'name="a-F.01" value="yes" checked' in page  # mine kept in the form
    assert 'name="version" value="2"' in page  # saving again is deliberate
    answer = Assessment.objects.get().answers.get(item__code="F.01")
    assert answer.choice == "no"  # theirs is not overwritten silently


def test_officials_cannot_open_forms_outside_their_areas(users, framework, schools):
    other = services.assessment_create(
        school=schools["pp"], by=users["admin"], answers={}
    )
    client = client_for(users["official_07"])
    assert client.get(f"/assessments/{other.pk}/edit/").status_code == 404
    assert client.post("/schools/PP-1/assess/").status_code == 403
    # Coordinators read the assessment but are sent to the read-only view.
    coordinator = client_for(users["coordinator"])
    response = coordinator.get(f"/assessments/{other.pk}/edit/")
    assert response.status_code == 302
    assert coordinator.get(f"/assessments/{other.pk}/").status_code == 200


def test_the_school_page_shows_gaps_chart_and_history(users, framework, schools):
    official = users["official_07"]
    import datetime as dt

    services.assessment_create(
        school=schools["kampot"],
        by=official,
        answers={**ALL_YES, "F.01": "no"},
        submit=True,
        assessed_on=dt.date(2025, 1, 10),
    )
    services.assessment_create(
        school=schools["kampot"],
        by=official,
        answers={**ALL_YES, "P2.02": "no"},
        submit=True,
    )
    page = client_for(users["coordinator"]).get("/schools/KPT-1/").content.decode()
    assert "Critical gaps" in page and "Question P2.02?" in page
    assert "<polyline" in page  # score by area over time
    assert "official_07" in page and "submitted" in page  # history of changes
    public = Client().get("/schools/KPT-1/").content.decode()
    assert "CSS score" in public  # the overall score is public (SALASAFE_PUBLIC)
    # Checklist details (critical gaps, scores by area), answers and history are
    # for logged-in roles.
    assert "Critical gaps" not in public and "Question P2.02?" not in public
    assert "Sign in to see the scores by area" in public
    assert "History of changes" not in public


def test_the_blank_checklist_prints_in_khmer_and_as_a_pdf(framework):
    client = Client()
    client.cookies["django_language"] = "km"
    page = client.get("/checklists/print/").content.decode()
    assert 'lang="km"' in page
    assert "សំណួរ" in page  # the Khmer question text
    pdf = client.get("/checklists/print.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # A Khmer font is embedded, so Khmer shows as Khmer, not boxes.
    assert any("Khmer" in name for name in pdf_fonts(pdf.content))


def pdf_fonts(data: bytes) -> set[str]:
    """Names of the fonts a PDF embeds (from its compressed object streams)."""
    import re
    import zlib

    names = set()
    for match in re.finditer(rb"stream\r?\n", data):
        try:
            chunk = zlib.decompressobj().decompress(data[match.end() :])
        except zlib.error:
            continue
        names.update(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", chunk))
    return {name.decode() for name in names}


def test_a_photo_sent_with_the_form_is_kept_resized_beside_its_answer(
    users, framework, schools, settings, tmp_path
):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(users["official_07"])
    url = client.post("/schools/KPT-1/assess/")["Location"]
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1500), (120, 80, 40)).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "roof.jpg"
    response = client.post(
        url,
        {"version": 1, "assessed_on": "2026-01-05", "a-F.01": "no", "p-F.01": buffer},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Photo 1" in page
    evidence = Assessment.objects.get().answers.get(item__code="F.01").evidence.get()
    assert (evidence.width, evidence.height) == (1280, 960)
    detail = client.get(url.replace("edit/", "")).content.decode()
    assert evidence.image.url in detail
