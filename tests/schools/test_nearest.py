"""The nearest open service of each kind to every school (schools.risk.nearest).

Distances are checked against the same points projected to UTM 48N in Python
(GDAL, not PostGIS) and against a hand figure: 0.01 degree of latitude here is
about 1.106 km (1.1059 km in UTM 48N, scale 0.9996 near 105 E).
"""

import json
import random

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schools.models import RiskSettings, School, SchoolAccess, Service
from schools.risk.nearest import nearest_services_refresh
from tests.factories import make_school, make_service

K = Service.Kind
pytestmark = pytest.mark.django_db


def utm_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line km between two lon/lat points, in UTM 48N, computed by GDAL."""
    pa = Point(*a, srid=4326).transform(32648, clone=True)
    pb = Point(*b, srid=4326).transform(32648, clone=True)
    return pa.distance(pb) / 1000


def access(school: School) -> SchoolAccess:
    return SchoolAccess.objects.get(pk=school.pk)


SCHOOL = (104.92, 11.56)


def test_nearest_of_each_kind_with_its_distance(geography):
    school = make_school("S1", *SCHOOL)
    make_service("CCWC-FAR", 104.92, 11.575, kind=K.CCWC)
    make_service("CCWC-NEAR", 104.92, 11.57, kind=K.CCWC)
    make_service("HC-1", 104.93, 11.56, kind=K.HEALTH_CENTRE)
    make_service("SHELTER-1", 104.94, 11.55, kind=K.SAFE_SHELTER, sensitive=True)

    assert nearest_services_refresh() == 1

    nearest = access(school).nearest
    assert set(nearest) == {"ccwc", "health_centre", "safe_shelter"}  # no others
    ccwc = nearest["ccwc"]
    assert ccwc["code"] == "CCWC-NEAR"
    assert ccwc["km"] == pytest.approx(utm_km(SCHOOL, (104.92, 11.57)), abs=0.001)
    assert ccwc["km"] == pytest.approx(1.106, abs=0.01)
    # Flags appear only when true.
    assert ccwc == {"code": "CCWC-NEAR", "km": ccwc["km"]}
    hc = nearest["health_centre"]
    assert hc["code"] == "HC-1"
    # 0.01 degree of longitude at 11.56 N: 1.0904 km on the ellipsoid.
    assert hc["km"] == pytest.approx(utm_km(SCHOOL, (104.93, 11.56)), abs=0.001)
    assert hc["km"] == pytest.approx(1.09, abs=0.01)
    shelter = nearest["safe_shelter"]
    assert shelter["sensitive"] is True
    assert shelter["km"] == pytest.approx(utm_km(SCHOOL, (104.94, 11.55)), abs=0.001)


def test_equal_distances_go_to_the_lowest_code(geography):
    school = make_school("S1", *SCHOOL)
    # Two social workers at the same office, and a third farther away.
    make_service("SW-B", 104.925, 11.565, kind=K.SOCIAL_WORKER)
    make_service("SW-A", 104.925, 11.565, kind=K.SOCIAL_WORKER)
    make_service("SW-0", 104.935, 11.565, kind=K.SOCIAL_WORKER)

    nearest_services_refresh()

    assert access(school).nearest["social_worker"]["code"] == "SW-A"


def test_a_service_in_a_high_hazard_class_is_flagged_with_the_nearest_available(
    geography,
):
    school = make_school("S1", *SCHOOL)
    make_service("HC-FLOODED", 104.925, 11.56, kind=K.HEALTH_CENTRE, hazard_level=3)
    make_service("HC-ALSO-FLOODED", 104.93, 11.56, kind=K.HEALTH_CENTRE, hazard_level=4)
    make_service("HC-DRY", 104.94, 11.56, kind=K.HEALTH_CENTRE, hazard_level=2)
    make_service("HC-DRY-FAR", 104.945, 11.56, kind=K.HEALTH_CENTRE)
    make_service("POLICE-1", 104.92, 11.565, kind=K.POLICE_POST, hazard_level=2)
    make_service("SHELTER-1", 104.92, 11.57, kind=K.SAFE_SHELTER, hazard_level=3)

    nearest_services_refresh()

    nearest = access(school).nearest
    assert nearest["health_centre"] == {
        "code": "HC-FLOODED",
        "km": pytest.approx(utm_km(SCHOOL, (104.925, 11.56)), abs=0.001),
        "unavailable": True,
        "available_code": "HC-DRY",
        "available_km": pytest.approx(utm_km(SCHOOL, (104.94, 11.56)), abs=0.001),
    }
    # Medium (2) is below the default "unavailable from" class (3, high).
    assert "unavailable" not in nearest["police_post"]
    assert "available_code" not in nearest["police_post"]
    # None of its kind available: said so, with nulls.
    shelter = nearest["safe_shelter"]
    assert shelter["unavailable"] is True
    assert shelter["available_code"] is None
    assert shelter["available_km"] is None
    assert "available_sensitive" not in shelter

    # The class it starts from is a setting.
    RiskSettings.objects.update_or_create(pk=1, defaults={"unavailable_from_class": 2})
    nearest_services_refresh()
    police = access(school).nearest["police_post"]
    assert police["unavailable"] is True
    assert police["available_code"] is None
    assert access(school).nearest["health_centre"]["available_code"] == "HC-DRY-FAR"


def test_closed_services_are_ignored(geography):
    school = make_school("S1", *SCHOOL)
    make_service("CCWC-CLOSED", 104.921, 11.56, kind=K.CCWC, status="closed")
    make_service("CCWC-OPEN", 104.93, 11.56, kind=K.CCWC)
    make_service("POLICE-CLOSED", 104.921, 11.56, kind=K.POLICE_POST, status="closed")

    nearest_services_refresh()

    nearest = access(school).nearest
    assert nearest["ccwc"]["code"] == "CCWC-OPEN"
    assert "police_post" not in nearest


def test_focal_point_is_the_nearest_ccwc_or_social_worker(geography):
    near_worker = make_school("S1", *SCHOOL)
    no_focal_point = make_school("S2", 104.10 + 0.05, 10.60, commune="070101")
    make_service("CCWC-1", 104.92, 11.58, kind=K.CCWC)  # 2.2 km
    make_service("SW-1", 104.92, 11.57, kind=K.SOCIAL_WORKER, hazard_level=4)  # 1.1
    make_service("HC-1", 104.92, 11.561, kind=K.HEALTH_CENTRE)  # not a focal point
    nearest_services_refresh()

    row = access(near_worker)
    assert row.focal_point_km == pytest.approx(
        utm_km(SCHOOL, (104.92, 11.57)), abs=0.001
    )
    assert row.focal_point_km == row.nearest["social_worker"]["km"]
    # The other school, 100 km away: the nearer of the two, whatever its class.
    far = access(no_focal_point)
    ccwc, worker = far.nearest["ccwc"]["km"], far.nearest["social_worker"]["km"]
    assert far.focal_point_km == min(ccwc, worker)
    assert ccwc != worker
    assert far.focal_point_km > 100

    Service.objects.filter(kind__in=[K.CCWC, K.SOCIAL_WORKER]).update(status="closed")
    nearest_services_refresh()
    assert access(near_worker).focal_point_km is None
    assert set(access(near_worker).nearest) == {"health_centre"}


def test_recomputing_some_schools_leaves_the_others_untouched(geography):
    first = make_school("S1", *SCHOOL)
    second = make_school("S2", 104.93, 11.57)
    hc = make_service("HC-1", 104.925, 11.565, kind=K.HEALTH_CENTRE)
    nearest_services_refresh()
    before = access(second)

    hc.location = Point(104.921, 11.56, srid=4326)
    hc.save()
    make_service("HC-2", 104.931, 11.57, kind=K.HEALTH_CENTRE)
    assert nearest_services_refresh([first.pk]) == 1

    assert access(first).nearest["health_centre"]["km"] < 0.2
    after = access(second)
    assert after.nearest == before.nearest
    assert after.computed_at == before.computed_at
    # An unchanged recompute writes nothing and keeps `computed_at`.
    nearest_services_refresh()
    assert access(second).nearest["health_centre"]["code"] == "HC-2"
    again = access(first).computed_at
    assert nearest_services_refresh() == 0
    assert access(first).computed_at == again


def test_closed_schools_lose_their_rows(geography):
    kept = make_school("S1", *SCHOOL)
    closing = make_school("S2", 104.93, 11.57)
    other = make_school("S3", 104.94, 11.57)
    make_service("HC-1", 104.925, 11.565, kind=K.HEALTH_CENTRE)
    nearest_services_refresh()
    assert SchoolAccess.objects.count() == 3

    School.objects.filter(pk__in=[closing.pk, other.pk]).update(status="closed")
    assert nearest_services_refresh([closing.pk]) == 1
    assert set(SchoolAccess.objects.values_list("pk", flat=True)) == {
        kept.pk,
        other.pk,
    }
    assert nearest_services_refresh() == 1
    assert set(SchoolAccess.objects.values_list("pk", flat=True)) == {kept.pk}


def _schools(n: int) -> None:
    for i in range(n):
        make_school(f"S{i:03d}", 104.901 + 0.0015 * i, 11.55)


def test_queries_do_not_grow_with_the_schools(geography, django_assert_max_num_queries):
    make_service("HC-1", 104.925, 11.565, kind=K.HEALTH_CENTRE, hazard_level=3)
    make_service("HC-2", 104.935, 11.565, kind=K.HEALTH_CENTRE)
    _schools(3)
    with CaptureQueriesContext(connection) as few:
        nearest_services_refresh()
    School.objects.all().delete()
    _schools(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert nearest_services_refresh() == 30
    assert SchoolAccess.objects.count() == 30


def test_the_engine_agrees_with_a_postgis_nearest_neighbour_query(geography):
    """On random places, every nearest service is the one PostGIS's KNN finds
    (`ORDER BY location_utm <-> ...`), at the distance `ST_Distance` gives."""
    rng = random.Random(7)
    kinds = [K.CCWC, K.SOCIAL_WORKER, K.SAFE_SHELTER, K.HEALTH_CENTRE]
    for i in range(150):
        make_school(f"R{i:03d}", rng.uniform(104.90, 104.95), rng.uniform(11.54, 11.58))
    for i in range(60):
        make_service(
            f"V{i:03d}",
            rng.uniform(104.85, 105.00),
            rng.uniform(11.50, 11.62),
            kind=kinds[i % len(kinds)],
            hazard_level=rng.choice([0, 0, 0, 3]),
        )
    nearest_services_refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.code, k.kind, n.code, n.m, a.nearest -> k.kind
            FROM schools_school s
            JOIN schools_schoolaccess a ON a.school_id = s.id
            CROSS JOIN unnest(%s::text[]) AS k(kind)
            CROSS JOIN LATERAL (
                SELECT v.code, ST_Distance(v.location_utm, s.location_utm) AS m
                FROM schools_service v WHERE v.kind = k.kind AND v.status = 'open'
                ORDER BY v.location_utm <-> s.location_utm, v.code LIMIT 1) n
            """,
            [[str(k) for k in kinds]],
        )
        rows = cursor.fetchall()
    assert len(rows) == 150 * len(kinds)
    for school, kind, code, metres, entry in rows:
        entry = json.loads(entry) if isinstance(entry, str) else entry
        assert entry["code"] == code, (school, kind)
        assert entry["km"] == pytest.approx(metres / 1000, abs=0.0005)


