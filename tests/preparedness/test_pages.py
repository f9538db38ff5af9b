"""Server-rendered pages: home, language switch, health, sign-in and the admin."""

import os
import re
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.translation.reloader import translation_file_changed

from preparedness.models import Membership
from schools.models import School
from tests.factories import make_school, make_service, make_user

KM_PO = settings.BASE_DIR / "locale" / "km" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def khmer_catalogue():
    """locale/km compiled to .mo (as `make test` does) and translation caches reset."""
    mo = KM_PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < KM_PO.stat().st_mtime:
        call_command(
            "compilemessages",
            locale=["km"],
            ignore_patterns=[".venv", "var", "bench"],
            verbosity=0,
        )
    translation_file_changed(sender=None, file_path=mo)


def counts_shown(html: str) -> dict[str, str]:
    """The home page's counts as {label: number text}."""
    pairs = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html)
    return dict(pairs)


def test_home_answers_on_an_empty_database(db, client):
    """The home page renders with every count at zero when nothing is loaded."""
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["counts"] == {
        "provinces": 0,
        "districts": 0,
        "communes": 0,
        "schools": 0,
        "learners": 0,
        "services": 0,
    }
    assert set(counts_shown(response.content.decode()).values()) == {"0"}


def test_home_shows_live_counts_in_two_queries(
    geography, client, django_assert_num_queries
):
    """Counts cover current areas and open places; learners add girls and boys."""
    make_school("S-1", enrolment_girls=600, enrolment_boys=634)
    make_school("S-2", commune="070101", lon=104.2, lat=10.6, enrolment_girls=1)
    make_school("S-3", status=School.Status.CLOSED, enrolment_boys=500)
    make_service("V-1")
    with django_assert_num_queries(2):
        response = client.get("/")
    assert response.status_code == 200
    assert response.context["counts"] == {
        "provinces": 3,
        "districts": 3,
        "communes": 3,
        "schools": 2,
        "learners": 1235,
        "services": 1,
    }
    shown = counts_shown(response.content.decode())
    assert shown["Schools"] == "2"
    assert shown["Learners"] == "1,235"
    assert shown["Child-protection services"] == "1"


def test_home_names_the_data_sources_and_the_coming_map(db, client):
    """Credits name every source and licence; the map is announced, not linked."""
    html = client.get("/").content.decode()
    for credit in (
        "Ministry of Economy and Finance (data.mef.gov.kh, Data EF",
        "NCDD gazetteer via pumi (MIT)",
        "geoBoundaries (Runfola et al. 2020)",
        "© OpenStreetMap",
        "contributors (ODbL)",
        "Open Development Cambodia 2014 (CC BY 4.0)",
    ):
        assert credit in " ".join(html.split())
    assert "coming soon" in html
    assert 'href="/map/"' not in html


def test_home_counts_the_schools_in_an_officials_scope(users, client):
    """An official of province 07 sees the open schools of 07 only, not elsewhere."""
    make_school("S-PP")  # Phnom Penh, 120101
    make_school("S-K1", commune="070101", lon=104.2, lat=10.6)
    make_school("S-K2", commune="070101", lon=104.21, lat=10.61)
    make_school("S-K3", commune="070101", lon=104.22, lat=10.62, status="closed")
    client.force_login(users["official_07"])
    response = client.get("/")
    assert response.context["my_schools"] == 2
    assert "2 open schools in your areas (07)." in response.content.decode()


def test_home_has_no_my_schools_for_nationwide_roles(users, client):
    """Coordinators are nationwide: no "my schools" section."""
    client.force_login(users["coordinator"])
    response = client.get("/")
    assert response.context["my_schools"] is None
    assert "My schools" not in response.content.decode()


def test_layout_is_light_and_translatable(db, client):
    """The layout names its language, fits phones, loads one local stylesheet."""
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert '<meta name="viewport"' in html
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == [
        "/static/preparedness/site.css"
    ]
    assert "<script" not in html
    assert 'action="/i18n/setlang/"' in html


def test_navigation_depends_on_the_role(users, client):
    """Anonymous users get a sign-in link; administrators get Users, Admin, sign-out."""
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/?next=/"' in html
    assert "/accounts/users/" not in html
    assert "/admin/" not in html

    client.force_login(users["coordinator"])
    html = client.get("/").content.decode()
    assert "/accounts/users/" not in html
    assert 'action="/accounts/logout/"' in html

    client.force_login(users["admin"])
    html = client.get("/").content.decode()
    assert 'href="/accounts/users/"' in html
    assert 'href="/admin/"' in html


