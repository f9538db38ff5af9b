"""Plans: lifecycle, actions, permissions, activation snapshot, coverage, audit."""

import datetime as dt

import pytest
from django.utils import timezone

from plans.models import Activation, Plan, Transition
from preparedness.models import AuditEntry
from schools.models import SchoolRisk
from tests.factories import make_user
from tests.plans.conftest import create_plan, plan_data

pytestmark = pytest.mark.django_db
URL = "/api/plans/"


def test_a_coordinator_creates_a_plan_whose_coverage_is_its_areas(api_as, orgs):
    body = create_plan(api_as, orgs)
    assert body["status"] == "draft" and body["coverage"] == ["07"]
    plan = Plan.objects.get()
    assert plan.coverage_area is not None
    # The union of the areas covered: province 07, 103.9-104.5 E x 10.4-10.9 N.
    assert plan.coverage_area.extent == pytest.approx((103.9, 10.4, 104.5, 10.9))
    assert AuditEntry.objects.filter(subject_type="plan", action="created").count() == 1


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"ends_on": "2026-01-01"}, "ends_on", "cannot end before it starts"),
        (
            {"coverage": ["99"]},
            "coverage",
            "Not a current Cambodian administrative area: 99",
        ),
        ({"hazard_types": ["volcano"]}, "hazard_types", ""),
        ({"lead": None}, "lead", ""),
    ],
)
def test_bad_plans_are_refused_naming_the_field(api_as, orgs, change, field, message):
    data = plan_data(orgs, **change)
    response = api_as("coordinator").post(URL, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert message in " ".join(response.json()[field])
    assert not Plan.objects.exists()


def test_a_non_member_cannot_lead_and_others_cannot_create(api_as, orgs):
    response = api_as("coordinator").post(
        URL, plan_data(orgs, lead=orgs["outsider"].pk), format="json"
    )
    assert response.status_code == 400
    assert "not a Forum member" in response.json()["lead"][0]
    for name in ("planner", "official_07"):
        assert api_as(name).post(URL, plan_data(orgs), format="json").status_code == 403
    assert not Plan.objects.exists()


def test_only_the_documented_transitions_are_accepted_and_logged(api_as, orgs, schools):
    plan = create_plan(api_as, orgs)
    client = api_as("coordinator")
    url = f"{URL}{plan['id']}/transition/"
    refused = client.post(url, {"to": "activated", "why": "storm"}, format="json")
    assert refused.status_code == 400
    assert "can only become: active" in refused.json()["to"][0]
    no_reason = client.post(url, {"to": "active", "why": " "}, format="json")
    assert no_reason.status_code == 400
    assert (
        client.post(url, {"to": "active", "why": "Approved"}, format="json").status_code
        == 200
    )
    activated = client.post(
        url,
        {"to": "activated", "why": "Storm forecast", "trigger": "TS within 80 km"},
        format="json",
    )
    assert activated.status_code == 200
    body = activated.json()
    assert body["status"] == "activated"
    snapshot = body["activations"][0]["schools"]
    # The Kampot schools only, riskiest first, as they stood at activation.
    assert [s["code"] for s in snapshot] == ["K-HIGH", "K-NAMED", "K-MID"]
    SchoolRisk.objects.filter(school__code="K-HIGH").update(score=1.0, risk_class=1)
    assert Activation.objects.get().schools[0]["risk_score"] == 7.1
    assert (
        client.post(
            url, {"to": "closed", "why": "Season over"}, format="json"
        ).status_code
        == 200
    )
    closed = client.post(url, {"to": "active", "why": "again"}, format="json")
    assert closed.status_code == 400
    assert list(
        Transition.objects.order_by("at", "id").values_list("from_status", "to_status")
    ) == [("draft", "active"), ("active", "activated"), ("activated", "closed")]
    assert (
        api_as("planner")
        .post(url, {"to": "active", "why": "x"}, format="json")
        .status_code
        == 403
    )


def test_actions_their_owners_and_the_coverage_gap(api_as, users, orgs, schools):
    plan = create_plan(api_as, orgs)
    client = api_as("coordinator")
    actions = f"{URL}{plan['id']}/actions/"
    early = client.post(
        actions,
        {
            "title": "Pre-position kits",
            "sector": "education",
            "organization": orgs["unicef"].pk,
            "due_on": "2026-05-01",
        },
        format="json",
    )
    assert early.status_code == 400
    assert "before the plan starts" in early.json()["due_on"][0]
    outsider = client.post(
        actions,
        {
            "title": "Kits",
            "sector": "education",
            "organization": orgs["outsider"].pk,
            "due_on": "2026-07-01",
        },
        format="json",
    )
    assert outsider.status_code == 400 and "organization" in outsider.json()
    made = client.post(
        actions,
        {
            "title": "Evacuation drill",
            "sector": "education",
            "organization": orgs["unicef"].pk,
            "due_on": "2026-07-01",
            "schools": ["K-NAMED"],
            "areas": ["070101"],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    action = made.json()
    assert action["overdue"] == (dt.date(2026, 7, 1) < timezone.localdate())

    # A UNICEF member updates progress, not the owner; an SCI member cannot.
    unicef_user = make_user("unicef_staff", "planner", organization=orgs["unicef"])
    from rest_framework.test import APIClient

    member = APIClient()
    member.force_authenticate(unicef_user)
    url = f"{actions}{action['id']}/"
    ok = member.patch(
        url,
        {"version": 1, "status": "in_progress", "progress": "Half done"},
        format="json",
    )
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"
    assert (
        member.patch(
            url, {"version": 2, "organization": orgs["sci"].pk}, format="json"
        ).status_code
        == 403
    )
    assert (
        api_as("planner")
        .patch(url, {"version": 2, "status": "done"}, format="json")
        .status_code
        == 403
    )
    stale = client.patch(url, {"version": 1, "status": "done"}, format="json")
    assert stale.status_code == 409

    rows = client.get(f"{URL}{plan['id']}/schools/").json()["results"]
    gaps = {r["code"]: r["coverage_gap"] for r in rows}
    assert gaps == {"K-HIGH": True, "K-NAMED": False, "K-MID": False}
    detail = client.get(f"{URL}{plan['id']}/").json()
    assert detail["readiness"]["total"] == 1 and detail["readiness"]["done"] == 0


def test_the_plan_list_filters_and_shows_readiness(api_as, api, orgs, schools):
    create_plan(api_as, orgs)
    create_plan(
        api_as,
        orgs,
        title="Typhoon, Phnom Penh",
        hazard_types=["storm"],
        coverage=["12"],
    )
    client = api_as("planner")
    titles = lambda q: [p["title"] for p in client.get(URL + q).json()["results"]]  # noqa: E731
    assert titles("?hazard=storm") == ["Typhoon, Phnom Penh"]
    assert titles("?province=07") == ["Flood season 2026, Kampot"]
    assert titles("?status=active") == []
    first = client.get(URL).json()["results"][0]
    assert first["readiness"] == {
        "total": 0,
        "done": 0,
        "overdue": 0,
        "blocked": 0,
        "share_done": None,
    }
    assert api.get(URL).status_code in (401, 403)
    assert client.get(URL + "?province=7").status_code == 400


def test_the_demo_adds_two_plans_with_actions_and_one_activation(geography):
    from django.core.management import call_command

    from plans.models import Action

    call_command(
        "load_demo", "--keep-admin-areas", "--schools", "60", "--services", "10"
    )
    plans = {p.status: p for p in Plan.objects.all()}
    assert set(plans) == {"active", "activated"}
    assert Action.objects.filter(status="done").exists()
    assert Action.objects.filter(status="blocked").exists()
    activation = Activation.objects.get()
    assert activation.schools  # the schools of the affected provinces, with risk
    event = activation.events.get()  # the flood that struck, with status reports
    assert list(event.provinces.values_list("code", flat=True)) == ["08"]
