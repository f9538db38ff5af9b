"""Raster hazard layers as coloured, transparent PNG overlays for the map.

The COG is read once at a reduced resolution (`hazards.rasters.preview`, in Web
Mercator), coloured by the layer's hazard classes and written to the media
storage under maps/overlays/ with the layer's last change in the name, so a new
upload or new breaks make a new image; later requests, on any app server, read
the cached file. Its bounds are written after the image, so whoever finds them
finds a whole image.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
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
    """A cached overlay: the PNG's storage name, its stem and the lon/lat box."""

    name: str
    stem: str
    bounds: tuple[float, float, float, float]  # west, south, east, north

    def open(self) -> File:
        """The PNG, opened for reading from the media storage."""
        return default_storage.open(self.name, "rb")


def _stem(layer: HazardLayer) -> str:
    return f"layer-{layer.pk}-{int(layer.updated_at.timestamp())}"


def raster_overlay(layer: HazardLayer) -> Overlay:
    """The layer's overlay, drawn on first use and cached in the media storage."""
    stem = _stem(layer)
    png, meta = f"{OVERLAY_DIR}/{stem}.png", f"{OVERLAY_DIR}/{stem}.json"
    if default_storage.exists(meta):
        with default_storage.open(meta, "rb") as handle:
            west, south, east, north = json.loads(handle.read())
        bounds = (float(west), float(south), float(east), float(north))
        return Overlay(name=png, stem=stem, bounds=bounds)
    preview = rasters.preview(layer, max_pixels=MAX_PIXELS)
    _save(png, colour(preview.values, layer.breaks))
    _save(meta, json.dumps(list(preview.bounds)).encode())
    return Overlay(name=png, stem=stem, bounds=preview.bounds)


def _save(name: str, data: bytes) -> None:
    """Store `data` as `name`; a concurrent server that drew it first wins."""
    stored = default_storage.save(name, ContentFile(data))
    if stored != name:  # the storage kept the other copy and renamed ours
        default_storage.delete(stored)


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
