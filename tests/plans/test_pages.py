"""Plan pages: list with readiness, one plan with its gaps, the Forum overview."""

import pytest
from django.test import Client

from plans.services import action_create, plan_transition
from tests.plans.conftest import create_plan

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_plan_pages_show_readiness_overdue_actions_and_coverage_gaps(
    api_as,
    users,
    orgs,
    schools,
):
    plan = create_plan(api_as, orgs)
    coordinator = users["coordinator"]
    action_create(
        by=coordinator,
        plan_id=plan["id"],
        data={
            "title": "Drill",
            "sector": "education",
            "organization": orgs["sci"].pk,
            "due_on": __import__("datetime").date(2026, 6, 2),
            "schools": ["K-NAMED"],
        },
    )
    client = logged_in(users["planner"])
    listing = client.get("/plans/").content.decode()
    assert "Flood season 2026, Kampot" in listing
    assert "0 / 1 (0 %)" in listing
    page = client.get(f"/plans/{plan['id']}/").content.decode()
    assert "overdue" in page  # due 2 June 2026, not done
    # K-HIGH (very high) is named by no action: one coverage gap; K-NAMED is named.
    assert "no: coverage gap" in page
    assert page.count("no: coverage gap") == 1
    assert client.get("/plans/?province=7").status_code == 400


def test_the_forum_overview_lists_high_risk_schools_no_active_plan_covers(
    api_as,
    users,
    orgs,
    schools,
):
    plan = create_plan(api_as, orgs)  # covers Kampot (07)
    plan_transition(by=users["coordinator"], plan_id=plan["id"], to="active", why="ok")
    page = logged_in(users["coordinator"]).get("/plans/overview/").content.decode()
    assert "Flood season 2026, Kampot" in page
    assert ">PP-1</a>" in page  # very high risk in Phnom Penh: no active plan there
    assert ">K-HIGH</a>" not in page
    assert Client().get("/plans/overview/").status_code == 302  # sign in first


def test_the_plan_list_filters_by_organization(api_as, users, orgs):
    create_plan(api_as, orgs, title="Led by SCI", co_lead=None)
    create_plan(
        api_as, orgs, title="Led by UNICEF", lead=orgs["unicef"].pk, co_lead=None
    )
    page = logged_in(users["planner"]).get(f"/plans/?organization={orgs['unicef'].pk}")
    text = page.content.decode()
    assert "Led by UNICEF" in text and "Led by SCI" not in text
    assert f'value="{orgs["unicef"].pk}" selected' in text
