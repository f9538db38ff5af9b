"""Emergency events and school status reports: who may report what, batches
written whole or not at all, the situation report and its change, files, audit."""

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from plans.models import Event, StatusReport
from preparedness.models import AuditEntry
from schools.models import School
from tests.factories import make_school

pytestmark = pytest.mark.django_db
URL = "/api/events/"
TODAY = timezone.localdate()
DAY1 = TODAY - dt.timedelta(days=2)
DAY2 = TODAY - dt.timedelta(days=1)


def learners(code, n):
    School.objects.filter(code=code).update(
        enrolment_girls=n // 2, enrolment_boys=n - n // 2
    )


@pytest.fixture
def event(api_as, schools):
    for code in ("K-HIGH", "K-MID", "K-NAMED", "PP-1"):
        learners(code, 300)
    School.objects.filter(code="K-HIGH").update(name_km="សាលាបឋមសិក្សាកំពត")
    response = api_as("coordinator").post(
        URL,
        {
            "name": "Mekong flood 2026",
            "hazard_type": "riverine_flood",
            "starts_on": DAY1.isoformat(),
            "provinces": ["07", "12"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def report(client, event, *rows):
    return client.post(
        f"{URL}{event['id']}/reports/", {"reports": list(rows)}, format="json"
    )


def row(school, day, status="open", **flags):
    return {"school": school, "reported_on": day.isoformat(), "status": status, **flags}


def test_only_coordinators_open_events_and_bad_events_are_refused(api_as, schools):
    body = {
        "name": "Storm",
        "hazard_type": "storm",
        "starts_on": TODAY.isoformat(),
        "provinces": ["07"],
    }
    for role in ("planner", "official_07"):
        assert api_as(role).post(URL, body, format="json").status_code == 403
    coordinator = api_as("coordinator")
    bad = coordinator.post(URL, {**body, "provinces": ["0701", "99"]}, format="json")
    assert bad.status_code == 400
    assert "0701, 99" in bad.json()["provinces"][0]
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    bad = coordinator.post(URL, {**body, "starts_on": future}, format="json")
    assert bad.status_code == 400 and "future" in bad.json()["starts_on"][0]
    assert not Event.objects.exists()
    made = coordinator.post(URL, body, format="json")
    assert made.status_code == 201
    entry = AuditEntry.objects.get(subject_type="event")
    assert entry.changes["provinces"] == [None, ["07"]]


def test_an_official_reports_on_schools_of_their_area_only(api_as, event):
    official = api_as("official_07")
    ok = report(official, event, row("K-HIGH", DAY1, "closed", flooded=True))
    assert ok.status_code == 201, ok.json()
    # Phnom Penh (12) is affected but outside the official's areas: refused,
    # and the Kampot row of the same batch is not written either.
    refused = report(official, event, row("K-MID", DAY1), row("PP-1", DAY1))
    assert refused.status_code == 403
    assert "reports[1]" in refused.json()["detail"][0]
    assert StatusReport.objects.count() == 1
    assert api_as("planner").post(f"{URL}{event['id']}/reports/", {}).status_code == 403
    # The coordinator reports anywhere the event reaches.
    assert report(api_as("coordinator"), event, row("PP-1", DAY1)).status_code == 201


def test_bad_rows_are_named_and_nothing_is_written(api_as, event, geography):
    make_school("KD-1", lon=104.95, lat=11.42, commune="080101")  # Kandal: not affected
    official = api_as("coordinator")
    cases = [
        (row("NOPE", DAY1), "reports[0].school", "NOPE"),
        (row("KD-1", DAY1), "reports[0].school", "not in a province"),
        (
            row("K-HIGH", DAY1 - dt.timedelta(days=1)),
            "reports[0].reported_on",
            "started",
        ),
        (
            row("K-HIGH", TODAY + dt.timedelta(days=1)),
            "reports[0].reported_on",
            "future",
        ),
        (
            row("K-HIGH", DAY1, learners_affected=301),
            "reports[0].learners_affected",
            "300",
        ),
        (row("K-HIGH", DAY1, status="gone"), "reports[0].status", ""),
    ]
    for bad, field, words in cases:
        response = report(official, event, bad)
        assert response.status_code == 400, (bad, response.json())
        assert words in response.json()[field][0], response.json()
    twice = report(official, event, row("K-MID", DAY1), row("K-MID", DAY1, "closed"))
    assert twice.status_code == 400
    assert "twice" in twice.json()["reports[1].school"][0]
    mixed = report(official, event, row("K-MID", DAY1), row("NOPE", DAY1))
    assert mixed.status_code == 400 and list(mixed.json()) == ["reports[1].school"]
    assert not StatusReport.objects.exists()
    assert not AuditEntry.objects.filter(subject_type="school_status").exists()


def test_reporting_again_the_same_day_corrects_it_and_is_audited(api_as, event):
    official = api_as("official_07")
    report(official, event, row("K-HIGH", DAY1, "closed", learners_affected=120))
    again = report(official, event, row("K-HIGH", DAY1, "closed", learners_affected=90))
    assert again.status_code == 201
    only = StatusReport.objects.get()
    assert only.learners_affected == 90
    entries = AuditEntry.objects.filter(subject_type="school_status").order_by("id")
    assert [e.action for e in entries] == ["reported", "corrected"]
    assert entries[1].changes == {"learners_affected": [120, 90]}
    assert entries[1].actor.username == "official_07"


def sitrep_row(data, province, district):
    return next(
        r
        for r in data["rows"]
        if r["province"] == province and r["district"] == district
    )


def test_the_situation_report_counts_latest_status_and_change(api_as, event):
    coordinator = api_as("coordinator")
    report(
        coordinator,
        event,
        row("K-HIGH", DAY1, "closed", flooded=True, learners_affected=300),
        row("K-MID", DAY1, "open", shelter=True),
    )
    report(
        coordinator,
        event,
        row("K-HIGH", DAY2, "open"),  # reopened
        row("K-NAMED", DAY2, "closed", damaged=True, learners_affected=200),
        row("PP-1", DAY2, "closed", flooded=True, learners_affected=50),
    )
    data = coordinator.get(f"{URL}{event['id']}/sitrep/").json()
    assert data["as_of"] == DAY2.isoformat() and data["previous"] == DAY1.isoformat()
    district = sitrep_row(data, "07", "0701")
    assert district["name_en"] == "Angkor Chey"
    # K-HIGH open (latest), K-MID still sheltering (day 1), K-NAMED closed and damaged.
    assert [district[k] for k in ("reporting", "closed", "flooded", "damaged")] == [
        3,
        1,
        0,
        1,
    ]
    assert district["shelter"] == 1 and district["learners_affected"] == 200
    assert district["change"] == {
        "reporting": 1,
        "closed": 0,
        "flooded": -1,
        "damaged": 1,
        "shelter": 0,
        "learners_affected": -100,
    }
    total = sitrep_row(data, None, None)
    assert total["reporting"] == 4 and total["closed"] == 2
    assert total["learners_affected"] == 250
    assert sitrep_row(data, "12", None)["change"]["reporting"] == 1
    first = coordinator.get(f"{URL}{event['id']}/sitrep/?as_of={DAY1}").json()
    assert first["previous"] is None
    assert sitrep_row(first, None, None)["closed"] == 1
    bad = coordinator.get(f"{URL}{event['id']}/sitrep/?as_of=yesterday")
    assert bad.status_code == 400 and "as_of" in bad.json()


def test_files_carry_the_latest_status_with_khmer_names(api_as, event):
    coordinator = api_as("coordinator")
    report(coordinator, event, row("K-HIGH", DAY1, "closed", flooded=True))
    report(
        coordinator,
        event,
        row("K-HIGH", DAY2, "closed", shelter=True, note='=HYPERLINK("x")'),
    )
    base = f"{URL}{event['id']}/"
    geo = coordinator.get(base + "schools.geojson")
    assert geo["Content-Type"].startswith("application/geo+json")
    features = json.loads(geo.content)["features"]
    assert len(features) == 1
    assert features[0]["geometry"]["coordinates"] == [104.15, 10.6]
    props = features[0]["properties"]
    assert props["name_km"] == "សាលាបឋមសិក្សាកំពត"
    assert props["reported_on"] == DAY2.isoformat() and props["shelter"] is True
    text = coordinator.get(base + "schools.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["name_km"] == "សាលាបឋមសិក្សាកំពត" and rows[0]["flooded"] == "False"
    assert rows[0]["note"] == '\'=HYPERLINK("x")'  # a formula is written as text
    table = coordinator.get(base + "sitrep.csv").content.decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(table)))
    assert [r["level"] for r in lines] == ["province", "district", "total"]
    assert lines[1]["name_km"] == "អង្គរជ័យ" and lines[1]["closed"] == "1"
    assert Client().get(base + "schools.geojson").status_code in (401, 403)


def test_the_event_page_shows_the_table_and_takes_a_report(users, event):
    client = Client()
    client.force_login(users["official_07"])
    page = client.get(f"/events/{event['id']}/")
    assert page.status_code == 200
    assert "Mekong flood 2026" in page.content.decode()
    assert 'name="school"' in page.content.decode()
    saved = client.post(
        f"/events/{event['id']}/",
        {
            "school": "K-HIGH",
            "reported_on": DAY2.isoformat(),
            "status": "closed",
            "flooded": "on",
            "learners_affected": "40",
        },
    )
    assert saved.status_code == 302
    made = StatusReport.objects.get()
    assert made.flooded and not made.damaged and made.learners_affected == 40
    table = client.get(f"/events/{event['id']}/").content.decode()
    assert "Angkor Chey" in table
    bad = client.post(
        f"/events/{event['id']}/",
        {"school": "PP-1", "reported_on": DAY2.isoformat(), "status": "open"},
    )
    assert bad.status_code == 400
    assert "outside your areas" in bad.content.decode()
    planner = Client()
    planner.force_login(users["planner"])
    assert (
        'name="school"' not in planner.get(f"/events/{event['id']}/").content.decode()
    )
    assert Client().get(f"/events/{event['id']}/").status_code == 302
