"""Hazard rasters: GeoTIFFs stored as Cloud-Optimized GeoTIFFs, sampled at points.

The test grid is in UTM 48N (EPSG:32648): 100 m cells from E 490,000 and
N 1,280,000 (its top-left corner, near Phnom Penh), 40 x 40 cells, each holding
row * 100 + col. Points are given in EPSG:4326; their UTM coordinates were
computed with `gdaltransform -s_srs EPSG:32648 -t_srs EPSG:4326`.
"""

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from rasterio.crs import CRS

from hazards import rasters
from hazards.models import HazardLayer
from hazards.services import hazard_layer_delete, hazard_layer_import

UTM = CRS.from_epsg(32648)
ORIGIN = Affine(100.0, 0.0, 490_000.0, 0.0, -100.0, 1_280_000.0)
NODATA = -9999.0

# (lon, lat) -> the cell (row, col) it falls in, from its UTM coordinates.
POINTS = [
    ((104.9133243, 11.5740042), (5, 5)),  # E 490,550 N 1,279,450
    ((104.9197493, 11.5577275), (23, 12)),  # E 491,250 N 1,277,650
    ((104.9445152, 11.5432634), (39, 39)),  # E 493,950 N 1,276,050
    ((104.92, 11.56), (20, 12)),  # E 491,277 N 1,277,901
]
NODATA_POINT = (104.9087368, 11.5785246)  # E 490,050 N 1,279,950: cell (0, 0)


def grid(rows=40, cols=40) -> np.ndarray:
    data = np.add.outer(np.arange(rows) * 100, np.arange(cols)).astype("float32")
    data[0, 0] = NODATA
    return data


def write_tif(path, data, *, crs=UTM, transform=ORIGIN, nodata=NODATA):
    bands = data if data.ndim == 3 else data[np.newaxis]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=bands.shape[2],
        height=bands.shape[1],
        count=bands.shape[0],
        dtype=bands.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as out:
        out.write(bands)
    return path


def import_raster(path, name="Depth", **options):
    options.setdefault("hazard_type", "flood")
    return hazard_layer_import(path=path, name=name, **options).layer


