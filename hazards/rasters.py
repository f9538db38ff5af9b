"""Hazard rasters: the only module that opens rasters (with rasterio).

A raster layer is one band of intensity (flood depth in metres, ...) in any CRS.
On import it is checked (`raster_check`), then written as a Cloud-Optimized
GeoTIFF to the media storage (MEDIA_ROOT, or S3-compatible object storage) with a
name the server chooses (`raster_store`), so later reads fetch only the tiles
they need; `raster_source` says where GDAL reads a stored raster (a local path,
or /vsis3/ by HTTP range requests). `sample` answers "what is the intensity at
these points?" for many points at once: one window read, then numpy indexing.
"""

from __future__ import annotations

import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.shutil
import rasterio.transform
from django.core.files import File
from django.core.files.storage import default_storage, storages
from rasterio.crs import CRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.errors import CRSError, RasterioError
from rasterio.io import DatasetReader
from rasterio.session import AWSSession
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform, transform_bounds
from rasterio.windows import Window

from hazards.errors import RasterError
from hazards.models import HazardLayer
from preparedness.uploads import UploadRefused, check_file, check_raster_size

WGS84 = CRS.from_epsg(4326)
RASTER_DIR = "hazards"  # in the media storage; matches HazardLayer.raster's upload_to
# COG layout: 512-pixel tiles, lossless DEFLATE, overviews by nearest neighbour
# (they are for display; intensities are always sampled at full resolution).
COG_OPTIONS = {
    "BLOCKSIZE": 512,
    "COMPRESS": "DEFLATE",
    "PREDICTOR": "YES",
    "OVERVIEWS": "AUTO",
    "RESAMPLING": "NEAREST",
    "BIGTIFF": "IF_SAFER",
}
# Pixels read at once when looking for a valid cell in a decimated view.
PREVIEW_PIXELS = 1024

Bounds = tuple[float, float, float, float]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RasterInfo:
    """What a checked raster is: size, CRS, nodata, type and lon/lat bounds."""

    width: int
    height: int
    crs: str
    nodata: float | None
    dtype: str
    bounds: Bounds  # EPSG:4326 lon/lat

    def summary(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "crs": self.crs,
            "nodata": self.nodata,
            "dtype": self.dtype,
            "bounds": list(self.bounds),
        }


def raster_check(
    path: Path | str, *, srid: int | None = None, region: Bounds | None = None
) -> RasterInfo:
    """Check that a file is a single-band georeferenced raster with data in `region`.

    `srid` assigns the CRS (required when the file has none). `region` is a
    lon/lat box; a raster entirely outside it is refused.
    """
    path = Path(path)
    with _opened(path, srid=srid) as src:
        if src.count != 1:
            raise RasterError(
                f"{path.name} has {src.count} bands; a hazard raster has one band "
                "of intensity"
            )
        try:
            bounds = transform_bounds(src.crs, WGS84, *src.bounds, densify_pts=21)
        except (CRSError, RasterioError) as exc:
            raise RasterError(
                f"{path.name}: its extent cannot be transformed to EPSG:4326 ({exc})"
            ) from None
        if not all(np.isfinite(bounds)):
            raise RasterError(
                f"{path.name}: its extent cannot be transformed to EPSG:4326"
            )
        if region is not None and not _boxes_meet(bounds, region):
            raise RasterError(
                f"{path.name} lies entirely outside Cambodia (its extent is "
                f"lon {bounds[0]:.3f} to {bounds[2]:.3f}, "
                f"lat {bounds[1]:.3f} to {bounds[3]:.3f})"
            )
        if not _has_data(src):
            raise RasterError(f"{path.name}: every cell is nodata")
        crs = src.crs
        return RasterInfo(
            width=src.width,
            height=src.height,
            crs=f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt(),
            nodata=None if src.nodata is None else float(src.nodata),
            dtype=str(src.dtypes[0]),
            bounds=tuple(float(b) for b in bounds),  # type: ignore[arg-type]
        )


def raster_store(path: Path | str, *, srid: int | None = None) -> str:
    """Write `path` as a COG to the media storage under hazards/; return its name.

    The file name is chosen here (a random hex name), never taken from the input.
    The COG is written to a local temporary file, then handed to the storage (a
    rename under MEDIA_ROOT, an upload to object storage). The caller deletes the
    file with `raster_remove` if its database write fails.
    """
    name = f"{RASTER_DIR}/{uuid.uuid4().hex}.tif"
    with tempfile.TemporaryDirectory(prefix="salasafe-cog-") as folder:
        target = Path(folder) / "cog.tif"
        with _opened(Path(path), srid=srid) as src:
            rasterio.shutil.copy(src, target, driver="COG", **COG_OPTIONS)
        with target.open("rb") as handle:
            stored = default_storage.save(name, _LocalFile(handle, name=str(target)))
    return stored


