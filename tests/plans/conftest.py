"""Fixtures of the plans tests: Forum members, schools with risk, a plan factory."""

import pytest
from django.utils import timezone

from preparedness.models import Organization
from schools.models import SchoolRisk
from tests.factories import make_organization, make_school

URL = "/api/plans/"


@pytest.fixture
def orgs(users):
    return {
        "sci": Organization.objects.get(acronym="SCI"),
        "unicef": make_organization("UNICEF", "UNICEF", kind="un_agency"),
        "outsider": make_organization("Not a member", "NM", forum_member=False),
    }


@pytest.fixture
def schools(geography):
    now = timezone.now()
    made = {}
    for code, commune, lon, lat, klass, score in [
        ("K-HIGH", "070101", 104.15, 10.60, 5, 7.1),
        ("K-MID", "070101", 104.16, 10.60, 3, 4.0),
        ("K-NAMED", "070101", 104.17, 10.60, 4, 5.5),
        ("PP-1", "120101", 104.92, 11.56, 5, 8.0),
    ]:
        school = make_school(code, lon=lon, lat=lat, commune=commune)
        SchoolRisk.objects.create(
            school=school,
            hazard=7.5,
            exposure=8,
            hazard_exposure=7.7,
            vulnerability_physical=5,
            vulnerability_learners=3,
            vulnerability=4,
            coping_gap=10,
            score=score,
            risk_class=klass,
            assessed=False,
            computed_at=now,
        )
        made[code] = school
    return made


def plan_data(orgs, **extra):
    return {
        "title": "Flood season 2026, Kampot",
        "hazard_types": ["riverine_flood", "flash_flood"],
        "season": "July-November",
        "starts_on": "2026-06-01",
        "ends_on": "2026-11-30",
        "lead": orgs["sci"].pk,
        "co_lead": orgs["unicef"].pk,
        "sectors": ["education", "child_protection"],
        "coverage": ["07"],
        "triggers": "A forecast storm of 34 kt or more within 100 km.",
        **extra,
    }


def create_plan(api_as, orgs, **extra):
    """A draft plan made through the API by the coordinator."""
    response = api_as("coordinator").post(URL, plan_data(orgs, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()
