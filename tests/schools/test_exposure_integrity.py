"""Exposure rows never outlive their place or layer, although the table has no
foreign-key constraints (docs/adr/0006): Django cascades `delete()`, the
database's statement-level triggers cover deletes and truncates by SQL, and a
recompute removes rows whose place or layer is gone.
"""

from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rasterio.transform import from_origin
from rasterio.warp import transform

from hazards import rasters, tracks
from hazards.classes import HazardType
from hazards.models import HazardLayer, HazardZone, StormTrack
from schools.exposure import exposure_recompute
from schools.models import Exposure, School, Service
from tests.factories import box, make_school, make_service
from tests.hazards.test_rasters import write_tif

Rep = HazardLayer.Representation
TRIGGERS = {
    "hazards_hazardlayer": ("layers", "layer_id"),
    "schools_school": ("schools", "school_id"),
    "schools_service": ("services", "service_id"),
}


def flood_layer(name: str, depth: float) -> HazardLayer:
    """A zones layer with one zone over Phnom Penh (104.90-104.96 x 11.54-11.58)."""
    layer = HazardLayer.objects.create(
        name=name,
        hazard_type=HazardType.RIVERINE_FLOOD,
        representation=Rep.ZONES,
        breaks=[0.5, 1.5, 3.0],
        units="m",
    )
    HazardZone.objects.create(
        layer=layer,
        area=box(104.90, 11.54, 104.96, 11.58),
        intensity=depth,
        hazard_class=2,
    )
    return layer


@pytest.fixture
def exposed(geography):
    """Two schools and two services in Phnom Penh, exposed to two flood layers:
    eight exposure rows."""
    places = {
        "school": make_school("SCH-A", 104.92, 11.56),
        "other_school": make_school("SCH-B", 104.93, 11.56),
        "service": make_service("SRV-A", 104.92, 11.57),
        "other_service": make_service("SRV-B", 104.93, 11.57),
    }
    layers = {
        "layer": flood_layer("2013", 1.0),
        "other_layer": flood_layer("2011", 2.0),
    }
    exposure_recompute()
    assert Exposure.objects.count() == 8
    return {**places, **layers}


def rows() -> set[tuple[str, str]]:
    """The stored exposure rows as (layer name, place code), read by SQL joins
    that would drop a row whose place or layer is gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT l.name, coalesce(s.code, v.code)
            FROM schools_exposure e
            JOIN hazards_hazardlayer l ON l.id = e.layer_id
            LEFT JOIN schools_school s ON s.id = e.school_id
            LEFT JOIN schools_service v ON v.id = e.service_id
            """
        )
        return set(cursor.fetchall())


def orphans() -> int:
    """Exposure rows whose layer, school or service does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM schools_exposure e
            WHERE NOT EXISTS (SELECT 1 FROM hazards_hazardlayer l
                              WHERE l.id = e.layer_id)
               OR (e.school_id IS NOT NULL AND NOT EXISTS
                   (SELECT 1 FROM schools_school s WHERE s.id = e.school_id))
               OR (e.service_id IS NOT NULL AND NOT EXISTS
                   (SELECT 1 FROM schools_service v WHERE v.id = e.service_id))
            """
        )
        return cursor.fetchone()[0]


ALL_ROWS = {
    (layer, code)
    for layer in ("2013", "2011")
    for code in ("SCH-A", "SCH-B", "SRV-A", "SRV-B")
}


@pytest.mark.parametrize(
    ("which", "left"),
    [
        ("school", {r for r in ALL_ROWS if r[1] != "SCH-A"}),
        ("service", {r for r in ALL_ROWS if r[1] != "SRV-A"}),
        ("layer", {r for r in ALL_ROWS if r[0] != "2013"}),
    ],
)
def test_deleting_through_the_orm_removes_the_exposures(exposed, which, left):
    """`delete()` of a school, a service or a layer removes its exposure rows and
    only those."""
    exposed[which].delete()

    assert rows() == left
    assert Exposure.objects.count() == len(left)
    assert orphans() == 0


def test_queryset_deletes_remove_the_exposures(exposed):
    """Deleting many places through a queryset removes all their rows."""
    School.objects.all().delete()
    Service.objects.filter(code="SRV-B").delete()

    assert rows() == {("2013", "SRV-A"), ("2011", "SRV-A")}
    assert orphans() == 0


