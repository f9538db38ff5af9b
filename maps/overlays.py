"""Raster hazard layers as coloured, transparent PNG overlays for the map.

The COG is read once at a reduced resolution (`hazards.rasters.preview`, in Web
Mercator), coloured by the layer's hazard classes and written under
MEDIA_ROOT/maps/overlays/ with the layer's last change in the name, so a new
upload or new breaks make a new image; later requests read the cached file.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image

from hazards import rasters
from hazards.classes import MAX_CLASS
from hazards.models import HazardLayer

OVERLAY_DIR = "maps/overlays"
MAX_PIXELS = 1024
# RGBA per hazard class 1-4 (class 0 and nodata are transparent): blues.
CLASS_RGBA = {
    1: (198, 219, 239, 150),
    2: (107, 174, 214, 170),
    3: (33, 113, 181, 190),
    4: (8, 48, 107, 210),
}


@dataclass(frozen=True)
class Overlay:
    """A cached overlay: the PNG file and the lon/lat box it covers."""

    path: Path
    bounds: tuple[float, float, float, float]  # west, south, east, north


def _stem(layer: HazardLayer) -> str:
    return f"layer-{layer.pk}-{int(layer.updated_at.timestamp())}"


def raster_overlay(layer: HazardLayer) -> Overlay:
    """The layer's overlay, drawn on first use and cached under MEDIA_ROOT."""
    folder = Path(settings.MEDIA_ROOT) / OVERLAY_DIR
    png, meta = folder / f"{_stem(layer)}.png", folder / f"{_stem(layer)}.json"
    if png.exists() and meta.exists():
        west, south, east, north = json.loads(meta.read_text())
        bounds = (float(west), float(south), float(east), float(north))
        return Overlay(path=png, bounds=bounds)
    preview = rasters.preview(layer, max_pixels=MAX_PIXELS)
    folder.mkdir(parents=True, exist_ok=True)
    data = colour(preview.values, layer.breaks)
    tmp = png.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(png)  # atomic: a concurrent reader never sees half a file
    meta.write_text(json.dumps(list(preview.bounds)))
    return Overlay(path=png, bounds=preview.bounds)


def colour(values: np.ma.MaskedArray, breaks: list[float]) -> bytes:
    """PNG bytes: each cell coloured by its hazard class under `breaks`."""
    filled = np.ma.filled(values.astype("float64"), np.nan)
    classes = 1 + np.searchsorted(np.asarray(breaks, dtype="float64"), filled, "right")
    classes = np.minimum(classes, MAX_CLASS)
    classes[~np.isfinite(filled) | (filled <= 0)] = 0
    rgba = np.zeros((*filled.shape, 4), dtype=np.uint8)
    for hazard_class, value in CLASS_RGBA.items():
        rgba[classes == hazard_class] = value
    out = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(out, format="PNG", optimize=True)
    return out.getvalue()
