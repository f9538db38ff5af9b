"""Measurable triggers: checked after hazard layer changes; met -> shown and emailed."""

import json

import pytest

from hazards.services import hazard_layer_import
from plans.models import Trigger
from tests.factories import make_school
from tests.plans.conftest import create_plan

pytestmark = pytest.mark.django_db


def storm_file(tmp_path, lat, wind, name="storm.geojson"):
    """A storm track along latitude `lat` across southern Cambodia."""
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"max_wind_kt": wind, "radius_km": 150},
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [[103.5, lat], [105.5, lat]],
                        },
                    }
                ],
            }
        )
    )
    return path


def import_layer(path, users, hazard_type, name, capture, **options):
    with capture(execute=True):
        hazard_layer_import(
            path=path,
            hazard_type=hazard_type,
            name=name,
            by=users["coordinator"],
            **options,
        )


@pytest.fixture
def storm_plan(api_as, orgs, users):
    users["coordinator"].email = "coordinator@example.org"
    users["coordinator"].save()
    return create_plan(
        api_as,
        orgs,
        measurable_triggers=[{"kind": "storm", "min_wind_kt": 34, "distance_km": 100}],
    )


def test_a_tropical_storm_within_100_km_meets_the_trigger_and_emails(
    api_as, users, storm_plan, tmp_path, django_capture_on_commit_callbacks, mailoutbox
):
    """Kampot's coverage ends at 10.4 N; a track along 10.0 N passes 44 km away."""
    client = api_as("coordinator")
    client.post(
        f"/api/plans/{storm_plan['id']}/transition/",
        {"to": "active", "why": "ok"},
        format="json",
    )
    weak = storm_file(tmp_path, 10.0, 30, "weak.geojson")
    import_layer(weak, users, "storm", "Depression", django_capture_on_commit_callbacks)
    assert not Trigger.objects.get().met  # 30 kt: below tropical-storm strength
    far = storm_file(tmp_path, 7.9, 60, "far.geojson")
    import_layer(far, users, "storm", "Far storm", django_capture_on_commit_callbacks)
    assert not Trigger.objects.get().met  # about 278 km away
    assert mailoutbox == []

    near = storm_file(tmp_path, 10.0, 50, "near.geojson")
    import_layer(near, users, "storm", "Near storm", django_capture_on_commit_callbacks)
    trigger = Trigger.objects.get()
    assert trigger.met and trigger.met_layer.name == "Near storm"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["coordinator@example.org"]
    assert "Near storm" in mailoutbox[0].body
    detail = client.get(f"/api/plans/{storm_plan['id']}/").json()
    assert detail["status"] == "active"  # activation stays a human decision
    assert detail["measurable_triggers"][0]["met"] is True


def test_a_draft_plan_is_not_watched(
    users, storm_plan, tmp_path, django_capture_on_commit_callbacks
):
    near = storm_file(tmp_path, 10.0, 50)
    import_layer(near, users, "storm", "Near storm", django_capture_on_commit_callbacks)
    assert not Trigger.objects.get().met


def test_schools_in_a_high_flood_class_meet_a_flood_trigger(
    api_as, orgs, users, tmp_path, django_capture_on_commit_callbacks
):
    for code, lon in (("K-1", 104.15), ("K-2", 104.16), ("K-3", 104.40)):
        make_school(code, lon=lon, lat=10.6, commune="070101")
    plan = create_plan(
        api_as,
        orgs,
        measurable_triggers=[{"kind": "flood", "min_class": 3, "min_schools": 1}],
    )
    api_as("coordinator").post(
        f"/api/plans/{plan['id']}/transition/",
        {"to": "active", "why": "ok"},
        format="json",
    )
    path = tmp_path / "flood.geojson"
    zone = [
        [104.1, 10.55],
        [104.2, 10.55],
        [104.2, 10.65],
        [104.1, 10.65],
        [104.1, 10.55],
    ]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"depth_m": 2.0},
                        "geometry": {"type": "Polygon", "coordinates": [zone]},
                    }
                ],
            }
        )
    )
    import_layer(
        path,
        users,
        "riverine_flood",
        "Flood",
        django_capture_on_commit_callbacks,
        intensity_field="depth_m",
    )
    trigger = Trigger.objects.get()
    assert trigger.met
    assert trigger.schools == ["K-1", "K-2"]  # 2 > 1 school in class 3 (2 m)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "storm", "min_wind_kt": 34},
        {"kind": "storm", "min_wind_kt": 34, "distance_km": 5000},
        {"kind": "flood", "min_class": 7, "min_schools": 1},
    ],
)
def test_bad_triggers_are_refused(api_as, orgs, spec):
    from tests.plans.conftest import plan_data

    response = api_as("coordinator").post(
        "/api/plans/", plan_data(orgs, measurable_triggers=[spec]), format="json"
    )
    assert response.status_code == 400
    assert "measurable_triggers[0]" in response.json()
    assert not Trigger.objects.exists()


def test_the_plan_page_says_the_trigger_is_met(
    api_as, users, storm_plan, tmp_path, django_capture_on_commit_callbacks, client
):
    api_as("coordinator").post(
        f"/api/plans/{storm_plan['id']}/transition/",
        {"to": "active", "why": "ok"},
        format="json",
    )
    page = lambda: client.get(f"/plans/{storm_plan['id']}/").content.decode()  # noqa: E731
    client.force_login(users["planner"])
    assert "Watched" in page() and "Trigger met" not in page()
    near = storm_file(tmp_path, 10.0, 50)
    import_layer(near, users, "storm", "Near storm", django_capture_on_commit_callbacks)
    assert "Trigger met" in page() and "Near storm" in page()
