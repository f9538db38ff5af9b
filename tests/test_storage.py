"""Uploads and rasters in the configured media storage.

By default the storage is MEDIA_ROOT on the file system; with SALASAFE_STORAGE=s3
it is an S3-compatible bucket (django-storages), and GDAL reads the rasters by
window through /vsis3/. The S3 server here is moto's (a real HTTP S3 server in a
thread on loopback): nothing is mocked in GDAL, boto3 or Django.

The grid is the one of tests/hazards/test_rasters.py: UTM 48N, 100 m cells from
E 490,000 N 1,280,000 (near Phnom Penh), 40 x 40 cells holding row * 100 + col.
"""

import io
import json
import logging
import os
import socket
import subprocess
import sys

import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from hazards import rasters
from hazards.services import hazard_layer_delete, hazard_layer_import
from tests.factories import make_school
from tests.hazards.test_rasters import POINTS, grid, write_tif
from tests.schools.test_exposure import exposures

BUCKET = "salasafe-media"
KEYS = {"SALASAFE_S3_ACCESS_KEY": "test-key", "SALASAFE_S3_SECRET_KEY": "test-secret"}
# Each point's cell value (row * 100 + col), all deeper than 3 m: class 4.
EXPECTED = {
    f"AT-{row}-{col}": (float(row * 100 + col), 4, None) for _, (row, col) in POINTS
}


def settings_from_env(**env: str) -> dict:
    """STORAGES, DATABASES and the replica alias that preparedness.settings builds
    from these environment variables, read in a fresh process."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps("
        "{'storages': s.STORAGES, 'databases': s.DATABASES,"
        " 'replica': s.SALASAFE_READ_REPLICA}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SALASAFE_S")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "preparedness.settings",
            "SECRET_KEY": "storage-test-key",
            **env,
        },
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout)


def import_depth(tmp_path, schools: bool = True):
    """Schools at the four test points, then the depth grid imported as a layer
    with its after-commit exposure recompute."""
    if schools:
        for _, (row, col) in POINTS:
            point = next(p for p, cell in POINTS if cell == (row, col))
            make_school(f"AT-{row}-{col}", *point)
    path = write_tif(tmp_path / "depth.tif", grid())
    return hazard_layer_import(path=path, name="Depth", hazard_type="flood").layer


# ---------------------------------------------------------------- file system


def test_default_storage_keeps_rasters_under_media_root(
    geography, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Without SALASAFE_STORAGE the COG lands under MEDIA_ROOT/hazards/, GDAL reads
    it by its path there, and the schools on it are exposed."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        layer = import_depth(tmp_path)

    source = rasters.raster_source(layer.raster.name)
    assert source == str(tmp_path / "media" / layer.raster.name)
    assert (tmp_path / "media" / layer.raster.name).stat().st_size > 0
    assert exposures(layer) == EXPECTED


def test_default_storage_caches_map_overlays_under_media_root(
    geography, settings, tmp_path, client
):
    """The map's PNG overlay is drawn once and cached under MEDIA_ROOT, with its
    bounds beside it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    layer = import_depth(tmp_path, schools=False)

    response = client.get(f"/map/rasters/{layer.pk}.png")

    assert response.status_code == 200
    png = b"".join(response.streaming_content)
    cached = sorted(p.name for p in (tmp_path / "media" / "maps/overlays").iterdir())
    stem = f"layer-{layer.pk}-{int(layer.updated_at.timestamp())}"
    assert cached == [f"{stem}.json", f"{stem}.png"]
    assert (tmp_path / "media" / "maps/overlays" / f"{stem}.png").read_bytes() == png


def test_filesystem_is_the_default_and_s3_needs_a_bucket():
    """The settings keep media on the file system unless SALASAFE_STORAGE=s3; S3
    takes its bucket, endpoint, region and keys from the environment, path-style
    when an endpoint is given; a missing bucket or unknown storage is refused."""
    default = settings_from_env()["storages"]["default"]
    assert default == {"BACKEND": "django.core.files.storage.FileSystemStorage"}

    s3 = settings_from_env(
        SALASAFE_STORAGE="s3",
        SALASAFE_S3_BUCKET=BUCKET,
        SALASAFE_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        SALASAFE_S3_REGION="ap-southeast-1",
        **KEYS,
    )["storages"]["default"]
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] | {} == {
        "bucket_name": BUCKET,
        "location": "",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "ap-southeast-1",
        "access_key": "test-key",
        "secret_key": "test-secret",
        "addressing_style": "path",
        "file_overwrite": False,
    }

    with pytest.raises(RuntimeError, match="needs SALASAFE_S3_BUCKET"):
        settings_from_env(SALASAFE_STORAGE="s3")
    with pytest.raises(RuntimeError, match="'filesystem' \\(default\\) or 's3'"):
        settings_from_env(SALASAFE_STORAGE="ftp")


