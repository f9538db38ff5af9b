"""Exports of the feature collections as GeoJSON, CSV, GeoPackage and KML.

One code path for the API (`maps.export_views`) and `manage.py export`:
GeoJSON and CSV stream from a server-side cursor; GeoPackage and KML are
written by GDAL's `ogr2ogr` from a flat GeoJSON of the same rows into a
private temporary folder, then read back and deleted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db.models import F

from maps.feature_sql import (
    PointX,
    PointY,
    feature_collection_chunks,
    feature_texts,
    flat_rows,
    stream_texts,
)
from maps.selectors import Collection, Viewer, collection_rows
from preparedness.csvexport import csv_lines


@dataclass(frozen=True)
class Format:
    extension: str
    content_type: str
    ogr_driver: str = ""


FORMATS = {
    "geojson": Format("geojson", "application/geo+json"),
    "csv": Format("csv", "text/csv; charset=utf-8"),
    "gpkg": Format("gpkg", "application/geopackage+sqlite3", "GPKG"),
    "kml": Format("kml", "application/vnd.google-earth.kml+xml", "KML"),
}


class ExportError(Exception):
    """GDAL could not write the file (its message is in the text)."""


def geojson_chunks(
    *, collection: Collection, viewer: Viewer, filters: Mapping[str, Any]
) -> Iterator[bytes]:
    """The selection as an RFC 7946 FeatureCollection, piece by piece."""
    texts = feature_texts(
        collection_rows(collection=collection, viewer=viewer, filters=filters),
        id=F(collection.id_field),
        geometry=collection.geometry,
        properties=collection.properties(viewer),
    )
    return feature_collection_chunks(stream_texts(texts))


def csv_header(collection: Collection, viewer: Viewer) -> list[str]:
    return [*collection.flat(viewer), "lon", "lat"]


def csv_chunks(
    *,
    collection: Collection,
    viewer: Viewer,
    filters: Mapping[str, Any],
    hxl: bool = False,
) -> Iterator[str]:
    """The selection as CSV (UTF-8 with BOM, formulas neutralised), with lon/lat
    of each point (of a point on the surface of each polygon) and, with `hxl`,
    the HXL hashtag row under the header."""
    columns = {
        **collection.flat(viewer),
        "lon": PointX(F(collection.geometry)),
        "lat": PointY(F(collection.geometry)),
    }
    rows = flat_rows(
        collection_rows(collection=collection, viewer=viewer, filters=filters),
        columns,
    )
    extra = [[collection.hxl.get(name, "") for name in columns]] if hxl else []
    return csv_lines(list(columns), rows, extra=extra)


def _flat_geojson(
    path: Path, collection: Collection, viewer: Viewer, filters: Mapping[str, Any]
) -> None:
    texts = feature_texts(
        collection_rows(collection=collection, viewer=viewer, filters=filters),
        id=F(collection.id_field),
        geometry=collection.geometry,
        properties=collection.flat(viewer),
    )
    with path.open("wb") as out:
        for chunk in feature_collection_chunks(stream_texts(texts)):
            out.write(chunk)


def ogr_export(
    *,
    collection: Collection,
    viewer: Viewer,
    filters: Mapping[str, Any],
    fmt: str,
    out: Path,
) -> Path:
    """Write the selection to `out` as GeoPackage or KML with ogr2ogr."""
    driver = FORMATS[fmt].ogr_driver
    with tempfile.TemporaryDirectory(prefix="salasafe-export-") as folder:
        source = Path(folder) / f"{collection.name}.geojson"
        _flat_geojson(source, collection, viewer, filters)
        command = ["ogr2ogr", "-f", driver, str(out), str(source)]
        command += ["-nln", collection.name, "-overwrite"]
        if fmt == "gpkg":
            command += ["-nlt", collection.geometry_type.upper()]
        if fmt == "kml":
            command += ["-dsco", "NameField=name_en"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ExportError(done.stderr.strip() or "ogr2ogr failed")
    return out


def ogr_export_file(
    *,
    collection: Collection,
    viewer: Viewer,
    filters: Mapping[str, Any],
    fmt: str,
) -> IO[bytes]:
    """The GeoPackage or KML as an open file whose name is already deleted: it
    vanishes when closed (after the response has streamed it)."""
    folder = Path(tempfile.mkdtemp(prefix="salasafe-export-"))
    try:
        path = ogr_export(
            collection=collection,
            viewer=viewer,
            filters=filters,
            fmt=fmt,
            out=folder / f"{collection.name}.{FORMATS[fmt].extension}",
        )
        return path.open("rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def export_to_path(
    *,
    collection: Collection,
    viewer: Viewer,
    filters: Mapping[str, Any],
    fmt: str,
    out: Path,
    hxl: bool = False,
) -> Path:
    """Write the selection to `out` in `fmt` (the command's entry point)."""
    if fmt == "geojson":
        with out.open("wb") as file:
            for chunk in geojson_chunks(
                collection=collection, viewer=viewer, filters=filters
            ):
                file.write(chunk)
    elif fmt == "csv":
        with out.open("w", encoding="utf-8", newline="") as text:
            for line in csv_chunks(
                collection=collection, viewer=viewer, filters=filters, hxl=hxl
            ):
                text.write(line)
    else:
        ogr_export(
            collection=collection, viewer=viewer, filters=filters, fmt=fmt, out=out
        )
    return out
