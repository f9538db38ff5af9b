"""Exposure of schools and services to hazard layers: zones, rasters and tracks,
hazard levels, recompute after layer changes, the command and the API.

Stored rows: a place has a row on a layer when it is exposed (class > 0) and, on
a track layer, always (its distance is kept); no row means class 0.
"""

import datetime as dt
from io import StringIO

import numpy as np
import pytest
import rasterio
import shapely
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rasterio.transform import from_origin
from rasterio.warp import transform
from shapely.geometry import LineString

from hazards import rasters
from hazards.callbacks import LayerChange, layers_changed
from hazards.classes import HazardType
from hazards.models import HazardLayer, HazardZone, StormTrack
from schools.exposure import exposure_recompute
from schools.models import Exposure, School, Service
from tests.factories import box, make_school, make_service

FLOOD = [0.5, 1.5, 3.0]
WIND = [34.0, 64.0, 96.0]
Rep = HazardLayer.Representation


def flood_layer(name="Mekong flood 2013", **extra) -> HazardLayer:
    extra.setdefault("hazard_type", HazardType.RIVERINE_FLOOD)
    extra.setdefault("breaks", FLOOD)
    extra.setdefault("units", "m")
    return HazardLayer.objects.create(name=name, representation=Rep.ZONES, **extra)


def zone(layer, area, intensity, hazard_class) -> HazardZone:
    return HazardZone.objects.create(
        layer=layer, area=area, intensity=intensity, hazard_class=hazard_class
    )


def storm_layer(name="Ketsana 2009", **extra) -> HazardLayer:
    return HazardLayer.objects.create(
        name=name,
        hazard_type=HazardType.STORM,
        representation=Rep.TRACKS,
        breaks=WIND,
        units="kt",
        **extra,
    )


def track(layer, coords, wind, radius_km) -> StormTrack:
    line = ", ".join(f"{x} {y}" for x, y in coords)
    return StormTrack.objects.create(
        layer=layer,
        path=f"SRID=4326;LINESTRING({line})",
        max_wind_kt=wind,
        radius_km=radius_km,
    )


def exposures(layer) -> dict[str, tuple]:
    """The stored rows of a layer: place code -> (intensity, class, distance_km)."""
    rows = Exposure.objects.filter(layer=layer).select_related("school", "service")
    return {
        (e.school or e.service).code: (e.intensity, e.hazard_class, e.distance_km)
        for e in rows
    }


def to_utm(lon: float, lat: float) -> tuple[float, float]:
    xs, ys = transform("EPSG:4326", "EPSG:32648", [lon], [lat])
    return xs[0], ys[0]


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    lons, lats = transform("EPSG:32648", "EPSG:4326", [x], [y])
    return lons[0], lats[0]


def utm_km(lon, lat, coords) -> float:
    """Distance in km from a point to a line, both projected to UTM 48N."""
    line = LineString([to_utm(x, y) for x, y in coords])
    return shapely.Point(to_utm(lon, lat)).distance(line) / 1000


# Zones


@pytest.fixture
def flood(geography):
    """A flood layer around Phnom Penh and Kampot.

    A: 104.90-104.94 x 11.54-11.58, 0.8 m, class 2; B overlaps it: 104.92-104.96 x
    11.55-11.57, 2.0 m, class 3; C has two parts in Kampot, 0.3 m, class 1; D in
    Kandal is 104.90-105.00 x 11.40-11.45 with a hole 104.94-104.96 x 11.41-11.43,
    3.5 m, class 4.
    """
    layer = flood_layer()
    zone(layer, box(104.90, 11.54, 104.94, 11.58), 0.8, 2)
    zone(layer, box(104.92, 11.55, 104.96, 11.57), 2.0, 3)
    two_parts = box(104.10, 10.55, 104.15, 10.60)
    two_parts.append(box(104.20, 10.62, 104.25, 10.67)[0])
    zone(layer, two_parts, 0.3, 1)
    ring = "SRID=4326;MULTIPOLYGON(((104.90 11.40, 105.00 11.40, 105.00 11.45, " \
        "104.90 11.45, 104.90 11.40), (104.94 11.41, 104.96 11.41, 104.96 11.43, " \
        "104.94 11.43, 104.94 11.41)))"  # fmt: skip
    zone(layer, ring, 3.5, 4)
    return layer


