"""Hazard classes from intensities, in Python and in SQL, the set-based
exposure queries of `hazards.sql` on any relation of points, and the track
exposure of `hazards.tracks` on any points."""

import math

import numpy as np
import pytest
from django.db import connection

from hazards import tracks
from hazards.classes import HazardType, intensity_class
from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.sql import Points, class_sql, sampled_exposure, zone_exposure
from tests.factories import box

FLOOD = (0.5, 1.5, 3.0)
WIND = (34.0, 64.0, 96.0)
Rep = HazardLayer.Representation


@pytest.mark.parametrize(
    ("intensity", "breaks", "expected"),
    [
        (None, FLOOD, 0),
        (math.nan, FLOOD, 0),
        (-1.0, FLOOD, 0),
        (0.0, FLOOD, 0),
        (0.2, FLOOD, 1),
        (0.5, FLOOD, 2),
        (1.49, FLOOD, 2),
        (1.5, FLOOD, 3),
        (3.0, FLOOD, 4),
        (12.0, FLOOD, 4),
        (33.9, WIND, 1),
        (34.0, WIND, 2),
        (95.9, WIND, 3),
        (96.0, WIND, 4),
        (5.0, (1.0,), 2),
        (5.0, (1.0, 2.0), 3),
    ],
)
def test_intensity_class(intensity, breaks, expected):
    """Class 0 when not exposed (None, NaN, <= 0); else 1 + breaks <= it, at most 4."""
    assert intensity_class(intensity, breaks) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("breaks", [FLOOD, WIND, (1.0,), (0.1, 0.2), (2.0, 2.5)])