@pytest.mark.parametrize(
    ("table", "which", "left"),
    [
        ("schools_school", "school", {r for r in ALL_ROWS if r[1] != "SCH-A"}),
        ("schools_service", "service", {r for r in ALL_ROWS if r[1] != "SRV-A"}),
        ("hazards_hazardlayer", "layer", {r for r in ALL_ROWS if r[0] != "2013"}),
    ],
)
def test_deleting_with_raw_sql_removes_the_exposures(exposed, table, which, left):
    """A `DELETE` in SQL, past Django's cascade, leaves no orphan: the delete
    triggers remove the rows of the deleted places and layers."""
    if table == "hazards_hazardlayer":
        # The layer's zones still have a foreign key to it.
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM hazards_hazardzone WHERE layer_id = %s",
                [exposed[which].pk],
            )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [exposed[which].pk])

    assert orphans() == 0
    assert rows() == left
    assert Exposure.objects.count() == len(left)


def test_one_sql_delete_of_many_places_removes_all_their_exposures(exposed):
    """One statement deleting several places removes every row of each."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM schools_school WHERE code IN ('SCH-A', 'SCH-B')")

    assert orphans() == 0
    assert {code for _, code in rows()} == {"SRV-A", "SRV-B"}


def test_truncating_the_schools_removes_only_their_exposures(exposed):
    """TRUNCATE fires no delete trigger; the truncate triggers remove the rows of
    that kind of place and keep the others."""
    with connection.cursor() as cursor:
        # The test's own transaction still has deferred foreign-key checks of
        # the places it created pending, which TRUNCATE refuses to run over.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE schools_school CASCADE")

    assert orphans() == 0
    assert {code for _, code in rows()} == {"SRV-A", "SRV-B"}
    assert Exposure.objects.count() == 4


def test_a_recompute_after_deletes_leaves_no_orphan(exposed):
    """A recompute writes rows only for places and layers that exist, and
    removes rows whose place or layer is gone (as a write racing a delete could
    leave, since no foreign key refuses them)."""
    school, service, layer = exposed["school"], exposed["service"], exposed["layer"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM schools_school WHERE id = %s", [school.pk])
        cursor.execute("DELETE FROM schools_service WHERE id = %s", [service.pk])
        cursor.execute("DELETE FROM hazards_hazardzone WHERE layer_id = %s", [layer.pk])
        cursor.execute("DELETE FROM hazards_hazardlayer WHERE id = %s", [layer.pk])
        # Rows a recompute running concurrently with those deletes could have
        # written after the triggers ran.
        cursor.execute(
            """
            INSERT INTO schools_exposure
                (layer_id, school_id, service_id, hazard_class, computed_at)
            VALUES (%(other)s, %(school)s, NULL, 2, now()),
                   (%(other)s, NULL, %(service)s, 2, now()),
                   (%(layer)s, %(other_school)s, NULL, 2, now())
            """,
            {
                "other": exposed["other_layer"].pk,
                "layer": layer.pk,
                "school": school.pk,
                "service": service.pk,
                "other_school": exposed["other_school"].pk,
            },
        )
    assert orphans() == 3

    exposure_recompute()

    assert orphans() == 0
    assert rows() == {("2011", "SCH-B"), ("2011", "SRV-B")}


def delete_after(monkeypatch, module, name: str, school: School) -> None:
    """Make `module.name` delete `school` by SQL (as another session could) once
    it has run, i.e. after the engine has read the places and before it writes."""
    run = getattr(module, name)

    def run_then_delete(*args, **kwargs):
        result = run(*args, **kwargs)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM schools_school WHERE id = %s", [school.pk])
        return result

    monkeypatch.setattr(module, name, run_then_delete)


# A raster whose one 1 km cell around Phnom Penh holds 2.0 m.
RASTER_ORIGIN = (490_000.0, 1_280_000.0)  # top left, UTM 48N


def test_a_place_deleted_while_a_raster_is_sampled_gets_no_row(
    geography, settings, tmp_path, monkeypatch
):
    """The raster's places are read before the rows are written: a school
    deleted in between (by SQL, as another session could) gets no row back."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "hazards").mkdir()
    x0, y0 = RASTER_ORIGIN
    one_cell = from_origin(x0, y0, 1000, 1000)
    depth = np.array([[2.0]], dtype="float32")
    path = tmp_path / "hazards" / "depth.tif"
    write_tif(path, depth, transform=one_cell, nodata=None)
    HazardLayer.objects.create(
        name="Flood depth",
        hazard_type=HazardType.RIVERINE_FLOOD,
        representation=Rep.RASTER,
        breaks=[0.5, 1.5, 3.0],
        units="m",
        raster="hazards/depth.tif",
    )
    (lon,), (lat,) = transform("EPSG:32648", "EPSG:4326", [x0 + 500], [y0 - 500])
    make_school("STAYS", lon, lat)
    gone = make_school("DELETED", lon, lat)
    delete_after(monkeypatch, rasters, "sample", gone)

    exposure_recompute()

    assert rows() == {("Flood depth", "STAYS")}
    assert orphans() == 0