def test_overlapping_zones_take_the_highest(flood):
    """A point in two overlapping zones takes the higher intensity and class."""
    make_school("IN-A-AND-B", 104.93, 11.56)
    make_school("IN-A-ONLY", 104.91, 11.56)
    make_service("SRV-IN-A-AND-B", 104.93, 11.57)

    exposure_recompute()

    assert exposures(flood) == {
        "IN-A-AND-B": (2.0, 3, None),
        "IN-A-ONLY": (0.8, 2, None),
        "SRV-IN-A-AND-B": (2.0, 3, None),
    }


def test_zone_intensity_and_class_are_each_the_highest(geography):
    """Overlapping zones give the highest intensity and the highest stored class,
    even when they come from different zones (a class field may disagree)."""
    layer = flood_layer()
    zone(layer, box(104.90, 11.54, 104.94, 11.58), 5.0, 1)
    zone(layer, box(104.90, 11.54, 104.94, 11.58), 0.2, 4)
    make_school("IN-BOTH", 104.92, 11.56)

    exposure_recompute()

    assert exposures(layer) == {"IN-BOTH": (5.0, 4, None)}


def test_a_multipart_zone_covers_each_part(flood):
    """A point in either part of a multipart zone is inside it."""
    make_school("PART-1", 104.12, 10.58, "070101")
    make_school("PART-2", 104.22, 10.65, "070101")
    make_school("BETWEEN", 104.18, 10.61, "070101")

    exposure_recompute()

    assert exposures(flood) == {"PART-1": (0.3, 1, None), "PART-2": (0.3, 1, None)}


def test_a_point_in_a_hole_is_outside(flood):
    """A point in a zone's hole is not exposed (no row, class 0); around it, it is."""
    make_school("IN-HOLE", 104.95, 11.42, "080101")
    make_school("IN-RING", 104.91, 11.42, "080101")

    exposure_recompute()

    assert exposures(flood) == {"IN-RING": (3.5, 4, None)}
    assert School.objects.get(code="IN-HOLE").hazard_level == 0


def test_a_point_on_a_boundary_is_inside(flood):
    """Points exactly on a zone's outer edge or on its hole's edge count as inside."""
    make_school("ON-B-EDGE", 104.96, 11.56)
    make_school("ON-HOLE-EDGE", 104.94, 11.42, "080101")
    make_school("JUST-OUT", 104.9601, 11.56)

    exposure_recompute()

    assert exposures(flood) == {
        "ON-B-EDGE": (2.0, 3, None),
        "ON-HOLE-EDGE": (3.5, 4, None),
    }


def test_a_point_outside_every_layer_is_not_exposed(flood):
    """A place outside every zone has no row, hazard level 0 and no exposed type."""
    school = make_school("NOWHERE", 104.50, 11.00, "080101")

    exposure_recompute()

    school.refresh_from_db()
    assert Exposure.objects.count() == 0
    assert (school.hazard_level, school.hazard_levels) == (0, {})


# Rasters

RASTER_ORIGIN = (490_000.0, 1_280_000.0)  # top left, UTM 48N, 1 km cells
RASTER_VALUES = [
    [0.2, 1.0, 2.0, 4.0],
    [-9999.0, 0.0, 0.6, 3.0],
    [5.0, 5.0, 5.0, 5.0],
]


def cell_centre(row: int, col: int) -> tuple[float, float]:
    x0, y0 = RASTER_ORIGIN
    return to_lonlat(x0 + 1000 * col + 500, y0 - 1000 * row - 500)