class _LocalFile(File):
    """A finished local file: FileSystemStorage moves it rather than copying."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def raster_source(name: str) -> str:
    """Where GDAL reads the stored raster `name`: its path under MEDIA_ROOT, or
    /vsis3/<bucket>/<key> when the media storage is S3 (read by window through
    HTTP range requests, with the options of `_gdal_env`)."""
    s3 = _s3_storage()
    if s3 is None:
        return default_storage.path(name)
    key = posixpath.join(s3.location, name) if s3.location else name
    return f"/vsis3/{s3.bucket_name}/{key}"


def _s3_storage() -> Any | None:
    """The media storage when it is django-storages' S3 backend, else None."""
    storage = storages["default"]
    backends = {kind.__module__ for kind in type(storage).__mro__}
    return storage if "storages.backends.s3" in backends else None


@contextmanager
def _gdal_env() -> Iterator[None]:
    """GDAL's options to read the media storage: for S3 the endpoint, keys,
    region, plain HTTP and path-style addressing of the storage's settings."""
    s3 = _s3_storage()
    if s3 is None:
        yield
        return
    # Keys go through rasterio's AWS session (it refuses them as plain options).
    endpoint = urlsplit(s3.endpoint_url or "")
    session = AWSSession(
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        aws_session_token=s3.security_token,
        region_name=s3.region_name,
        endpoint_url=endpoint.netloc or None,
    )
    options = {
        # Only the rasters are opened: no directory listing, no sidecar probes.
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
    }
    if endpoint.scheme == "http":
        options["AWS_HTTPS"] = "NO"
    if s3.addressing_style == "path":
        options["AWS_VIRTUAL_HOSTING"] = "FALSE"
    with rasterio.Env(session=session, **options):
        yield


def raster_remove(name: str) -> None:
    """Delete a stored raster (nothing if it is already gone)."""
    if name:
        default_storage.delete(name)


