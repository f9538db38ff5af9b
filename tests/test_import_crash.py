"""A crash in the middle of an import leaves the previous data intact.

`manage.py import_hazard` runs as a real process replacing the layer "Mekong"
(one zone over two Phnom Penh schools) with 40,000 zones; when its progress bar
shows the first batches written, it is killed with SIGKILL. The old zones, the
layer's attributes and the schools' exposures must be exactly as before, and the
layer must not be left locked. The data is committed (a transactional test) so
the command's own connection sees it.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from hazards.models import HazardLayer, HazardZone
from hazards.services import hazard_layer_import
from schools.models import Exposure
from tests.factories import make_school

pytestmark = pytest.mark.django_db(transaction=True)

PROGRESS = re.compile(rb"(\d+)/(\d+) \[")
ZONES_IN_BIG_FILE = 40_000


def square(x: float, y: float, size: float) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def zones_file(path: Path, squares: list[tuple[float, float, float, float]]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"depth": depth},
            "geometry": {"type": "Polygon", "coordinates": square(x, y, size)},
        }
        for x, y, size, depth in squares
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def big_file(path: Path) -> Path:
    """40,000 small squares of 0.2 m to 4 m depth over Phnom Penh."""
    step = 0.001
    squares = [
        (104.76 + (i % 200) * step, 11.46 + (i // 200) * step, step * 0.9, i % 20 / 5)
        for i in range(ZONES_IN_BIG_FILE)
    ]
    return zones_file(path, squares)


def command_env() -> dict[str, str]:
    """The environment of a `manage.py` process using this test's database."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"] else ""
    url = f"postgis://{db['USER']}@{host}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "preparedness.settings",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }


def kill_when_writing(
    process: subprocess.Popen, timeout: float = 300
) -> tuple[int, int]:
    """SIGKILL the process once its progress bar shows features written (but not
    all); return (written, total) as last shown."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1.0)
        if ready:
            chunk = os.read(process.stderr.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
            found = PROGRESS.findall(seen)
            if found and 0 < int(found[-1][0]) < int(found[-1][1]):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return int(found[-1][0]), int(found[-1][1])
    process.kill()
    process.wait()
    raise AssertionError(f"no progress seen; stderr: {seen[-2000:]!r}")


def snapshot() -> dict[str, object]:
    layer = HazardLayer.objects.get(name="Mekong")
    return {
        "layer": (
            layer.pk,
            layer.representation,
            layer.source,
            layer.event_date,
            layer.updated_at,
            layer.import_summary,
        ),
        "zones": sorted(
            (z.area.wkt, z.intensity, z.hazard_class)
            for z in HazardZone.objects.filter(layer=layer)
        ),
        "exposures": sorted(
            Exposure.objects.values_list(
                "school__code", "layer_id", "intensity", "hazard_class"
            )
        ),
    }


def test_killed_hazard_import_leaves_the_previous_layer_intact(
    geography, tmp_path, settings
):
    """SIGKILL in the middle of replacing a layer: same zones, same layer row,
    same exposures; the layer can be imported again right away."""
    settings.MEDIA_ROOT = tmp_path / "media"
    make_school("PP-IN", 104.92, 11.52, commune="120101")
    make_school("PP-OUT", 104.94, 11.57, commune="120101")
    small = zones_file(tmp_path / "small.geojson", [(104.90, 11.50, 0.05, 1.2)])
    hazard_layer_import(
        path=small,
        hazard_type="flood",
        name="Mekong",
        intensity_field="depth",
        source="NCDM",
    )
    before = snapshot()
    assert len(before["zones"]) == 1
    assert ("PP-IN", before["layer"][0], 1.2, 2) in before["exposures"]

    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "import_hazard",
            str(big_file(tmp_path / "big.geojson")),
            "--type=flood",
            "--name=Mekong",
            "--intensity-field=depth",
            "--source=crash test",
        ],
        cwd=settings.BASE_DIR,
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    written, total = kill_when_writing(process)
    assert process.returncode == -signal.SIGKILL
    assert total == ZONES_IN_BIG_FILE and 0 < written < total

    # The server rolls the dead session back; its row lock goes with it.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND state LIKE 'idle in transaction%%' OR (datname = %s AND "
                "wait_event_type = 'Lock')",
                [connection.settings_dict["NAME"], connection.settings_dict["NAME"]],
            )
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.2)
    assert snapshot() == before

    again = hazard_layer_import(
        path=small, hazard_type="flood", name="Mekong", intensity_field="depth"
    )
    assert again.layer.pk == before["layer"][0]
    assert HazardZone.objects.filter(layer=again.layer).count() == 1