@pytest.fixture
def depth_raster(geography, settings, tmp_path):
    """A 4 x 3 km flood depth raster in UTM 48N (its own CRS), nodata -9999."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "hazards").mkdir()
    x0, y0 = RASTER_ORIGIN
    with rasterio.open(
        tmp_path / "hazards" / "depth.tif",
        "w",
        driver="GTiff",
        width=4,
        height=3,
        count=1,
        dtype="float32",
        crs="EPSG:32648",
        transform=from_origin(x0, y0, 1000, 1000),
        nodata=-9999.0,
    ) as raster:
        raster.write(np.array(RASTER_VALUES, dtype="float32"), 1)
    return HazardLayer.objects.create(
        name="Flood depth 100-year",
        hazard_type=HazardType.RIVERINE_FLOOD,
        representation=Rep.RASTER,
        scenario=HazardLayer.Scenario.RETURN_PERIOD,
        return_period=100,
        breaks=FLOOD,
        units="m",
        raster="hazards/depth.tif",
    )


def test_raster_cells_give_intensity_and_class(depth_raster):
    """A place takes the value of the cell it falls in, read in the raster's CRS."""
    make_school("CELL-0-0", *cell_centre(0, 0))
    make_school("CELL-0-2", *cell_centre(0, 2))
    make_school("CELL-1-2", *cell_centre(1, 2))
    make_service("SRV-CELL-2-1", *cell_centre(2, 1))

    exposure_recompute()

    assert exposures(depth_raster) == {
        "CELL-0-0": (pytest.approx(0.2), 1, None),
        "CELL-0-2": (2.0, 3, None),
        "CELL-1-2": (pytest.approx(0.6), 2, None),
        "SRV-CELL-2-1": (5.0, 4, None),
    }


def test_nodata_zero_and_outside_the_raster_are_not_exposed(depth_raster):
    """A nodata cell, a 0 m cell, a point 10 m beyond the raster's edge and a point
    far away are not exposed; 10 m inside the edge the edge cell counts."""
    x0, y0 = RASTER_ORIGIN
    make_school("NODATA", *cell_centre(1, 0))
    make_school("ZERO", *cell_centre(1, 1))
    make_school("EDGE-IN", *to_lonlat(x0 + 3990, y0 - 500))
    make_school("EDGE-OUT", *to_lonlat(x0 + 4010, y0 - 500))
    make_school("FAR", 104.20, 10.60, "070101")

    exposure_recompute()

    assert exposures(depth_raster) == {"EDGE-IN": (4.0, 4, None)}
    assert set(School.objects.values_list("hazard_level", flat=True)) == {0, 4}


def test_sampling_masks_nodata_as_gdal_does(tmp_path):
    """Sampling reads the window plainly and masks the gathered cells itself: the
    same cells as GDAL's nodata mask (a masked read), including values within a
    few float32 epsilons of a positive nodata, for float32 and float64 grids."""
    for dtype, nodata in (("float32", 9999.0), ("float64", 9999.0), ("float32", 2.5)):
        near = [
            np.nextafter(np.array(nodata, dtype), np.array(step, dtype))
            for step in (0, 1e9)
        ]
        cells = np.array([[nodata, *near, nodata * 1.001, 1.0, 0.0]], dtype=dtype)
        path = tmp_path / f"grid-{dtype}-{nodata}.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=cells.shape[1],
            height=1,
            count=1,
            dtype=dtype,
            nodata=nodata,
            crs="EPSG:4326",
            transform=from_origin(104.0, 12.0, 0.01, 0.01),
        ) as dst:
            dst.write(cells, 1)
        with rasterio.open(path) as src:
            expected = np.ma.filled(src.read(1, masked=True)[0].astype(float), np.nan)
        lon = 104.0 + 0.005 + 0.01 * np.arange(cells.shape[1])

        got = rasters.sample_file(path, lon, np.full(lon.shape, 11.995))

        np.testing.assert_array_equal(got, expected)
        assert np.isnan(got[:3]).all()


# Tracks

WEAK = [(104.80, 11.56), (105.00, 11.56)]  # 40 kt, 20 km radius
STRONG = [(104.80, 11.50), (105.00, 11.50)]  # 70 kt, 5 km radius


@pytest.fixture
def storm(geography):
    """Two segments: STRONG along 11.50 N (70 kt, 5 km), WEAK along 11.56 N (40 kt,
    20 km)."""
    layer = storm_layer()
    track(layer, STRONG, 70, 5)
    track(layer, WEAK, 40, 20)
    return layer


