"""The iCalendar feed of action due dates and its revocable secret URL."""

import datetime as dt
import hashlib
import logging
import re
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from plans import services
from plans.calendar import fold
from plans.models import Action, CalendarToken
from preparedness.models import AuditEntry, Membership, Organization
from tests.factories import make_organization, make_user

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/plans/calendar-token/"
# 110 Khmer characters (3 octets each), with characters RFC 5545 escapes.
KHMER_TITLE = (
    "រៀបចំផែនការត្រៀមលក្ខណៈសម្រាប់ទឹកជំនន់នៅសាលារៀន, ស្បៀង; ទឹកស្អាត "
    "និងកន្លែងស្នាក់នៅបណ្តោះអាសន្នសម្រាប់សិស្សានុសិស្ស\\គ្រូ"
)
START = dt.date(2026, 6, 1)


@pytest.fixture
def orgs(users):
    return {
        "sci": Organization.objects.get(acronym="SCI"),
        "unicef": make_organization("UNICEF", "UNICEF", kind="un_agency"),
        "wv": make_organization("World Vision", "", kind="ngo"),
    }


def make_plan(by, orgs, status="active", title="Flood season 2026, Kampot"):
    plan = services.plan_create(
        by=by,
        data={
            "title": title,
            "hazard_types": ["riverine_flood"],
            "starts_on": START,
            "ends_on": dt.date(2026, 11, 30),
            "lead": orgs["sci"].pk,
            "coverage": ["07"],
        },
    )
    path = {
        "draft": [],
        "active": ["active"],
        "activated": ["active", "activated"],
        "closed": ["active", "closed"],
    }[status]
    for to in path:
        services.plan_transition(by=by, plan_id=plan.pk, to=to, why="Test.")
    return plan


def make_action(by, plan, org, title="Pre-position school kits", **extra):
    data = {
        "title": title,
        "sector": "education",
        "organization": org.pk,
        "focal_person": "Sok Dara",
        "due_on": dt.date(2026, 7, 15),
        **extra,
    }
    return services.action_create(by=by, plan_id=plan.pk, data=data)


def feed_path(api_as, name):
    response = api_as(name).post(TOKEN_URL)
    assert response.status_code == 201, response.content
    return urlparse(response.json()["url"]).path


def fetch(path):
    return Client().get(path)


def parse(body: bytes):
    """Check the framing of an iCalendar body and return its events as dicts
    of property (name with parameters) -> unescaped value."""
    assert body.endswith(b"\r\n")
    physical = body.split(b"\r\n")[:-1]
    for line in physical:
        assert b"\n" not in line and b"\r" not in line  # CRLF only
        assert len(line) <= 75, line  # octets
        line.decode("utf-8")  # no character split across a fold
    logical: list[str] = []
    for line in physical:
        text = line.decode()
        if text.startswith(" "):
            logical[-1] += text[1:]
        else:
            logical.append(text)
    assert logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in logical
    assert "PRODID:-//SalaSafe//Plans//EN" in logical
    assert "X-WR-CALNAME:SalaSafe actions" in logical
    events, current = [], None
    for text in logical:
        if text == "BEGIN:VEVENT":
            current = {}
        elif text == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, value = re.match(r"^([^:]+):(.*)$", text).groups()
            # Unescaped ",", ";" would separate values: none should be left.
            assert not re.search(r"(?<!\\)(\\\\)*[,;]", value), text
            # A backslash only ever starts one of the four escapes.
            assert "\\" not in re.sub(r"\\[\\;,nN]", "", value), text
            current[name] = re.sub(
                r"\\([\\;,nN])",
                lambda m: "\n" if m[1] in "nN" else m[1],
                value,
            )
    return events


def by_uid(events):
    return {e["UID"]: e for e in events}