def test_a_service_inside_an_imported_flood_zone_becomes_unavailable(
    geography, tmp_path, users, django_capture_on_commit_callbacks
):
    """The whole chain: a flood layer import puts a health centre in class 3
    (exposure), then the nearest-services refresh flags it and names the nearest
    dry one, and the school's risk is recomputed."""
    from hazards.services import hazard_layer_import
    from schools.models import SchoolRisk

    school = make_school("S1", *SCHOOL, enrolment_girls=150, enrolment_boys=150)
    make_service("HC-WET", 104.925, 11.56, kind=K.HEALTH_CENTRE)
    make_service("HC-DRY", 104.935, 11.56, kind=K.HEALTH_CENTRE)
    zone = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"depth_m": 2.0},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [104.915, 11.555],
                            [104.93, 11.555],
                            [104.93, 11.565],
                            [104.915, 11.565],
                            [104.915, 11.555],
                        ]
                    ],
                },
            }
        ],
    }
    path = tmp_path / "flood.geojson"
    path.write_text(json.dumps(zone))
    with django_capture_on_commit_callbacks(execute=True):
        hazard_layer_import(
            path=path,
            hazard_type="riverine_flood",
            name="Flood 2013",
            by=users["coordinator"],
            intensity_field="depth_m",
        )
    health = access(school).nearest["health_centre"]
    assert (health["code"], health["unavailable"]) == ("HC-WET", True)
    assert health["available_code"] == "HC-DRY"
    risk = SchoolRisk.objects.get(school=school)
    assert risk.hazard == 7.5  # the school is in the same class-3 zone
    assert risk.assessed is False and risk.risk_class == 5