# ---------------------------------------------------------------- S3


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on a free loopback port, for the tests of this module."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings, tmp_path):
    """The media storage as `make serve` builds it from SALASAFE_STORAGE=s3 and
    the other variables, on an empty bucket; MEDIA_ROOT is an empty folder that
    must stay empty. Returns a boto3 client of the bucket."""
    env = {
        "SALASAFE_STORAGE": "s3",
        "SALASAFE_S3_BUCKET": BUCKET,
        "SALASAFE_S3_ENDPOINT_URL": s3_server,
        "SALASAFE_S3_REGION": "us-east-1",
        **KEYS,
    }
    settings.STORAGES = settings_from_env(**env)["storages"]
    settings.MEDIA_ROOT = tmp_path / "media"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=KEYS["SALASAFE_S3_ACCESS_KEY"],
        aws_secret_access_key=KEYS["SALASAFE_S3_SECRET_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
    assert not (tmp_path / "media").exists()


def objects(client, prefix: str) -> dict[str, int]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"]: item["Size"] for item in listed.get("Contents", [])}


def test_raster_import_to_s3_is_read_by_window_through_vsis3(
    geography, s3, tmp_path, caplog, django_capture_on_commit_callbacks
):
    """An imported raster is stored as an object in the bucket (no local copy);
    exposure is computed by GDAL reading it through /vsis3/ with HTTP range
    requests (206 Partial Content), never a whole download."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    with django_capture_on_commit_callbacks(execute=True):
        layer = import_depth(tmp_path)

    key = layer.raster.name
    assert key.startswith("hazards/") and key.endswith(".tif")
    assert objects(s3, "hazards/")[key] > 0
    assert rasters.raster_source(key) == f"/vsis3/{BUCKET}/{key}"
    assert exposures(layer) == EXPECTED

    gets = [
        r.getMessage()
        for r in caplog.records
        if f"GET /{BUCKET}/{key}" in r.getMessage()
    ]
    assert gets and all('" 206 ' in line for line in gets)

    values = rasters.sample(layer, [POINTS[0][0][0]], [POINTS[0][0][1]])
    assert values.tolist() == [505.0]


def test_map_overlay_is_drawn_from_s3_and_cached_in_the_bucket(
    geography, s3, tmp_path, client
):
    """The map's PNG overlay of a raster layer is drawn from the COG in the bucket,
    cached there (image and bounds) and served from the cache on the next call,
    by whichever app server gets it."""
    layer = import_depth(tmp_path, schools=False)

    first = client.get(f"/map/rasters/{layer.pk}.png")
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    cached = objects(s3, "maps/overlays/")
    stem = f"maps/overlays/layer-{layer.pk}-{int(layer.updated_at.timestamp())}"
    assert set(cached) == {f"{stem}.png", f"{stem}.json"}
    image = Image.open(io.BytesIO(b"".join(first.streaming_content)))
    assert image.mode == "RGBA" and np.asarray(image)[..., 3].any()

    s3.put_object(Bucket=BUCKET, Key=f"{stem}.png", Body=b"cached")
    second = client.get(f"/map/rasters/{layer.pk}.png")
    assert b"".join(second.streaming_content) == b"cached"
    assert set(objects(s3, "maps/overlays/")) == set(cached)


def test_deleting_a_layer_deletes_its_object(
    geography, s3, tmp_path, django_capture_on_commit_callbacks
):
    """A deleted raster layer's COG is removed from the bucket after the commit."""
    layer = import_depth(tmp_path, schools=False)
    key = layer.raster.name
    with django_capture_on_commit_callbacks(execute=True):
        hazard_layer_delete(layer=layer)
    assert key not in objects(s3, "hazards/")
