import pytest
import rasterio
from django.core.management import call_command

from hazards.demo import FLOOD_DEPTH, FLOOD_ZONES, KETSANA, TRACKS
from hazards.models import HazardLayer
from schools.models import Exposure, School

DEMO = ["load_demo", "--keep-admin-areas", "--schools", "200", "--services", "20"]


@pytest.fixture
def media(settings, tmp_path):
    """Stored rasters go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _load(capture) -> None:
    """Run load_demo and the after-commit callbacks (exposure) it queues."""
    with capture(execute=True):
        call_command(*DEMO)


def _state() -> tuple:
    zones = HazardLayer.objects.get(name=FLOOD_ZONES)
    return (
        zones.zones.count(),
        sorted(zones.zones.values_list("hazard_class", flat=True)),
        sorted(
            Exposure.objects.filter(school__isnull=False).values_list(
                "layer__name", "school__code", "hazard_class"
            )
        ),
        sorted(School.objects.values_list("code", "hazard_level")),
    )


@pytest.mark.django_db(transaction=False)
def test_demo_loads_hazard_layers_and_exposure(
    geography, media, django_capture_on_commit_callbacks
):
    """load_demo imports the flood zones, a COG depth grid and the storm tracks,
    and the exposure callback leaves some schools exposed and some dry."""
    _load(django_capture_on_commit_callbacks)

    layers = {layer.name: layer for layer in HazardLayer.objects.all()}
    assert {FLOOD_ZONES, FLOOD_DEPTH, TRACKS, KETSANA} <= set(layers)
    zones = layers[FLOOD_ZONES]
    assert zones.representation == HazardLayer.Representation.ZONES
    assert zones.hazard_type == "riverine_flood" and zones.return_period == 100
    # The boxes of Phnom Penh and Kandal sit on the rivers: every depth band is there.
    assert set(zones.zones.values_list("intensity", flat=True)) == {0.3, 1.0, 2.0, 3.5}
    assert set(zones.zones.values_list("hazard_class", flat=True)) == {1, 2, 3, 4}

    grid = layers[FLOOD_DEPTH]
    assert grid.representation == HazardLayer.Representation.RASTER
    with rasterio.open(grid.raster.path) as src:
        assert src.driver == "GTiff"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.block_shapes[0] == (512, 512)
        assert src.res == pytest.approx((90.0, 90.0))
    assert str(grid.raster.path).startswith(str(media))

    ketsana = layers[KETSANA]
    assert ketsana.representation == HazardLayer.Representation.TRACKS
    assert str(ketsana.event_date) == "2009-09-29" and ketsana.active
    assert ketsana.tracks.exists()
    # The 77-year archive is a reference layer: switched off, not in the levels.
    archive = layers[TRACKS]
    assert archive.tracks.count() > 10 * ketsana.tracks.count()
    assert not archive.active
    assert not Exposure.objects.filter(layer=archive).exists()

    flood = Exposure.objects.filter(
        layer__in=[zones, grid], school__isnull=False, hazard_class__gt=0
    )
    flooded = set(flood.values_list("school__code", flat=True))
    assert flooded, "no school is in the demo floodplain"
    # Phnom Penh (commune 120101) is at the confluence; Kampot (070101) is dry.
    assert School.objects.filter(code__startswith="120101", hazard_level=4).exists()
    assert not any(code.startswith("070101") for code in flooded)
    # Every school has a distance to Ketsana's track.
    assert Exposure.objects.filter(layer=ketsana, school__isnull=False).count() == 200
    levels = set(School.objects.values_list("hazard_level", flat=True))
    assert 0 in levels and 4 in levels
    assert set(
        School.objects.filter(code__startswith="070101").values_list(
            "hazard_level", flat=True
        )
    ) == {0}


@pytest.mark.django_db(transaction=False)
def test_demo_hazards_are_deterministic(
    geography, media, django_capture_on_commit_callbacks
):
    """A second load_demo gives the same zones and the same exposure classes."""
    _load(django_capture_on_commit_callbacks)
    first = _state()
    _load(django_capture_on_commit_callbacks)
    assert _state() == first
    assert HazardLayer.objects.filter(name=FLOOD_ZONES).count() == 1