def stored_files(media):
    folder = media / "hazards"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def media(settings, tmp_path):
    """MEDIA_ROOT in a temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def depth_tif(tmp_path):
    return write_tif(tmp_path / "depth.tif", grid())


def test_raster_is_stored_as_a_cog_under_media(db, media, depth_tif):
    """Tiled, with overviews and the COG layout, nodata and values kept."""
    big = write_tif(depth_tif.with_name("big.tif"), np.tile(grid(), (15, 15)))
    layer = import_raster(big, return_period=100)
    assert layer.representation == "raster" and layer.raster.name.startswith("hazards/")
    path = media / layer.raster.name
    assert path.parent == media / "hazards"
    with rasterio.open(path) as cog:
        assert cog.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert cog.profile["tiled"] and cog.profile["blockxsize"] == 512
        assert cog.overviews(1) == [2]
        assert cog.nodata == NODATA and cog.crs == UTM
        assert np.array_equal(cog.read(1), np.tile(grid(), (15, 15)))
    assert (layer.units, layer.breaks) == ("m", [0.5, 1.5, 3.0])
    assert layer.import_summary["raster"]["crs"] == "EPSG:32648"


@pytest.mark.parametrize(("point", "cell"), POINTS)
def test_sample_returns_the_cell_under_each_point(db, media, depth_tif, point, cell):
    """A lon/lat point takes the value of the UTM cell it falls in."""
    layer = import_raster(depth_tif)
    values = rasters.sample(layer, np.array([point[0]]), np.array([point[1]]))
    assert values.tolist() == [cell[0] * 100 + cell[1]]


def test_sample_is_vectorised_with_nan_for_nodata_and_outside(db, media, depth_tif):
    """Many points at once, in order; nodata, outside and non-finite give NaN."""
    layer = import_raster(depth_tif)
    lon = [p[0] for p, _ in POINTS] + [NODATA_POINT[0], 104.80, 120.0, np.nan]
    lat = [p[1] for p, _ in POINTS] + [NODATA_POINT[1], 11.56, 11.56, 11.56]
    values = rasters.sample(layer, np.array(lon), np.array(lat))
    assert values[:4].tolist() == [505, 2312, 3939, 2012]
    assert np.isnan(values[4:]).all()
    assert values.dtype == np.float64


def test_sample_reads_one_window(db, media, depth_tif, monkeypatch):
    """All points are served by a single read of the window that covers them."""
    layer = import_raster(depth_tif)
    reads = []
    original = rasterio.io.DatasetReader.read

    class Spy(rasterio.io.DatasetReader):
        def read(self, *args, **kwargs):
            reads.append(kwargs.get("window"))
            return original(self, *args, **kwargs)

    monkeypatch.setattr(rasters.rasterio, "open", lambda path: Spy(path))
    lon = [p[0] for p, _ in POINTS]
    lat = [p[1] for p, _ in POINTS]
    rasters.sample(layer, np.array(lon), np.array(lat))
    assert len(reads) == 1
    assert (reads[0].col_off, reads[0].row_off) == (5, 5)
    assert (reads[0].width, reads[0].height) == (35, 35)


def test_sample_of_a_wgs84_raster(db, media, tmp_path):
    """A grid in EPSG:4326 (0.01 degree cells from 104.5 E, 12.0 N) is sampled as is."""
    wgs84 = Affine(0.01, 0, 104.5, 0, -0.01, 12.0)
    path = write_tif(
        tmp_path / "w.tif", grid(), crs=CRS.from_epsg(4326), transform=wgs84
    )
    layer = import_raster(path)
    # 104.555 E is column 5, 11.735 N row 26 (0.265 degrees below 12.0 N);
    # (104.505, 11.995) is the nodata cell (0, 0).
    values = rasters.sample(layer, [104.555, 104.505], [11.735, 11.995])
    assert values[0] == 2605 and np.isnan(values[1])


def test_sample_of_no_points(db, media, depth_tif):
    """An empty set of points gives an empty array."""
    layer = import_raster(depth_tif)
    assert rasters.sample(layer, np.array([]), np.array([])).shape == (0,)


# --- refused rasters -----------------------------------------------------------


def refused(path) -> str:
    """Import expecting exit 2 and no layer; return the message."""
    with pytest.raises(CommandError) as caught:
        call_command("import_hazard", str(path), "--type", "flood", "--name", "R")
    assert caught.value.returncode == 2
    assert not HazardLayer.objects.exists()
    return str(caught.value)


def test_multiband_raster_is_refused(db, media, tmp_path):
    """A hazard raster has one band."""
    path = write_tif(tmp_path / "rgb.tif", np.stack([grid()] * 3))
    assert "rgb.tif has 3 bands; a hazard raster has one band" in refused(path)
    assert stored_files(media) == []


def test_raster_without_crs_needs_srid(db, media, tmp_path):
    """No CRS: refused, unless --srid gives it (then sampled in that CRS)."""
    path = write_tif(tmp_path / "bare.tif", grid(), crs=None)
    assert "bare.tif has no coordinate reference system" in refused(path)
    call_command(
        "import_hazard", str(path), "--type", "flood", "--name", "R", "--srid", "32648"
    )
    layer = HazardLayer.objects.get()
    with rasterio.open(media / layer.raster.name) as cog:
        assert cog.crs == UTM and cog.transform == ORIGIN
    (lon, lat), (row, col) = POINTS[0]
    assert rasters.sample(layer, [lon], [lat]).tolist() == [row * 100 + col]


def test_all_nodata_raster_is_refused(db, media, tmp_path):
    """A raster whose every cell is nodata holds no hazard."""
    path = write_tif(tmp_path / "empty.tif", np.full((40, 40), NODATA, "float32"))
    assert "empty.tif: every cell is nodata" in refused(path)


def test_raster_outside_cambodia_is_refused(db, media, tmp_path):
    """A grid over Bangkok lies outside Cambodia."""
    bangkok = Affine(0.001, 0, 100.5, 0, -0.001, 13.8)
    path = write_tif(
        tmp_path / "bkk.tif", grid(), crs=CRS.from_epsg(4326), transform=bangkok
    )
    assert "bkk.tif lies entirely outside Cambodia" in refused(path)


def test_not_a_geotiff(db, media, tmp_path):
    """A .tif that is not a TIFF is refused by name."""
    path = tmp_path / "fake.tif"
    path.write_text("hello")
    assert "fake.tif: not a readable GeoTIFF" in refused(path)


# --- files follow the layer ------------------------------------------------------


def test_failed_database_write_removes_the_file(db, media, depth_tif, monkeypatch):
    """If saving the layer fails after the COG was written, the COG is removed."""

    def fail(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(HazardLayer, "save", fail)
    with pytest.raises(DatabaseError):
        import_raster(depth_tif)
    assert stored_files(media) == []


def test_reimport_replaces_the_file_after_commit(
    db, media, depth_tif, django_capture_on_commit_callbacks
):
    """The same layer points at a new COG; the old one is deleted on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        first = import_raster(depth_tif)
    old = first.raster.name
    with django_capture_on_commit_callbacks(execute=True):
        second = import_raster(depth_tif)
    assert second.pk == first.pk and second.raster.name != old
    assert stored_files(media) == [second.raster.name.split("/")[1]]


def test_reimport_as_zones_drops_the_raster(
    db, media, depth_tif, tmp_path, django_capture_on_commit_callbacks
):
    """A raster layer re-imported from polygons becomes a zones layer without a file."""
    with django_capture_on_commit_callbacks(execute=True):
        import_raster(depth_tif)
    zones = tmp_path / "z.geojson"
    zones.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"depth": 1}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[104.9, 11.5], [105, 11.5], [105, 11.6], [104.9, 11.5]]]}}]}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        layer = import_raster(zones, intensity_field="depth")
    assert layer.representation == "zones" and not layer.raster
    assert stored_files(media) == []


def test_delete_removes_the_file(
    db, media, depth_tif, django_capture_on_commit_callbacks
):
    """Deleting a raster layer deletes its COG after commit."""
    layer = import_raster(depth_tif)
    with django_capture_on_commit_callbacks(execute=True):
        hazard_layer_delete(layer=layer, by=None)
    assert not HazardLayer.objects.exists()
    assert stored_files(media) == []


def test_request_cannot_choose_the_file_name(db, media, tmp_path):
    """The stored name is chosen by the server, whatever the input was called."""
    path = write_tif(tmp_path / "..%2f..%2fetc.tif", grid())
    layer = import_raster(path)
    assert layer.raster.name.startswith("hazards/") and "etc" not in layer.raster.name
