"""Hazard vector files and best-track tables, read into features in EPSG:4326.

GeoJSON, GeoPackage, zipped Shapefile and KML files hold zones (polygons) or
storm tracks (lines); the geometry type decides which. Every geometry is
reprojected from its file's CRS (or `srid`) to EPSG:4326, invalid polygons are
repaired (a repair is reported, not a failure), and features with empty or
non-finite geometry are rejected. Best-track tables (JTWC, IBTrACS: one storm
fix per row) become track segments between consecutive fixes.
"""

from hazards.vectors.base import (
    RASTER_SUFFIXES,
    SUFFIXES,
    TABLE_SUFFIXES,
    TRACK_COLUMNS,
    TRACK_REACH_KM,
    VECTOR_FORMATS,
    WGS84,
    WIND_RADIUS_KM,
    Bounds,
    Feature,
    FileKind,
    GeometryKind,
    Parsed,
    Region,
    Track,
    VectorRead,
    Zone,
    keep_near,
    wind_radius_km,
)
from hazards.vectors.besttrack import (
    BEST_TRACK_COLUMNS,
    OPTION_OF,
    best_track_from_points,
    best_track_from_rows,
    read_best_track,
)
from hazards.vectors.files import (
    file_kind,
    read_vector,
    tracks_from_lines,
    zones_from,
)

__all__ = [
    "BEST_TRACK_COLUMNS",
    "OPTION_OF",
    "RASTER_SUFFIXES",
    "SUFFIXES",
    "TABLE_SUFFIXES",
    "TRACK_COLUMNS",
    "TRACK_REACH_KM",
    "VECTOR_FORMATS",
    "WGS84",
    "WIND_RADIUS_KM",
    "Bounds",
    "Feature",
    "FileKind",
    "GeometryKind",
    "Parsed",
    "Region",
    "Track",
    "VectorRead",
    "Zone",
    "best_track_from_points",
    "best_track_from_rows",
    "file_kind",
    "keep_near",
    "read_best_track",
    "read_vector",
    "tracks_from_lines",
    "wind_radius_km",
    "zones_from",
]