def test_track_distance_and_wind_radius(storm):
    """Within a segment's radius a place takes the strongest covering wind's class;
    beyond every radius class 0 with the distance (km, UTM 48N) kept."""
    make_school("NEAR-BOTH", 104.90, 11.52)  # 2.2 km from STRONG, 4.4 from WEAK
    make_school("NEAR-WEAK", 104.90, 11.555)  # 6.1 km from STRONG, 0.55 from WEAK
    # 0.3 deg east (32.7 km) and 0.5 deg north (55.3 km) of STRONG's west end.
    make_school("BEYOND", 104.50, 11.00, "080101")

    exposure_recompute()

    rows = exposures(storm)
    assert rows == {
        "NEAR-BOTH": (70.0, 3, pytest.approx(utm_km(104.90, 11.52, STRONG))),
        "NEAR-WEAK": (40.0, 2, pytest.approx(utm_km(104.90, 11.555, WEAK))),
        "BEYOND": (None, 0, pytest.approx(utm_km(104.50, 11.00, STRONG))),
    }
    assert rows["NEAR-BOTH"][2] == pytest.approx(2.21, abs=0.01)
    assert rows["BEYOND"][2] == pytest.approx(64.3, abs=0.3)


def test_track_distance_is_to_the_nearest_segment_not_the_covering_one(storm):
    """A place within WEAK's 20 km radius but outside STRONG's 5 km, and nearer
    STRONG: WEAK's wind, STRONG's distance (the covering segment is not the
    nearest one, so the distance comes from the nearest-neighbour look-up)."""
    make_school("SOUTH", 104.90, 11.428)  # 8.0 km from STRONG, 14.6 from WEAK

    exposure_recompute()

    wind, hazard_class, km = exposures(storm)["SOUTH"]
    assert (wind, hazard_class) == (40.0, 2)
    assert km == pytest.approx(utm_km(104.90, 11.428, STRONG))
    assert 7.5 < km < 8.5


def test_track_radius_edge_and_wind_class(geography):
    """A place inside the radius takes the class of the wind (96 kt -> 4); just
    beyond the radius it is class 0 with its distance."""
    layer = storm_layer()
    track(layer, STRONG, 96, 3)
    make_school("INSIDE", 104.90, 11.525)  # 2.8 km
    make_school("OUTSIDE", 104.90, 11.53)  # 3.3 km

    exposure_recompute()

    inside, outside = exposures(layer)["INSIDE"], exposures(layer)["OUTSIDE"]
    assert inside[:2] == (96.0, 4)
    assert outside[:2] == (None, 0)
    assert inside[2] < 3 < outside[2]


def test_a_storm_layer_without_tracks_gives_no_rows(storm):
    """With no segment there is no nearest track: the places of a layer whose
    tracks are all gone lose their rows (they had a distance, no longer)."""
    make_school("NEAR-BOTH", 104.90, 11.52)
    exposure_recompute()
    assert set(exposures(storm)) == {"NEAR-BOTH"}

    StormTrack.objects.filter(layer=storm).delete()
    exposure_recompute(layer_ids=[storm.pk])

    assert exposures(storm) == {}
    assert School.objects.get(code="NEAR-BOTH").hazard_level == 0


# Layers, re-runs and levels


def test_inactive_layer_is_not_counted(flood):
    """An inactive layer gets no rows and raises no hazard level; its old rows go."""
    school = make_school("IN-A-AND-B", 104.93, 11.56)
    exposure_recompute()
    assert exposures(flood) != {}

    flood.active = False
    flood.save()
    result = exposure_recompute()

    school.refresh_from_db()
    assert exposures(flood) == {}
    assert result.layers == ()
    assert result.removed == 1
    assert (school.hazard_level, school.hazard_levels) == (0, {})


def test_a_rerun_replaces_the_rows(flood):
    """Re-running brings a layer's rows up to date without duplicates: a changed
    value is rewritten with a new computed_at, an unchanged one is left as it was,
    and a place no longer exposed loses its row."""
    make_school("IN-A-AND-B", 104.93, 11.56)
    make_school("IN-A-ONLY", 104.91, 11.56)
    make_school("IN-HOLE", 104.95, 11.42, "080101")
    exposure_recompute()
    first = {e.school.code: e for e in Exposure.objects.select_related("school")}
    assert set(first) == {"IN-A-AND-B", "IN-A-ONLY"}

    zone(flood, box(104.925, 11.555, 104.935, 11.565), 3.2, 4)
    HazardZone.objects.filter(intensity=0.8).delete()  # zone A goes
    result = exposure_recompute(layer_ids=[flood.pk])

    second = {e.school.code: e for e in Exposure.objects.select_related("school")}
    assert set(second) == {"IN-A-AND-B"}
    raised = second["IN-A-AND-B"]
    assert (raised.intensity, raised.hazard_class) == (3.2, 4)
    assert raised.computed_at > first["IN-A-AND-B"].computed_at
    assert result.layers[0].changed == 2
    assert School.objects.get(code="IN-A-ONLY").hazard_level == 0

    exposure_recompute(layer_ids=[flood.pk])

    again = Exposure.objects.get()
    assert (again.pk, again.computed_at) == (raised.pk, raised.computed_at)


