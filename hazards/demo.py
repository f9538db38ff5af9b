"""Demo hazard layers: a Mekong and Tonle Sap floodplain, and the real storm tracks.

The floodplain is drawn, not modelled: a seeded, noisy "distance to the water"
field in UTM 48N (metres) around the MEKONG, BASSAC, TONLE_SAP_RIVER and
TONLE_SAP_LAKE polylines of `preparedness.demo`, clipped to Cambodia. Zones and
the depth grid come from the same field, so a point gets the same class from
both. Every layer is written to a file and imported with `hazard_layer_import`,
so the demo exercises the real import path (and the exposure callbacks).
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from django.conf import settings
from django.contrib.gis.db.models import Union
from django.db.models import Count
from rasterio.enums import Resampling
from rasterio.features import rasterize, shapes
from rasterio.warp import reproject, transform, transform_geom

from hazards.classes import HazardType
from hazards.models import UTM_48N, HazardLayer
from hazards.services import hazard_layer_import, hazard_layer_set_active
from preparedness.demo import (
    BASSAC,
    MEKONG,
    TONLE_SAP_LAKE,
    TONLE_SAP_RIVER,
    DemoOptions,
    DemoStep,
    register_demo_step,
)
from preparedness.models import AdminArea

FLOOD_ZONES = "Mekong and Tonle Sap floodplain (demo, 100-year)"
FLOOD_DEPTH = "Floodplain depth grid (demo, 100-year)"
TRACKS = "JTWC best tracks near Cambodia 1945-2021"
KETSANA = "Typhoon Ketsana 2009"
KETSANA_SN = "200917"
KETSANA_DATE = date(2009, 9, 29)
JTWC_CSV = Path("cambodia/cyclones/jtwc_wp_besttrack_1945_2021_cambodia_bbox.csv")
DEMO_SOURCE = "SalaSafe demo: drawn along the rivers, not a flood model"
JTWC_SOURCE = (
    "Joint Typhoon Warning Center best tracks, western North Pacific 1945-2021 "
    "(1-minute sustained winds), points near Cambodia"
)

# Zones: (outer edge of the band in "floodplain metres", depth in metres).
DEPTH_BANDS = ((2_000.0, 3.5), (6_000.0, 2.0), (12_000.0, 1.0), (20_000.0, 0.3))
# Grid depth: piecewise linear in the same distance; matches the bands' classes
# under the default breaks 0.5 / 1.5 / 3.0 m.
DEPTH_CURVE = ((0.0, 4.5), (2_000.0, 3.0), (6_000.0, 1.5), (12_000.0, 0.5))
DEPTH_CURVE_END = (20_000.0, 0.1)
EDGE_M = DEPTH_BANDS[-1][0]
# The floodplain narrows up the Mekong, above Kratie (about 12.5 N), and is
# wider around the Tonle Sap lake.
UPSTREAM_LAT, UPSTREAM_WIDTH, LAKE_WIDTH = 12.5, 0.45, 1.3
ZONE_CELL_M = 450.0  # the field is computed on this grid, then polygonized
GRID_CELL_M = 90.0  # the depth raster (ZONE_CELL_M is a multiple)
NODATA = -9999.0
MIN_ZONE_KM2 = 0.5


@dataclass(frozen=True)
class Field:
    """A grid in UTM 48N: scaled distance to the water (metres) and the country mask."""

    distance: np.ndarray  # float32, metres
    transform: Affine
    inside: np.ndarray  # bool, in Cambodia


def demo_hazard_layers(options: DemoOptions) -> str:
    """Flood zones and a depth grid along the rivers; JTWC storm tracks if present.

    Importing under an existing name replaces that layer in place, so a second
    load gives the same layers (same ids). Exposure follows after the commit,
    through the layer-change callbacks.
    """
    with tempfile.TemporaryDirectory(prefix="salasafe-demo-") as tmp:
        country = _country_utm()
        if country is None:
            parts = ["no province boundaries: no flood layers"]
        else:
            parts = [_import_floodplain(Path(tmp), country, options)]
        tracks_csv = settings.SHARED_DATA_DIR / JTWC_CSV
        if tracks_csv.exists():
            parts.append(_import_storms(tracks_csv, Path(tmp)))
        else:
            options.log(f"  note: {tracks_csv} not found; no demo storm layers")
    return "; ".join(parts)


def _import_floodplain(
    folder: Path, country: shapely.Geometry, options: DemoOptions
) -> str:
    field = floodplain_field(country=country, rng=options.rng(30))
    zones_path = folder / "floodplain.geojson"
    write_flood_zones(zones_path, field=field, country=country)
    zones = hazard_layer_import(
        path=zones_path,
        hazard_type=HazardType.RIVERINE_FLOOD,
        name=FLOOD_ZONES,
        intensity_field="depth_m",
        return_period=100,
        source=DEMO_SOURCE,
    ).layer
    depth_path = folder / "floodplain-depth.tif"
    width, height = write_depth_grid(depth_path, field=field)
    hazard_layer_import(
        path=depth_path,
        hazard_type=HazardType.RIVERINE_FLOOD,
        name=FLOOD_DEPTH,
        return_period=100,
        source=DEMO_SOURCE,
    )
    by_depth = dict(
        zones.zones.values_list("intensity")
        .annotate(n=Count("id"))
        .order_by("intensity")
    )
    bands = ", ".join(f"{depth:g} m: {n}" for depth, n in by_depth.items())
    return (
        f"{sum(by_depth.values())} flood zones ({bands}), "
        f"a {width} x {height} depth grid of {GRID_CELL_M:.0f} m"
    )


def _import_storms(tracks_csv: Path, folder: Path) -> str:
    """All the JTWC tracks near Cambodia (switched off) and Ketsana 2009 (on).

    Over 77 years some storm passed within its wind radius of nearly every
    school, so the whole archive, counted in hazard levels, would make every
    school storm-exposed. It is a reference layer to switch on; the event layer
    is what the levels count.
    """
    tracks = hazard_layer_import(
        path=tracks_csv, hazard_type=HazardType.STORM, name=TRACKS, source=JTWC_SOURCE
    ).layer
    hazard_layer_set_active(layer=tracks, active=False)
    ketsana_csv = folder / "ketsana.csv"
    write_storm_subset(tracks_csv, ketsana_csv, storm=KETSANA_SN)
    ketsana = hazard_layer_import(
        path=ketsana_csv,
        hazard_type=HazardType.STORM,
        name=KETSANA,
        event_date=KETSANA_DATE,
        source=JTWC_SOURCE,
    ).layer
    storms = tracks.tracks.values("storm_id").distinct().count()
    return (
        f"{tracks.tracks.count()} track segments of {storms} storms (switched off), "
        f"Ketsana 2009: {ketsana.tracks.count()} segments"
    )


# --- the floodplain field -------------------------------------------------------


def _country_utm() -> shapely.Geometry | None:
    """Cambodia (the union of the current provinces) in UTM 48N; None if not loaded."""
    union = AdminArea.objects.filter(
        level=AdminArea.Level.PROVINCE, valid_to__isnull=True, boundary__isnull=False
    ).aggregate(u=Union("boundary"))["u"]
    if union is None:
        return None
    union.transform(UTM_48N)
    return shapely.make_valid(shapely.from_wkb(bytes(union.wkb)))


def _waterways_utm() -> list[tuple[np.ndarray, float]]:
    """Each polyline in UTM 48N (an (n, 2) array) with its relative floodplain width."""
    lines = []
    for line in (MEKONG, BASSAC, TONLE_SAP_RIVER, TONLE_SAP_LAKE):
        lon, lat = zip(*line, strict=True)
        xs, ys = transform("EPSG:4326", f"EPSG:{UTM_48N}", list(lon), list(lat))
        xy = np.column_stack([xs, ys])
        for i in range(len(line) - 1):
            mid_lat = (lat[i] + lat[i + 1]) / 2
            width = 1.0
            if line is MEKONG and mid_lat > UPSTREAM_LAT:
                width = UPSTREAM_WIDTH
            elif line is TONLE_SAP_LAKE:
                width = LAKE_WIDTH
            lines.append((xy[i : i + 2], width))
    return lines


def _smooth_noise(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    wavelengths_m: tuple[float, float],
) -> np.ndarray:
    """Seeded smooth noise of about unit spread: a sum of random plane waves."""
    waves = 12
    shortest, longest = wavelengths_m
    lam = rng.uniform(shortest, longest, size=waves)
    theta = rng.uniform(0, np.pi, size=waves)
    phase = rng.uniform(0, 2 * np.pi, size=waves)
    kx, ky = 2 * np.pi * np.cos(theta) / lam, 2 * np.pi * np.sin(theta) / lam
    total = np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=np.float32)
    for i in range(waves):
        total += np.sin(kx[i] * x + ky[i] * y + phase[i]).astype(np.float32)
    return total * np.float32(np.sqrt(2.0 / waves))


def floodplain_field(
    *,
    country: shapely.Geometry,
    rng: np.random.Generator,
    cell_m: float = ZONE_CELL_M,
    reach_m: float = 1.5 * EDGE_M,
) -> Field:
    """A noisy distance-to-water field (metres) over the floodplain.

    The grid covers the waterways' bounds widened by `reach_m`, within the
    bounds of `country`.
    """
    segments = _waterways_utm()
    xy = np.vstack([seg for seg, _ in segments])
    reach = reach_m
    minx, miny, maxx, maxy = country.bounds
    x0 = np.floor(max(minx, xy[:, 0].min() - reach) / cell_m) * cell_m
    y1 = np.ceil(min(maxy, xy[:, 1].max() + reach) / cell_m) * cell_m
    x1 = min(maxx, xy[:, 0].max() + reach)
    y0 = max(miny, xy[:, 1].min() - reach)
    width, height = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    affine = Affine(cell_m, 0, x0, 0, -cell_m, y1)
    x = (x0 + (np.arange(width) + 0.5) * cell_m)[None, :]
    y = (y1 - (np.arange(height) + 0.5) * cell_m)[:, None]
    best = np.full((height, width), np.inf, dtype=np.float32)
    for (a, b), factor in segments:
        d = b - a
        t = np.clip(((x - a[0]) * d[0] + (y - a[1]) * d[1]) / (d @ d), 0.0, 1.0)
        dist = np.hypot(x - (a[0] + t * d[0]), y - (a[1] + t * d[1])) / factor
        np.minimum(best, dist.astype(np.float32), out=best)
    broad = _smooth_noise(x, y, rng, (30_000.0, 90_000.0))
    fine = _smooth_noise(x, y, rng, (4_000.0, 14_000.0))
    noisy = best * (1 + 0.18 * np.clip(broad, -2, 2)) + 1_200 * np.clip(fine, -2, 2)
    inside = rasterize(
        [country], out_shape=(height, width), transform=affine, dtype="uint8"
    ).astype(bool)
    return Field(np.maximum(noisy, 0).astype(np.float32), affine, inside)


def write_flood_zones(path: Path, *, field: Field, country: shapely.Geometry) -> int:
    """Polygonize the depth bands, smooth, clip to Cambodia; write GeoJSON (4326)."""
    bands = np.zeros(field.distance.shape, dtype=np.uint8)
    for i, (edge, _) in reversed(list(enumerate(DEPTH_BANDS))):
        bands[field.distance < edge] = i + 1
    polygons, values = [], []
    for geom, value in shapes(bands, mask=bands > 0, transform=field.transform):
        polygons.append(shapely.geometry.shape(geom))
        values.append(int(value))
    polygons = shapely.coverage_simplify(np.array(polygons), 1.2 * ZONE_CELL_M)
    clip = shapely.simplify(country, 50.0)
    shapely.prepare(clip)
    features = []
    for polygon, value in zip(polygons, values, strict=True):
        edge, depth = DEPTH_BANDS[value - 1]
        inner = DEPTH_BANDS[value - 2][0] if value > 1 else 0.0
        for part in shapely.get_parts(shapely.intersection(polygon, clip)):
            if part.geom_type != "Polygon" or part.area < MIN_ZONE_KM2 * 1e6:
                continue
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "depth_m": depth,
                        "band": f"{inner / 1000:.0f}-{edge / 1000:.0f} km",
                    },
                    "geometry": transform_geom(
                        f"EPSG:{UTM_48N}",
                        "EPSG:4326",
                        part.__geo_interface__,
                        precision=6,
                    ),
                }
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return len(features)


def depth_m(distance: np.ndarray) -> np.ndarray:
    """Flood depth (metres) from the floodplain distance; NaN beyond its edge."""
    knots = (*DEPTH_CURVE, DEPTH_CURVE_END)
    depth = np.interp(distance, [k[0] for k in knots], [k[1] for k in knots])
    return np.where(distance < EDGE_M, depth, np.nan).astype(np.float32)


def write_depth_grid(
    path: Path, *, field: Field, cell_m: float = GRID_CELL_M, crop: bool = True
) -> tuple[int, int]:
    """The depth grid at `cell_m` (UTM 48N, float32, nodata outside the floodplain),
    cropped to the floodplain unless `crop` is false; its (width, height)."""
    distance, transform_ = field.distance, field.transform
    inside = field.inside
    if crop:
        rows, cols = np.nonzero((distance < EDGE_M) & inside)
        r0, c0 = max(rows.min() - 1, 0), max(cols.min() - 1, 0)
        r1, c1 = rows.max() + 2, cols.max() + 2
        distance, inside = distance[r0:r1, c0:c1], inside[r0:r1, c0:c1]
        transform_ = transform_ @ Affine.translation(c0, r0)
    scale = round(ZONE_CELL_M / cell_m)
    height, width = distance.shape[0] * scale, distance.shape[1] * scale
    affine = transform_ @ Affine.scale(1 / scale)
    fine = np.full((height, width), np.inf, dtype=np.float32)
    reproject(
        distance,
        fine,
        src_transform=transform_,
        dst_transform=affine,
        src_crs=f"EPSG:{UTM_48N}",
        dst_crs=f"EPSG:{UTM_48N}",
        resampling=Resampling.bilinear,
    )
    # The depth curve through a 10 m lookup table: much faster than np.interp.
    step = 10.0
    table = np.nan_to_num(depth_m(np.arange(0, EDGE_M + 2 * step, step)), nan=NODATA)
    index = np.minimum(fine / step, len(table) - 1).astype(np.int32)
    depth = table[index]
    depth[~np.repeat(np.repeat(inside, scale, axis=0), scale, axis=1)] = NODATA
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{UTM_48N}",
        "transform": affine,
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
    }
    with rasterio.open(path, "w", **profile) as out:  # the import compresses it
        out.write(depth, 1)
        out.update_tags(1, units="m")
    return width, height


def write_storm_subset(source: Path, target: Path, *, storm: str) -> int:
    """Copy the rows of one storm (by JTWC serial number, SN) to a new CSV."""
    with source.open(newline="") as fh, target.open("w", newline="") as out:
        reader = csv.DictReader(fh)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        rows = [row for row in reader if row["SN"] == storm]
        writer.writerows(rows)
    return len(rows)


register_demo_step(
    DemoStep("hazard layers", 30, demo_hazard_layers, loaded=HazardLayer.objects.exists)
)