def test_a_place_deleted_while_tracks_are_measured_gets_no_row(geography, monkeypatch):
    """Track distances are computed from places read before the rows are
    written: a school deleted in between gets no row back."""
    storm = HazardLayer.objects.create(
        name="Storm",
        hazard_type=HazardType.STORM,
        representation=Rep.TRACKS,
        breaks=[34.0, 64.0, 96.0],
        units="kt",
    )
    StormTrack.objects.create(
        layer=storm,
        path="SRID=4326;LINESTRING(104.80 11.50, 105.00 11.50)",
        max_wind_kt=70,
        radius_km=50,
    )
    make_school("STAYS", 104.90, 11.52)
    gone = make_school("DELETED", 104.90, 11.53)
    delete_after(monkeypatch, tracks, "track_exposure", gone)

    exposure_recompute()

    assert rows() == {("Storm", "STAYS")}
    assert orphans() == 0


def test_the_exposure_table_has_no_foreign_keys_and_has_the_triggers(db):
    """No FOREIGN KEY on schools_exposure (each would be checked per inserted
    row); statement-level AFTER DELETE triggers with the deleted rows as a
    transition table, and AFTER TRUNCATE triggers, on the three tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT constraint_name FROM information_schema.table_constraints
            WHERE table_name = 'schools_exposure'
              AND constraint_type = 'FOREIGN KEY'
            """
        )
        assert cursor.fetchall() == []
        cursor.execute(
            """
            SELECT event_object_table, trigger_name, action_timing,
                   action_orientation, action_reference_old_table
            FROM information_schema.triggers
            WHERE event_manipulation = 'DELETE'
              AND trigger_name LIKE 'exposure_forget_%%'
            """
        )
        deletes = set(cursor.fetchall())
        # information_schema lists no TRUNCATE triggers: ask pg_trigger.
        cursor.execute(
            """
            SELECT c.relname, t.tgname FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            WHERE t.tgname LIKE 'exposure_forget_truncated_%%'
              AND t.tgtype & 32 <> 0 AND t.tgtype & 1 = 0
            """
        )
        truncates = set(cursor.fetchall())
    assert deletes == {
        (table, f"exposure_forget_deleted_{what}", "AFTER", "STATEMENT", "gone")
        for table, (what, _) in TRIGGERS.items()
    }
    assert truncates == {
        (table, f"exposure_forget_truncated_{what}")
        for table, (what, _) in TRIGGERS.items()
    }


# compute_exposure --stale


def compute_stale() -> str:
    out = StringIO()
    call_command("compute_exposure", "--stale", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_stale_finds_nothing_after_a_recompute(exposed):
    """Once every layer is computed, --stale recomputes nothing and says so."""
    assert compute_stale() == "nothing stale\n"


def test_stale_recomputes_a_layer_whose_recompute_never_ran(exposed):
    """A layer committed without its after-commit recompute (the process died)
    is found and recomputed; the current layers are left alone."""
    crashed = flood_layer("2000", 3.5)  # no recompute ran: no rows

    out = compute_stale()

    assert f"stale: layer {crashed.pk} '2000'" in out
    assert "1 layers" in out
    assert "'2013'" not in out and "'2011'" not in out
    assert {code for layer, code in rows() if layer == "2000"} == {
        "SCH-A",
        "SCH-B",
        "SRV-A",
        "SRV-B",
    }
    assert compute_stale() == "nothing stale\n"


def test_stale_recomputes_a_layer_changed_after_its_rows(exposed):
    """A layer changed after its rows were computed (its rows deleted by SQL, or
    a zone added without a recompute) is recomputed; afterwards it is current,
    although the rows the change did not touch keep their older time."""
    layer = exposed["layer"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM schools_exposure WHERE layer_id = %s", [layer.pk])
    other = exposed["other_layer"]
    HazardZone.objects.create(
        layer=other,
        area=box(104.915, 11.555, 104.925, 11.565),  # SCH-A only
        intensity=4.0,
        hazard_class=4,
    )
    other.save()  # the edit's change of the layer, whose recompute never ran

    out = compute_stale()

    assert f"stale: layer {layer.pk} '2013'" in out
    assert f"stale: layer {other.pk} '2011'" in out
    assert rows() == ALL_ROWS
    assert dict(
        Exposure.objects.filter(layer=other, school__isnull=False).values_list(
            "school__code", "intensity"
        )
    ) == {"SCH-A": 4.0, "SCH-B": 2.0}
    assert compute_stale() == "nothing stale\n"


def test_stale_and_layer_together_are_refused(exposed):
    """--stale with --layer is a usage error (exit 2)."""
    with pytest.raises(CommandError, match="--stale or --layer") as error:
        call_command("compute_exposure", "--stale", "--layer", str(exposed["layer"].pk))
    assert error.value.returncode == 2