def test_a_first_compute_and_a_recompute_store_the_same_rows(
    flood, storm, depth_raster
):
    """A layer's first compute (no rows yet: plain inserts) stores exactly what a
    recompute over existing rows converges to, counts every row it wrote as
    changed, and a recompute then finds nothing to change."""
    many_places(70)
    layers = (flood, storm, depth_raster)

    first = exposure_recompute()

    rows = {layer.pk: exposures(layer) for layer in layers}
    assert all(rows.values())
    for done in first.layers:
        assert done.changed == done.schools + done.services == len(rows[done.layer_id])
    # Emptied of its school rows only, a layer inserts them afresh and upserts
    # its service rows (unchanged).
    Exposure.objects.filter(layer=flood, school__isnull=False).delete()
    services = Exposure.objects.filter(layer=flood, service__isnull=False).count()
    refilled = exposure_recompute(layer_ids=[flood.pk])
    assert refilled.layers[0].changed == len(rows[flood.pk]) - services
    again = exposure_recompute()
    assert [done.changed for done in again.layers] == [0, 0, 0]
    assert {layer.pk: exposures(layer) for layer in layers} == rows


def test_a_new_layer_computed_alone_raises_the_levels(flood):
    """A new layer's first compute, on its own, refreshes the levels of the places
    it exposes (and only theirs)."""
    inside = make_school("IN-A-AND-B", 104.93, 11.56)
    outside = make_school("IN-HOLE", 104.95, 11.42, "080101")
    exposure_recompute()
    flash = flood_layer("Flash flood", hazard_type=HazardType.FLASH_FLOOD)
    zone(flash, box(104.92, 11.55, 104.94, 11.57), 4.0, 4)

    result = exposure_recompute(layer_ids=[flash.pk])

    inside.refresh_from_db()
    outside.refresh_from_db()
    assert result.layers[0].changed == 1
    assert inside.hazard_levels == {"riverine_flood": 3, "flash_flood": 4}
    assert inside.hazard_level == 4
    assert (outside.hazard_level, outside.hazard_levels) == (0, {})


def test_a_raster_with_no_open_schools_samples_the_services(depth_raster):
    """With no open school the raster is still sampled for the services."""
    make_school("SHUT", *cell_centre(2, 0), status=School.Status.CLOSED)
    make_service("SRV-DEEP", *cell_centre(2, 1))

    result = exposure_recompute()

    assert (result.layers[0].schools, result.layers[0].services) == (0, 1)
    assert exposures(depth_raster) == {"SRV-DEEP": (5.0, 4, None)}


def test_hazard_levels_are_the_highest_per_type_and_overall(flood, storm):
    """hazard_levels holds the highest class per hazard type the place is exposed
    to on active layers; hazard_level the highest of all; closed places have none."""
    second_flood = flood_layer("Tonle Sap flood 2011")
    zone(second_flood, box(104.90, 11.50, 104.99, 11.59), 1.0, 2)
    flash = flood_layer("Flash flood", hazard_type=HazardType.FLASH_FLOOD)
    zone(flash, box(104.0, 10.0, 104.1, 10.1), 4.0, 4)
    inactive = flood_layer("Old flood", hazard_type=HazardType.COASTAL_FLOOD)
    zone(inactive, box(104.0, 11.0, 105.0, 12.0), 9.0, 4)
    inactive.active = False
    inactive.save()
    school = make_school("IN-A-AND-B", 104.93, 11.56)
    closed = make_school("CLOSED", 104.93, 11.565, status=School.Status.CLOSED)
    service = make_service("SRV-FAR", 104.50, 11.00, "080101")

    exposure_recompute()

    school.refresh_from_db()
    closed.refresh_from_db()
    service.refresh_from_db()
    assert school.hazard_levels == {"riverine_flood": 3, "storm": 2}
    assert school.hazard_level == 3
    assert (closed.hazard_level, closed.hazard_levels) == (0, {})
    assert not Exposure.objects.filter(school=closed).exists()
    # Beyond the storm's radii: a row with class 0 and its distance, no level.
    assert exposures(storm)["SRV-FAR"][:2] == (None, 0)
    assert (service.hazard_level, service.hazard_levels) == (0, {})