def test_sql_class_agrees_with_python(breaks):
    """`class_sql` gives the class `intensity_class` gives, at and around each break."""
    around = [np.nextafter(b, direction) for b in breaks for direction in (-1, 1e9)]
    intensities = [
        *breaks,
        *around,
        *np.linspace(-1.0, 120.0, 241),
        0.0,
        -0.0,
        1e-12,
        math.nan,
        math.inf,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT x, {class_sql('x')} FROM unnest(%s::float8[]) AS x",
            [list(breaks), [float(x) for x in intensities]],
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT {class_sql('NULL::float8')}", [list(breaks)])
        (of_null,) = cursor.fetchone()
    assert of_null == 0
    assert len(rows) == len(intensities)
    for x, sql in rows:
        assert sql == intensity_class(x, breaks), x


def run(query) -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def points(*xy: tuple[float, float]) -> Points:
    """Points 1, 2, ... given by lon/lat, as a relation without any index."""
    return Points(
        "SELECT v.id, g.geom "
        "FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS v(id, x, y) "
        "CROSS JOIN LATERAL "
        "(SELECT ST_SetSRID(ST_MakePoint(v.x, v.y), 4326) AS geom) g",
        (
            list(range(1, len(xy) + 1)),
            [x for x, _ in xy],
            [y for _, y in xy],
        ),
    )


def layer(name, representation, breaks=FLOOD, **extra) -> HazardLayer:
    extra.setdefault("hazard_type", HazardType.RIVERINE_FLOOD)
    return HazardLayer.objects.create(
        name=name, representation=representation, breaks=list(breaks), **extra
    )


@pytest.mark.django_db
def test_zone_exposure_takes_the_highest_of_the_containing_zones():
    """Any points relation: max intensity and max class of the zones containing each
    point; points outside every zone and zones of other layers give no row."""
    flood = layer("Flood", Rep.ZONES)
    other = layer("Other flood", Rep.ZONES)
    HazardZone.objects.create(
        layer=flood,
        area=box(104.90, 11.54, 104.94, 11.58),
        intensity=0.8,
        hazard_class=2,
    )
    HazardZone.objects.create(
        layer=flood,
        area=box(104.92, 11.55, 104.96, 11.57),
        intensity=2.0,
        hazard_class=3,
    )
    HazardZone.objects.create(
        layer=other, area=box(104.0, 11.0, 105.5, 12.0), intensity=9.0, hazard_class=4
    )

    rows = run(
        zone_exposure(
            points=points((104.93, 11.56), (104.91, 11.56), (104.50, 11.20)),
            layer_id=flood.pk,
        )
    )

    assert rows == {1: (2.0, 3, None), 2: (0.8, 2, None)}


def utm(*lon_lat: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The points in metres on UTM 48N, projected by PostGIS."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p), ST_Y(p) FROM unnest(%s::float8[], %s::float8[]) "
            "WITH ORDINALITY AS v(x, y, n), "
            "ST_Transform(ST_SetSRID(ST_MakePoint(x, y), 4326), 32648) AS p "
            "ORDER BY n",
            [[p[0] for p in lon_lat], [p[1] for p in lon_lat]],
        )
        xy = np.array(cursor.fetchall(), dtype=float)
    return xy[:, 0], xy[:, 1]


@pytest.mark.django_db
def test_track_exposure_distance_and_wind_of_any_points():
    """Any points: every point gets its distance to the nearest segment; within
    the radius the wind, beyond it none (NaN)."""
    storm = layer("Storm", Rep.TRACKS, WIND, hazard_type=HazardType.STORM)
    StormTrack.objects.create(
        layer=storm,
        path="SRID=4326;LINESTRING(104.80 11.50, 105.00 11.50)",
        max_wind_kt=70,
        radius_km=5,
    )

    metres, wind = tracks.track_exposure(
        tracks.layer_segments(storm.pk), *utm((104.90, 11.52), (104.90, 11.60))
    )

    assert wind[0] == 70.0
    assert np.isnan(wind[1])
    # 0.02 and 0.10 degrees of latitude north of the track: 2.2 and 11.1 km.
    assert metres / 1000 == pytest.approx([2.21, 11.06], abs=0.01)


@pytest.mark.django_db
def test_track_exposure_agrees_with_postgis():
    """On paths of many vertices, a zero-length segment and radii that cover some
    points, the distance is PostGIS's `ST_Distance` to the nearest path (UTM 48N)
    and the wind the strongest of the paths with `ST_DWithin` their radius."""
    storm = layer("Storm", Rep.TRACKS, WIND, hazard_type=HazardType.STORM)
    paths = [
        ("LINESTRING(103.0 12.0, 103.6 12.3, 104.1 12.2, 104.9 12.9)", 80, 60),
        ("LINESTRING(105.5 11.0, 104.2 11.4)", 40, 150),
        ("LINESTRING(104.5 13.5, 104.5 13.5)", 110, 30),  # a storm standing still
        ("LINESTRING(102.6 10.6, 102.61 10.6, 103.5 10.9)", 25, 0),
    ]
    for wkt, kt, km in paths:
        StormTrack.objects.create(
            layer=storm, path=f"SRID=4326;{wkt}", max_wind_kt=kt, radius_km=km
        )
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(102.3, 107.6, 400), rng.uniform(10.4, 14.7, 400)
    x, y = utm(*zip(lon, lat, strict=True))

    metres, wind = tracks.track_exposure(tracks.layer_segments(storm.pk), x, y)

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT min(ST_Distance(t.path_utm, p)),
                   max(t.max_wind_kt) FILTER (
                       WHERE ST_DWithin(t.path_utm, p, t.radius_km * 1000))
            FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS v(x, y, n)
            CROSS JOIN LATERAL ST_SetSRID(ST_MakePoint(x, y), 32648) AS p
            JOIN hazards_stormtrack t ON t.layer_id = %s
            GROUP BY n ORDER BY n
            """,
            [x.tolist(), y.tolist(), storm.pk],
        )
        expected = np.array(cursor.fetchall(), dtype=float)
    np.testing.assert_allclose(metres, expected[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(wind, expected[:, 1])  # NULL -> NaN on both sides
    assert 0 < np.isnan(wind).sum() < len(wind)  # some covered, some not
    assert {80.0, 40.0, 110.0} <= set(wind[~np.isnan(wind)])


@pytest.mark.django_db
def test_track_exposure_of_a_layer_without_tracks():
    """No segment: no nearest one (inf) and no wind."""
    storm = layer("Storm", Rep.TRACKS, WIND, hazard_type=HazardType.STORM)

    metres, wind = tracks.track_exposure(
        tracks.layer_segments(storm.pk), *utm((104.9, 11.5))
    )

    assert np.isinf(metres).all()
    assert np.isnan(wind).all()


@pytest.mark.django_db
def test_sampled_exposure_classes_values_computed_outside():
    """Values from a table come back with their class under the breaks; NaN is
    none: a cell with no distance, a point beyond the radius with no intensity."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE sampled (id int8, intensity float8, "
            "distance_km float8)"
        )
        cursor.execute(
            "INSERT INTO sampled VALUES (7, 0.2, 'NaN'), (8, 1.5, 'NaN'), "
            "(9, 4.0, 2.5), (10, 'NaN', 30.0)"
        )

    rows = run(sampled_exposure(table="sampled", breaks=FLOOD))

    assert rows == {
        7: (0.2, 1, None),
        8: (1.5, 3, None),
        9: (4.0, 4, 2.5),
        10: (None, 0, 30.0),
    }