def test_the_feed_is_valid_icalendar_with_khmer_titles_intact(api_as, users, orgs):
    coordinator = users["coordinator"]
    plan = make_plan(coordinator, orgs, title="ផែនការ, ទឹកជំនន់; ២០២៦")
    khmer = make_action(
        coordinator,
        plan,
        orgs["sci"],
        title=KHMER_TITLE,
        focal_person="សុខ ដារា",
        status="in_progress",
    )
    other = make_action(coordinator, plan, orgs["wv"], due_on=dt.date(2026, 12, 31))

    response = fetch(feed_path(api_as, "coordinator"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert len(KHMER_TITLE.encode()) > 300  # folded over several lines
    events = by_uid(parse(response.content))
    assert set(events) == {f"action-{khmer.pk}@salasafe", f"action-{other.pk}@salasafe"}
    event = events[f"action-{khmer.pk}@salasafe"]
    assert event["SUMMARY"] == f"{KHMER_TITLE} (SCI)"
    assert event["DTSTART;VALUE=DATE"] == "20260715"
    assert event["DTEND;VALUE=DATE"] == "20260716"
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
    assert event["STATUS"] == "CONFIRMED"
    description = event["DESCRIPTION"].split("\n")
    assert description[0].endswith("ផែនការ, ទឹកជំនន់; ២០២៦")
    assert "Education" in description[1]
    assert "In progress" in description[2]
    assert "សុខ ដារា" in description[3]
    # An organization without an acronym is named; an all-day event at year end.
    event = events[f"action-{other.pk}@salasafe"]
    assert event["SUMMARY"] == "Pre-position school kits (World Vision)"
    assert event["DTEND;VALUE=DATE"] == "20270101"


@pytest.mark.parametrize("size", [1, 74, 75, 76, 200])
def test_folding_counts_octets_and_never_splits_a_character(size):
    for char in ("a", "ក", "😀"):
        line = "SUMMARY:" + char * size
        folded = fold(line).split("\r\n")
        assert all(len(part.encode()) <= 75 for part in folded)
        assert all(part.startswith(" ") for part in folded[1:])
        assert folded[0] + "".join(part[1:] for part in folded[1:]) == line


def test_only_open_actions_of_active_or_activated_plans(api_as, users, orgs):
    coordinator = users["coordinator"]
    expected = set()
    for status in ("draft", "active", "activated", "closed"):
        plan = make_plan(coordinator, orgs, status=status, title=f"Plan {status}")
        for action_status in ("not_started", "in_progress", "blocked", "done"):
            action = make_action(
                coordinator, plan, orgs["sci"], title=f"{status} {action_status}"
            )
            Action.objects.filter(pk=action.pk).update(status=action_status)
            if status in ("active", "activated") and action_status != "done":
                expected.add(f"action-{action.pk}@salasafe")

    events = parse(fetch(feed_path(api_as, "coordinator")).content)

    assert {e["UID"] for e in events} == expected
    assert len(expected) == 6


def test_coordinators_and_administrators_see_all_others_their_organization(
    api_as, users, orgs
):
    coordinator = users["coordinator"]
    plan = make_plan(coordinator, orgs)
    sci = make_action(coordinator, plan, orgs["sci"], title="SCI action")
    unicef = make_action(coordinator, plan, orgs["unicef"], title="UNICEF action")
    everything = {f"action-{sci.pk}@salasafe", f"action-{unicef.pk}@salasafe"}
    users["unicef_member"] = make_user(
        "unicef_member", Membership.Role.PLANNER, organization=orgs["unicef"]
    )
    users["no_role"] = make_user("no_role")

    def uids(name):
        return {e["UID"] for e in parse(fetch(feed_path(api_as, name)).content)}

    assert uids("coordinator") == everything
    assert uids("admin") == everything  # administrator of no organization
    assert uids("planner") == {f"action-{sci.pk}@salasafe"}
    assert uids("official_07") == {f"action-{sci.pk}@salasafe"}
    assert uids("unicef_member") == {f"action-{unicef.pk}@salasafe"}
    assert uids("no_role") == set()


def test_a_new_token_revokes_the_old_one(api_as, users):
    first = feed_path(api_as, "planner")
    assert fetch(first).status_code == 200

    second = feed_path(api_as, "planner")

    assert second != first
    assert fetch(first).status_code == 404
    assert fetch(second).status_code == 200
    tokens = CalendarToken.objects.filter(user=users["planner"])
    assert tokens.count() == 2 and tokens.filter(revoked_at__isnull=True).count() == 1
    audited = AuditEntry.objects.filter(subject_type="calendar_token")
    assert sorted(audited.values_list("action", flat=True)) == [
        "created",
        "created",
        "revoked",
    ]
    assert set(audited.values_list("actor__username", flat=True)) == {"planner"}


def test_revoking_makes_the_feed_404_and_is_not_logged(api_as, users, caplog):
    path = feed_path(api_as, "planner")
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")

    response = api_as("planner").delete(TOKEN_URL)

    assert response.status_code == 204
    with caplog.at_level(logging.DEBUG):
        gone = fetch(path)
    assert gone.status_code == 404
    assert gone["Content-Type"].startswith("text/plain")
    assert secret not in caplog.text
    assert AuditEntry.objects.filter(
        subject_type="calendar_token", action="revoked"
    ).exists()
    assert api_as("planner").delete(TOKEN_URL).status_code == 204  # idempotent


def test_unknown_secrets_and_inactive_users_are_404(api_as, users):
    assert fetch("/plans/calendar/not-a-secret.ics").status_code == 404
    assert fetch("/plans/calendar/" + "x" * 500 + ".ics").status_code == 404
    path = feed_path(api_as, "planner")
    users["planner"].is_active = False
    users["planner"].save()
    assert fetch(path).status_code == 404


def test_only_the_hash_of_the_secret_is_stored(api_as, users):
    response = api_as("coordinator").post(TOKEN_URL)
    secret = urlparse(response.json()["url"]).path.split("/")[-1][: -len(".ics")]
    assert response["Cache-Control"] == "no-store, private"

    token = CalendarToken.objects.get()
    assert len(secret) >= 43
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM plans_calendartoken")
        row = cursor.fetchone()
        cursor.execute("SELECT changes::text, note FROM preparedness_auditentry")
        audit_rows = cursor.fetchall()
    assert not any(secret in str(value) for value in row)
    assert not any(secret in str(value) for r in audit_rows for value in r)


def test_anonymous_visitors_cannot_create_or_revoke_tokens(api, users):
    assert api.post(TOKEN_URL).status_code in (401, 403)
    assert api.delete(TOKEN_URL).status_code in (401, 403)
    assert not CalendarToken.objects.exists()


def test_the_feed_takes_as_many_queries_for_2_as_for_20_actions(api_as, users, orgs):
    coordinator = users["coordinator"]
    plan = make_plan(coordinator, orgs)
    for i in range(2):
        make_action(coordinator, plan, orgs["sci"], title=f"Action {i}")
    path = feed_path(api_as, "coordinator")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = fetch(path)
        assert response.status_code == 200
        return len(queries), response.content.count(b"BEGIN:VEVENT")

    few = count()
    for i in range(2, 20):
        make_action(coordinator, plan, orgs["unicef"], title=f"Action {i}")
    many = count()

    assert few[1] == 2 and many[1] == 20
    assert few[0] == many[0] <= 5