def test_home_in_khmer_from_accept_language(db, client, khmer_catalogue):
    """A phone set to Khmer gets the page in Khmer from SalaSafe's own catalogue."""
    response = client.get("/", headers={"accept-language": "km"})
    html = response.content.decode()
    assert '<html lang="km">' in html
    assert "API សាលារៀន" in html  # "Schools API": only in locale/km
    assert "Schools API" not in html
    assert "ខេត្ត" in html  # "Provinces"


def test_language_switch_sets_khmer_for_later_pages(db, client, khmer_catalogue):
    """Choosing ខ្មែរ in the header keeps later pages in Khmer (language cookie)."""
    response = client.post("/i18n/setlang/", {"language": "km", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "km"
    html = client.get("/").content.decode()
    assert "API សាលារៀន" in html

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Schools API" in client.get("/").content.decode()


def test_khmer_catalogue_is_complete():
    """Every message in locale/km is translated, none fuzzy, and flagged for review."""
    result = subprocess.run(
        ["msgfmt", "--statistics", "--check-format", "-o", os.devnull, str(KM_PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr
    assert (
        "# Not yet reviewed by a native speaker" in KM_PO.read_text().split("msgid")[0]
    )


def test_healthz_reports_the_database(db, client):
    """/healthz answers 200 JSON naming the PostGIS version."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"
    assert response.json()["postgis"].startswith("3.")


def test_healthz_answers_503_when_the_database_is_down():
    """A process whose database cannot be reached reports it (no mock: a real
    connection to a port where nothing listens)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import django, os; django.setup(); "
        "from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "preparedness.settings_test",
        "DATABASE_URL": "postgis://nobody@127.0.0.1:9/nowhere",
    }
    env.pop("SALASAFE_TEST_DB_NAME", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    status, body = out.stdout.strip().split(" ", 1)
    assert status == "503", out.stderr[-2000:]
    assert json.loads(body) == {
        "status": "error",
        "database": "unreachable",
        "postgis": None,
    }


def test_sign_in_page_and_admin_login_render(db, client):
    """The sign-in page offers a reset link; the admin's own login page works too."""
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'href="/accounts/password_reset/"' in response.content.decode()
    assert client.get("/admin/login/").status_code == 200


def test_sign_in_and_out(users, client):
    """A user signs in with a password and signs out with a POST."""
    response = client.post(
        "/accounts/login/", {"username": "planner", "password": "pw-planner"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].is_authenticated
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


@pytest.fixture
def superuser(geography):
    return make_user("root", is_staff=True, is_superuser=True, email="root@example.org")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/schools/school/",
        "/admin/schools/service/",
        "/admin/preparedness/adminarea/",
        "/admin/preparedness/adminarea/?level__exact=commune",
        "/admin/preparedness/organization/",
        "/admin/preparedness/membership/",
        "/admin/auth/user/",
    ],
)
def test_admin_changelists_render(superuser, client, url):
    """Admin lists render for a superuser with a few rows in them."""
    make_school("S-1")
    make_school("S-2", commune="070101", lon=104.2, lat=10.6)
    make_service("V-1", kind="safe_shelter", sensitive=True)
    client.force_login(superuser)
    response = client.get(url)
    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


def test_admin_school_form_shows_a_map_and_no_generated_key(superuser, client):
    """The school form has a Leaflet map served from our own static files (works
    offline) and leaves the generated name_key out."""
    school = make_school("S-1")
    client.force_login(superuser)
    html = client.get(f"/admin/schools/school/{school.pk}/change/").content.decode()
    assert 'name="location"' in html
    assert "/static/leaflet/leaflet.js" in html
    assert "cdn." not in html
    assert 'name="name_key"' not in html


def test_admin_area_search_ignores_zero_width_spaces(superuser, client):
    """Searching "កំ\u200bពត" (with a zero-width space) finds Kampot by its key."""
    client.force_login(superuser)
    response = client.get("/admin/preparedness/adminarea/", {"q": "កំ\u200bពត"})
    codes = [area.code for area in response.context["cl"].result_list]
    assert codes == ["07"]


def test_admin_membership_form_keeps_the_area_rule(superuser, client):
    """In the Django admin too, an education official needs an area."""
    official = make_user("new_official")
    client.force_login(superuser)
    response = client.post(
        "/admin/preparedness/membership/add/",
        {"user": official.pk, "role": "education_official", "organization": ""},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["areas"]
    assert not Membership.objects.filter(user=official).exists()
