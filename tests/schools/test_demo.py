from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from preparedness.access import may_edit_in_area
from schools.models import Answer, Assessment, School, SchoolSafety, Service


def _snapshot():
    return sorted(
        (s.code, s.location.x, s.location.y, s.level, s.enrolment_girls)
        for s in School.objects.all()
    )


def _outside_their_commune(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {table} p JOIN preparedness_adminarea a "
            "ON a.code = p.commune_code WHERE NOT ST_Intersects(a.boundary, p.location)"
        )
        return cursor.fetchone()[0]


def test_small_demo_places_schools_inside_their_communes(geography):
    """load_demo at small size puts every school and service inside its commune."""
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "300", "--services", "80"
    )
    assert School.objects.count() == 300
    assert Service.objects.count() == 80
    assert _outside_their_commune("schools_school") == 0
    assert _outside_their_commune("schools_service") == 0
    assert set(School.objects.values_list("level", flat=True)) == set(
        School.Level.values
    )
    assert School.objects.filter(name_km__startswith="សាលា").exists()
    assert not Service.objects.filter(kind="safe_shelter", sensitive=False).exists()


def test_demo_is_deterministic(geography):
    """The same seed gives the same schools, codes and places."""
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "120", "--services", "10"
    )
    first = _snapshot()
    Assessment.objects.all().delete()
    School.objects.all().delete()
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "120", "--services", "10"
    )
    assert _snapshot() == first


def test_demo_creates_one_login_per_role(geography):
    """Demo logins exist for each role; official_07 covers Kampot only."""
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "10", "--services", "0"
    )
    users = {u.username: u for u in get_user_model().objects.all()}
    assert {"coordinator", "official_07", "planner", "admin"} <= set(users)
    assert users["official_07"].check_password("salasafe-demo")
    assert may_edit_in_area(users["official_07"], "070101")
    assert not may_edit_in_area(users["official_07"], "120101")
    assert users["admin"].is_superuser


def test_demo_if_empty_reuses_loaded_data(geography):
    """`load_demo --if-empty` (used by `make demo`) leaves loaded data alone."""
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "20", "--services", "0"
    )
    first_five = list(School.objects.values_list("code", flat=True)[:5])
    Assessment.objects.filter(school__code__in=first_five).delete()
    School.objects.filter(code__in=first_five).delete()
    call_command("load_demo", "--keep-admin-areas", "--if-empty", "--schools", "20")
    assert School.objects.count() == 15


def test_demo_assesses_a_realistic_share_of_schools(geography):
    """Some schools never assessed, some several times; current scores refreshed."""
    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "300", "--services", "0"
    )
    per_school = Counter(Assessment.objects.values_list("school_id", flat=True))
    assessed = len(per_school)
    assert 0.4 * 300 < assessed < 0.7 * 300
    assert max(per_school.values()) >= 2
    items = Assessment.objects.first().framework.items.count()
    assert Answer.objects.count() == items * Assessment.objects.count()
    current = SchoolSafety.objects.all()
    assert 0 < current.count() <= assessed
    assert all(0 <= s.score <= 100 for s in current)
    assert current.exclude(critical_gaps=[]).exists()