def sample(layer: HazardLayer, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Intensities of a raster layer at EPSG:4326 points; NaN for nodata or outside.

    The points are transformed into the raster's CRS, the window covering all of
    them is read once, and each point takes the value of the cell it falls in.
    """
    if layer.representation != HazardLayer.Representation.RASTER or not layer.raster:
        raise ValueError(f"layer {layer.pk} is not a raster layer")
    with _gdal_env():
        return sample_file(raster_source(layer.raster.name), lon, lat)


def sample_file(path: Path | str, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """`sample` for a raster file: values at lon/lat points, NaN for nodata/outside."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        raise ValueError("lon and lat must have the same shape")
    out = np.full(lon_a.shape, np.nan)
    finite = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not finite.any():
        return out
    with rasterio.open(path) as src:
        xs, ys = transform(WGS84, src.crs, lon_a[finite], lat_a[finite])
        x, y, inverse = np.asarray(xs), np.asarray(ys), ~src.transform
        cols = inverse.a * x + inverse.b * y + inverse.c
        rows = inverse.d * x + inverse.e * y + inverse.f
        ok = np.isfinite(cols) & np.isfinite(rows)
        ok[ok] &= (cols[ok] >= 0) & (cols[ok] < src.width)
        ok[ok] &= (rows[ok] >= 0) & (rows[ok] < src.height)
        if not ok.any():
            return out
        col = np.floor(cols[ok]).astype(np.int64)
        row = np.floor(rows[ok]).astype(np.int64)
        c0, r0 = int(col.min()), int(row.min())
        window = Window(c0, r0, int(col.max()) - c0 + 1, int(row.max()) - r0 + 1)
        nodata = _plain_nodata(src)
        if nodata is False:
            # A mask band or alpha: let GDAL mask the whole window.
            data = src.read(1, window=window, masked=True)
            values = np.ma.filled(data[row - r0, col - c0].astype(np.float64), np.nan)
        else:
            # A masked read builds a mask for every cell of the window (the
            # whole country for a national grid, 3x the read); masking the
            # gathered cells only gives the same values.
            cells = src.read(1, window=window)[row - r0, col - c0]
            values = cells.astype(np.float64)
            if nodata is not None:
                values[_nodata_cells(cells, nodata)] = np.nan
    hits = np.flatnonzero(finite)[ok]
    out.flat[hits] = values
    return out


WEB_MERCATOR = CRS.from_epsg(3857)


@dataclass(frozen=True)
class Preview:
    """A raster layer resampled for display: intensities in Web Mercator (masked
    where nodata) and the lon/lat box the grid covers."""

    values: np.ma.MaskedArray
    bounds: Bounds  # EPSG:4326 lon/lat: west, south, east, north


def preview(layer: HazardLayer, *, max_pixels: int = 1024) -> Preview:
    """The layer's intensities warped to EPSG:3857 (what a web map draws) at most
    `max_pixels` on the longer side, read from the COG's overviews."""
    if layer.representation != HazardLayer.Representation.RASTER or not layer.raster:
        raise ValueError(f"layer {layer.pk} is not a raster layer")
    with _gdal_env(), _opened(raster_source(layer.raster.name), srid=None) as src:
        west, south, east, north = transform_bounds(
            src.crs, WEB_MERCATOR, *src.bounds, densify_pts=21
        )
        scale = max(east - west, north - south) / max_pixels
        width = max(1, round((east - west) / scale))
        height = max(1, round((north - south) / scale))
        with WarpedVRT(
            src,
            crs=WEB_MERCATOR,
            transform=rasterio.transform.from_bounds(
                west, south, east, north, width, height
            ),
            width=width,
            height=height,
            resampling=Resampling.nearest,
        ) as vrt:
            values = vrt.read(1, masked=True).astype("float64")
    lon_lat = transform_bounds(WEB_MERCATOR, WGS84, west, south, east, north)
    return Preview(values=values, bounds=tuple(float(b) for b in lon_lat))  # type: ignore[arg-type]


def _plain_nodata(src: DatasetReader) -> float | Literal[False] | None:
    """The nodata value that alone masks the band (None: every cell is valid), or
    False when GDAL masks it otherwise (a mask band, alpha, an odd nodata)."""
    flags = src.mask_flag_enums[0]
    if flags == [MaskFlags.all_valid]:
        return None
    if flags != [MaskFlags.nodata] or src.nodata is None:
        return False
    nodata = float(src.nodata)
    kind = np.dtype(src.dtypes[0]).kind
    if kind == "f":
        return nodata
    info = np.iinfo(src.dtypes[0]) if kind in "iu" else None
    if info is not None and nodata.is_integer() and info.min <= nodata <= info.max:
        return nodata
    return False


def _nodata_cells(cells: np.ndarray, nodata: float) -> npt.NDArray[np.bool_]:
    """Which cells GDAL's nodata mask hides: equal to `nodata`; for floating-point
    bands also within 2 float32 epsilons of it, relatively (GDAL's
    ARE_REAL_EQUAL, in the band's type), or NaN when `nodata` is NaN."""
    if cells.dtype.kind != "f":
        return cells == cells.dtype.type(nodata)
    if np.isnan(nodata):
        return np.isnan(cells)
    kind = cells.dtype.type
    value = kind(nodata)
    with np.errstate(over="ignore", invalid="ignore"):
        near = np.abs(cells - value) < kind(np.finfo(np.float32).eps) * np.abs(
            cells + value
        ) * kind(2)
    return (cells == value) | near


@contextmanager
def _opened(
    source: Path | str, *, srid: int | None
) -> Iterator[DatasetReader | WarpedVRT]:
    """Open a GeoTIFF with a CRS: its own, or `srid` (a no-op warp assigns it)."""
    path = PurePosixPath(source)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise RasterError(f"{path.name}: a hazard raster must be a GeoTIFF (.tif)")
    try:
        if not str(source).startswith("/vsi"):  # objects in storage are our COGs
            check_file(Path(source))  # a TIFF by content, not a VRT or other format
        src = rasterio.open(str(source))
    except UploadRefused as exc:
        raise RasterError(str(exc)) from None
    except RasterioError as exc:
        raise RasterError(f"{path.name}: not a readable GeoTIFF ({exc})") from None
    with src:
        if src.driver not in ("GTiff", "COG"):
            raise RasterError(f"{path.name}: a {src.driver} file, not a GeoTIFF")
        try:  # from the header, before a pixel is read
            check_raster_size(
                width=src.width, height=src.height, bands=src.count, name=path.name
            )
        except UploadRefused as exc:
            raise RasterError(str(exc)) from None
        if srid is None:
            if src.crs is None:
                raise RasterError(
                    f"{path.name} has no coordinate reference system; "
                    "give its EPSG code with --srid"
                )
            yield src
            return
        try:
            crs = CRS.from_epsg(srid)
        except CRSError:
            raise RasterError(f"EPSG:{srid} is not a known CRS", field="srid") from None
        with WarpedVRT(
            src,
            src_crs=crs,
            crs=crs,
            transform=src.transform,
            width=src.width,
            height=src.height,
            resampling=Resampling.nearest,
        ) as vrt:
            yield vrt


def _has_data(src: DatasetReader | WarpedVRT) -> bool:
    """Whether any cell holds a value: a decimated look first, then block by block."""
    scale = max(1, max(src.width, src.height) // PREVIEW_PIXELS)
    shape = (max(1, src.height // scale), max(1, src.width // scale))
    if _valid(src.read(1, out_shape=shape, masked=True)):
        return True
    if scale == 1:
        return False
    return any(
        _valid(src.read(1, window=window, masked=True))
        for _, window in src.block_windows(1)
    )


def _valid(data: np.ma.MaskedArray) -> bool:
    values = data.compressed()
    if values.dtype.kind == "f":
        return bool(np.isfinite(values).any())
    return bool(values.size)


def _boxes_meet(a: Bounds, b: Bounds) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