def test_a_layer_change_recomputes_after_commit(
    geography, django_capture_on_commit_callbacks
):
    """layers_changed recomputes exposure once the transaction commits: an import
    exposes the school, a deactivation removes its exposure."""
    school = make_school("IN-ZONE", 104.92, 11.56)
    layer = flood_layer()
    zone(layer, box(104.90, 11.54, 104.94, 11.58), 2.0, 3)

    with django_capture_on_commit_callbacks(execute=True):
        layers_changed(LayerChange(layer_ids=(layer.pk,)))
        assert not Exposure.objects.exists()  # not before the commit

    school.refresh_from_db()
    assert exposures(layer) == {"IN-ZONE": (2.0, 3, None)}
    assert school.hazard_level == 3

    layer.active = False
    layer.save()
    with django_capture_on_commit_callbacks(execute=True):
        layers_changed(LayerChange(layer_ids=(), removed=(layer.pk,)))

    school.refresh_from_db()
    assert not Exposure.objects.exists()
    assert (school.hazard_level, school.hazard_levels) == (0, {})


def test_a_deleted_layer_no_longer_counts(
    geography, django_capture_on_commit_callbacks
):
    """Deleting a layer (its rows cascade) and reporting it resets the levels it set."""
    school = make_school("IN-ZONE", 104.92, 11.56)
    layer = flood_layer()
    zone(layer, box(104.90, 11.54, 104.94, 11.58), 2.0, 3)
    exposure_recompute()
    school.refresh_from_db()
    assert school.hazard_level == 3

    with django_capture_on_commit_callbacks(execute=True):
        removed = layer.pk
        layer.delete()
        layers_changed(LayerChange(layer_ids=(), removed=(removed,)))

    school.refresh_from_db()
    assert (school.hazard_level, school.hazard_levels) == (0, {})


