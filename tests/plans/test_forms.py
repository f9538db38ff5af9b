"""The plan pages' forms: coordinators create, edit and move plans and add
actions; an organization's members update their actions' status only; bad
input is shown on the field and nothing is written."""

import pytest
from django.test import Client

from plans.models import Action, Plan
from preparedness.models import AuditEntry
from tests.factories import make_user
from tests.plans.conftest import create_plan

pytestmark = pytest.mark.django_db

PLAN_FORM = {
    "title": "Typhoon season 2026",
    "hazard_types": ["storm"],
    "season": "August-November",
    "starts_on": "2026-08-01",
    "ends_on": "2026-11-30",
    "sectors": ["education", "shelter"],
    "coverage": "07, 12",
    "triggers": "A typhoon forecast within 100 km.",
    "documents": "https://example.org/plan.pdf",
}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_coordinator_creates_and_edits_a_plan_through_the_forms(users, orgs):
    client = logged_in(users["coordinator"])
    form = {**PLAN_FORM, "lead": orgs["sci"].pk, "co_lead": orgs["unicef"].pk}
    created = client.post("/plans/new/", form)
    assert created.status_code == 302, created.content.decode()[:2000]
    plan = Plan.objects.get()
    assert sorted(plan.coverage.values_list("code", flat=True)) == ["07", "12"]
    assert plan.documents == ["https://example.org/plan.pdf"]
    assert plan.coverage_area is not None
    edit = client.get(f"/plans/{plan.pk}/edit/").content.decode()
    assert 'value="07, 12"' in edit
    saved = client.post(
        f"/plans/{plan.pk}/edit/",
        {**form, "title": "Typhoon season 2026 (revised)", "version": plan.version},
    )
    assert saved.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "Typhoon season 2026 (revised)" and plan.version == 2
    entry = AuditEntry.objects.filter(subject_type="plan", action="changed").get()
    assert list(entry.changes) == ["title"]  # only what changed
    stale = client.post(f"/plans/{plan.pk}/edit/", {**form, "version": 1})
    assert stale.status_code == 400
    assert "changed by someone else" in stale.content.decode()


def test_bad_plan_input_is_shown_on_its_field_and_nothing_is_written(users, orgs):
    client = logged_in(users["coordinator"])
    cases = [
        ({"coverage": "07, 99"}, "99"),
        ({"ends_on": "2026-07-01"}, "cannot end before it starts"),
        ({"lead": orgs["outsider"].pk}, "Select a valid choice"),
        ({"documents": "not a link"}, "Enter a valid URL"),
    ]
    for change, words in cases:
        form = {**PLAN_FORM, "lead": orgs["sci"].pk, **change}
        response = client.post("/plans/new/", form)
        assert response.status_code == 400, change
        assert words in response.content.decode(), change
    assert not Plan.objects.exists()
    assert logged_in(users["planner"]).get("/plans/new/").status_code == 403


def test_status_changes_through_the_form_follow_the_lifecycle(api_as, users, orgs):
    plan = create_plan(api_as, orgs)
    client = logged_in(users["coordinator"])
    page = client.get(f"/plans/{plan['id']}/status/").content.decode()
    assert 'value="active"' in page and 'value="activated"' not in page
    refused = client.post(
        f"/plans/{plan['id']}/status/", {"to": "closed", "why": "Season over"}
    )
    assert refused.status_code == 400  # a draft can only become active
    moved = client.post(
        f"/plans/{plan['id']}/status/", {"to": "active", "why": "Endorsed by the Forum"}
    )
    assert moved.status_code == 302
    assert Plan.objects.get(pk=plan["id"]).status == "active"


def test_members_update_their_actions_status_only(api_as, users, orgs, schools):
    plan = create_plan(api_as, orgs)
    coordinator = logged_in(users["coordinator"])
    added = coordinator.post(
        f"/plans/{plan['id']}/actions/new/",
        {
            "title": "Pre-position school kits",
            "sector": "education",
            "organization": orgs["unicef"].pk,
            "due_on": "2026-07-15",
            "status": "not_started",
            "areas": "0701",
            "schools": "K-HIGH, K-MID",
        },
    )
    assert added.status_code == 302, added.content.decode()[:3000]
    action = Action.objects.get()
    assert sorted(action.schools.values_list("code", flat=True)) == ["K-HIGH", "K-MID"]
    early = coordinator.post(
        f"/plans/{plan['id']}/actions/new/",
        {
            "title": "Too early",
            "sector": "education",
            "organization": orgs["unicef"].pk,
            "due_on": "2026-01-01",
            "status": "not_started",
        },
    )
    assert early.status_code == 400
    assert "before the plan starts" in early.content.decode()
    member = logged_in(
        make_user("unicef_staff", "planner", organization=orgs["unicef"])
    )
    url = f"/plans/{plan['id']}/actions/{action.pk}/edit/"
    form = member.get(url).content.decode()
    assert 'name="status"' in form and 'name="due_on"' not in form
    done = member.post(
        url, {"status": "in_progress", "progress": "Kits ordered", "version": 1}
    )
    assert done.status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress" and action.progress == "Kits ordered"
    outsider = logged_in(users["official_07"])  # SCI, not UNICEF
    assert outsider.get(url).status_code == 403
    plan_page = member.get(f"/plans/{plan['id']}/").content.decode()
    assert url in plan_page
    assert "/plans/new/" not in member.get("/plans/").content.decode()
