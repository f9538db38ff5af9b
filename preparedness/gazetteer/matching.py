"""Matching sources of administrative units: gazetteer to list, polygons to units.

Whatever cannot be matched with confidence is returned as a `Finding`, never guessed.
"""

import difflib
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from preparedness.gazetteer.sources import (
    BOUNDARY_LAYERS,
    LEVELS,
    BoundaryFeature,
    BoundaryMatch,
    Finding,
    GazetteerRow,
    Reconciliation,
    UnitRow,
    polygonal,
)
from preparedness.text import name_match_key, search_key

# A gazetteer centroid "agrees" with a polygon within this distance (metres).
CENTROID_TOLERANCE_M = 5_000.0
# Khmer spellings at least this similar (difflib ratio) name the same unit.
SAME_NAME_RATIO = 0.75
# Words that prefix Khmer names in one list and not the other: capital,
# province, town, district, khan, commune, sangkat, "number".
_KHMER_PREFIXES = ("រាជធានី", "ខេត្ត", "ក្រុង", "ស្រុក", "ខណ្ឌ", "ឃុំ", "សង្កាត់", "លេខ")
_COENG_DA, _COENG_TA = "\u17d2\u178a", "\u17d2\u178f"  # written interchangeably
_ISO_CODE = re.compile(r"^KH-(\d{1,2})$")

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
    geometries = {code: polygonal(shapely.union_all(g)) for code, g in parts.items()}
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