def many_places(n: int) -> None:
    School.objects.bulk_create(
        School(
            code=f"BULK-{i}",
            name_en=f"School {i}",
            level=School.Level.PRIMARY,
            commune_id="120101",
            location=Point(
                104.90 + 0.05 * i / n, 11.54 + 0.04 * (i % 7) / 7, srid=4326
            ),
        )
        for i in range(n)
    )
    Service.objects.bulk_create(
        Service(
            code=f"BULK-SRV-{i}",
            name_en=f"Service {i}",
            kind=Service.Kind.HEALTH_CENTRE,
            commune_id="120101",
            location=Point(104.90 + 0.05 * i / n, 11.55, srid=4326),
        )
        for i in range(n // 10)
    )


def test_a_full_recompute_takes_constant_queries(
    flood, storm, depth_raster, django_assert_max_num_queries
):
    """A full recompute of zones, tracks and a raster runs the same number of
    queries for 50 and for 500 places: no per-place query."""
    counts = []
    for n in (50, 500):
        School.objects.all().delete()
        Service.objects.all().delete()
        many_places(n)
        with CaptureQueriesContext(connection) as queries:
            result = exposure_recompute()
        counts.append(len(queries))
        assert sum(layer.schools for layer in result.layers) > n
    assert counts[0] == counts[1]
    # 1 (layers) + 7 per zone layer (savepoint, lock, jit off, whether it has
    # rows, 2 upserts, release) + 15 per raster layer (+ 2 reads of the places,
    # and per kind of place a drop, create and COPY of its sampled values) + 16
    # per track layer (+ its segments) + 6 (savepoint, drop inactive, active
    # layers, 2 level updates, release).
    with django_assert_max_num_queries(45):
        exposure_recompute()


# Command


def test_compute_exposure_command(flood, storm):
    """The command recomputes every active layer (or those given) and sums up."""
    make_school("IN-A-AND-B", 104.93, 11.56)
    out = StringIO()

    call_command("compute_exposure", stdout=out, stderr=StringIO())

    assert Exposure.objects.filter(layer=flood).count() == 1
    assert Exposure.objects.filter(layer=storm).count() == 1
    assert "2 layers" in out.getvalue()
    assert "'Mekong flood 2013' (zones): 1 schools, 0 services" in out.getvalue()

    out = StringIO()
    call_command(
        "compute_exposure", "--layer", str(storm.pk), stdout=out, stderr=StringIO()
    )
    assert "1 layers" in out.getvalue()


def test_compute_exposure_command_refuses_an_unknown_layer(geography):
    """An unknown layer id is an error that names it."""
    with pytest.raises(CommandError, match="no hazard layer with id 999"):
        call_command("compute_exposure", "--layer", "999", stderr=StringIO())


# API


def url(code: str) -> str:
    return f"/api/schools/{code}/exposure/"


def test_exposure_api_lists_every_active_layer_with_provenance(
    api, flood, storm, django_assert_num_queries
):
    """Every active layer is listed with its scenario, source and the school's
    intensity, class, distance and computed time; class 0 where not exposed."""
    flood.scenario = HazardLayer.Scenario.EVENT
    flood.event_date = dt.date(2013, 10, 1)
    flood.source = "MRC flood extent 2013"
    flood.save()
    flash = flood_layer("Flash flood", hazard_type=HazardType.FLASH_FLOOD)
    zone(flash, box(104.0, 10.0, 104.1, 10.1), 4.0, 4)
    old = flood_layer("Old flood", active=False)
    zone(old, box(104.0, 11.0, 105.0, 12.0), 9.0, 4)
    make_school("IN-A-AND-B", 104.93, 11.56)
    make_school("FLASH", 104.05, 10.05, "070101")
    exposure_recompute()
    computed_at = Exposure.objects.filter(layer=flood).get().computed_at

    with django_assert_num_queries(2):
        response = api.get(url("IN-A-AND-B"))

    assert response.status_code == 200
    body = response.json()
    assert [row["name"] for row in body] == [
        "Flash flood",
        "Mekong flood 2013",
        "Ketsana 2009",
    ]
    flash_row, flood_row, storm_row = body
    assert flood_row == {
        "layer": flood.pk,
        "name": "Mekong flood 2013",
        "hazard_type": "riverine_flood",
        "representation": "zones",
        "scenario": "event",
        "event_date": "2013-10-01",
        "return_period": None,
        "valid_time": None,
        "source": "MRC flood extent 2013",
        "intensity": 2.0,
        "units": "m",
        "hazard_class": 3,
        "distance_km": None,
        "computed_at": flood_row["computed_at"],
    }
    assert dt.datetime.fromisoformat(flood_row["computed_at"]) == computed_at
    assert flash_row["layer"] == flash.pk
    assert (flash_row["intensity"], flash_row["hazard_class"]) == (None, 0)
    assert (flash_row["distance_km"], flash_row["computed_at"]) == (None, None)
    assert storm_row["hazard_class"] == 2
    assert storm_row["intensity"] == 40.0
    assert storm_row["distance_km"] == pytest.approx(utm_km(104.93, 11.56, WEAK))


def test_exposure_api_unknown_school_is_404(api, flood):
    """An unknown EMIS code answers 404."""
    response = api.get(url("NO-SUCH"))

    assert response.status_code == 404


def test_school_and_service_api_show_their_hazard_levels(flood, api):
    """After a recompute, the school and service features carry their hazard levels."""
    make_school("IN-B", 104.93, 11.56)
    make_school("DRY", 104.18, 10.52, commune="070101")
    make_service("SRV-B", 104.93, 11.565)
    exposure_recompute()
    features = {
        f["id"]: f["properties"] for f in api.get("/api/schools/").json()["features"]
    }
    assert features["IN-B"]["hazard_level"] == 3
    assert features["IN-B"]["hazard_levels"] == {"riverine_flood": 3}
    assert features["DRY"]["hazard_level"] == 0
    service = api.get("/api/services/SRV-B/").json()["properties"]
    assert service["hazard_level"] == 3
