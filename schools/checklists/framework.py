"""A safety framework version as data: areas, checklist items and scoring rules.

Frameworks ship as JSON files in `schools/frameworks/` (one per version). This
module reads a file into plain, frozen objects and checks every rule, naming the
area or item at fault, so a bad file never reaches the database. Scoring reads
the same objects (`scoring.py`), from the document stored with each version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from preparedness.readers import InputError

FRAMEWORK_DIR = Path(__file__).resolve().parent.parent / "frameworks"

YES, PARTIAL, NO, NA = "yes", "partial", "no", "na"
CHOICES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "yes_no": (YES, NO),
    "ynp": (YES, PARTIAL, NO),
    "ynpna": (YES, PARTIAL, NO, NA),
    "number": (),
}
ITEM_CODE = re.compile(r"^[A-Z][A-Z0-9]*\.\d{2}$")
AREA_CODE = re.compile(r"^[A-Z][A-Z0-9]*$")

# Fields a reviewer may change in a version already loaded: wording, not rules.
TEXT_FIELDS = frozenset(
    {
        "title_en",
        "title_km",
        "name_en",
        "name_km",
        "question_en",
        "question_km",
        "help_en",
        "help_km",
        "label_en",
        "label_km",
        "unit_en",
        "unit_km",
        "km_reviewed",
    }
)


class FrameworkError(InputError):
    """A framework file that breaks a rule; the message names where."""


@dataclass(frozen=True)
class NumberRule:
    """Accepted range of a number answer and how it scores (step thresholds)."""

    minimum: float
    maximum: float
    integer: bool
    scores: tuple[tuple[float, float], ...]
    unit_en: str = ""
    unit_km: str = ""

    def value(self, x: float) -> float:
        """The score in [0, 1] of the last threshold at or below `x`."""
        result = self.scores[0][1]
        for threshold, value in self.scores:
            if x >= threshold:
                result = value
        return result


@dataclass(frozen=True)
class CriticalRule:
    """When an answer is a critical gap, and the conditions that must all hold."""

    answers: frozenset[str] = frozenset()
    below: float | None = None
    at_least: float | None = None
    hazards: frozenset[str] = frozenset()
    min_hazard_class: int = 0
    evacuation_centre: bool = False
    unless_item: str | None = None
    unless_answers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Item:
    code: str
    area: str
    answer_type: str
    weight: float
    question_en: str
    question_km: str
    help_en: str = ""
    help_km: str = ""
    km_reviewed: bool = False
    number: NumberRule | None = None
    critical: CriticalRule | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        return CHOICES_BY_TYPE[self.answer_type]


@dataclass(frozen=True)
class Area:
    code: str
    weight: float
    name_en: str
    name_km: str
    km_reviewed: bool
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Grade:
    code: str
    min_score: float
    label_en: str
    label_km: str


@dataclass(frozen=True)
class Framework:
    version: str
    title_en: str
    title_km: str
    published_on: str
    grades: tuple[Grade, ...]  # best first
    cap_grade: str
    areas: tuple[Area, ...]
    items: Mapping[str, Item] = field(default_factory=dict)

    def item(self, code: str) -> Item | None:
        return self.items.get(code)


def read_framework_file(path: Path | str) -> tuple[Framework, dict[str, Any]]:
    """Read and check a framework file; return the framework and the raw document."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FrameworkError(f"{path}: no such file") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameworkError(f"{path}: not a UTF-8 JSON file ({exc})") from exc
    return parse_framework(document), document


def shipped_framework_files() -> list[Path]:
    """The framework versions shipped with SalaSafe, oldest first."""
    return sorted(FRAMEWORK_DIR.glob("*.json"))


def parse_framework(document: Any) -> Framework:
    """Check a framework document and build its objects, or name the fault."""
    if not isinstance(document, dict):
        raise FrameworkError("the framework must be a JSON object")
    version = _text(document, "version", "framework")
    grades = tuple(
        _grade(g, f"grades[{i}]") for i, g in enumerate(_list(document, "grades", ""))
    )
    if not grades:
        raise FrameworkError("grades: give at least one grade")
    mins = [g.min_score for g in grades]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        raise FrameworkError("grades: list them best first, min_score decreasing")
    if mins[-1] != 0:
        raise FrameworkError("grades: the last grade must start at min_score 0")
    cap = _text(document, "critical_gap_caps_grade_at", "framework")
    if cap not in {g.code for g in grades}:
        raise FrameworkError(f"critical_gap_caps_grade_at: {cap!r} is not a grade code")
    areas = tuple(
        _area(a, f"areas[{i}]") for i, a in enumerate(_list(document, "areas", ""))
    )
    if not areas:
        raise FrameworkError("areas: give at least one area")
    items: dict[str, Item] = {}
    for area in areas:
        for item in area.items:
            if item.code in items:
                raise FrameworkError(f"item {item.code}: code used twice")
            items[item.code] = item
    if len({a.code for a in areas}) != len(areas):
        raise FrameworkError("areas: each area code must be unique")
    for item in items.values():
        rule = item.critical
        if rule and rule.unless_item and rule.unless_item not in items:
            raise FrameworkError(
                f"item {item.code}: critical.unless names unknown item "
                f"{rule.unless_item}"
            )
    return Framework(
        version=version,
        title_en=_text(document, "title_en", "framework"),
        title_km=_text(document, "title_km", "framework"),
        published_on=str(document.get("published_on", "")),
        grades=grades,
        cap_grade=cap,
        areas=areas,
        items=items,
    )


def rules_differ(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Paths where two documents differ in anything but wording (TEXT_FIELDS)."""
    differences: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key in TEXT_FIELDS:
                    continue
                walk(a.get(key), b.get(key), f"{where}.{key}" if where else key)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]")
        elif a != b:
            differences.append(where)

    walk(dict(old), dict(new), "")
    return differences


def _area(raw: Any, where: str) -> Area:
    if not isinstance(raw, dict):
        raise FrameworkError(f"{where}: must be an object")
    code = _text(raw, "code", where)
    if not AREA_CODE.match(code):
        raise FrameworkError(f"{where}.code: {code!r} is not an area code like P1")
    where = f"area {code}"
    items = tuple(
        _item(it, code, f"{where} items[{i}]")
        for i, it in enumerate(_list(raw, "items", where))
    )
    if not items:
        raise FrameworkError(f"{where}: give at least one item")
    return Area(
        code=code,
        weight=_positive(raw, "weight", where),
        name_en=_text(raw, "name_en", where),
        name_km=_text(raw, "name_km", where),
        km_reviewed=bool(raw.get("km_reviewed", False)),
        items=items,
    )


def _item(raw: Any, area: str, where: str) -> Item:
    if not isinstance(raw, dict):
        raise FrameworkError(f"{where}: must be an object")
    code = _text(raw, "code", where)
    if not ITEM_CODE.match(code) or not code.startswith(f"{area}."):
        raise FrameworkError(f"{where}.code: {code!r} must look like {area}.01")
    where = f"item {code}"
    answer_type = _text(raw, "answer_type", where)
    if answer_type not in CHOICES_BY_TYPE:
        raise FrameworkError(
            f"{where}.answer_type: {answer_type!r} is not one of "
            + ", ".join(CHOICES_BY_TYPE)
        )
    number = None
    if answer_type == "number":
        number = _number_rule(raw.get("number"), f"{where}.number")
    elif "number" in raw:
        raise FrameworkError(f"{where}.number: only number items have a number rule")
    critical = None
    if raw.get("critical") is not None:
        critical = _critical(raw["critical"], answer_type, f"{where}.critical")
    return Item(
        code=code,
        area=area,
        answer_type=answer_type,
        weight=_positive(raw, "weight", where),
        question_en=_text(raw, "question_en", where),
        question_km=_text(raw, "question_km", where),
        help_en=str(raw.get("help_en", "")),
        help_km=str(raw.get("help_km", "")),
        km_reviewed=bool(raw.get("km_reviewed", False)),
        number=number,
        critical=critical,
    )


def _number_rule(raw: Any, where: str) -> NumberRule:
    if not isinstance(raw, dict):
        raise FrameworkError(f"{where}: number items need a number rule")
    minimum = _finite(raw, "min", where)
    maximum = _finite(raw, "max", where)
    if maximum <= minimum:
        raise FrameworkError(f"{where}: max must be greater than min")
    steps = raw.get("scores")
    if not isinstance(steps, list) or not steps:
        raise FrameworkError(f"{where}.scores: give [threshold, value] pairs")
    scores: list[tuple[float, float]] = []
    for i, step in enumerate(steps):
        if (
            not isinstance(step, list | tuple)
            or len(step) != 2
            or not all(_is_number(v) for v in step)
        ):
            raise FrameworkError(f"{where}.scores[{i}]: must be [threshold, value]")
        threshold, value = float(step[0]), float(step[1])
        if not 0 <= value <= 1:
            raise FrameworkError(f"{where}.scores[{i}]: value must be within 0-1")
        if scores and threshold <= scores[-1][0]:
            raise FrameworkError(f"{where}.scores: thresholds must increase")
        scores.append((threshold, value))
    if scores[0][0] != minimum:
        raise FrameworkError(f"{where}.scores: the first threshold must equal min")
    return NumberRule(
        minimum=minimum,
        maximum=maximum,
        integer=bool(raw.get("integer", False)),
        scores=tuple(scores),
        unit_en=str(raw.get("unit_en", "")),
        unit_km=str(raw.get("unit_km", "")),
    )


def _critical(raw: Any, answer_type: str, where: str) -> CriticalRule:
    if not isinstance(raw, dict):
        raise FrameworkError(f"{where}: must be an object")
    known = {
        "answers",
        "below",
        "at_least",
        "hazards",
        "min_hazard_class",
        "evacuation_centre",
        "unless",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FrameworkError(f"{where}: unknown key {unknown[0]!r}")
    given = [k for k in ("answers", "below", "at_least") if k in raw]
    if len(given) != 1:
        raise FrameworkError(f"{where}: give exactly one of answers, below, at_least")
    answers: frozenset[str] = frozenset()
    below = at_least = None
    if "answers" in raw:
        if answer_type == "number":
            raise FrameworkError(f"{where}.answers: number items use below or at_least")
        answers = frozenset(raw["answers"])
        allowed = set(CHOICES_BY_TYPE[answer_type]) - {YES, NA}
        if not answers or not answers <= allowed:
            raise FrameworkError(
                f"{where}.answers: choose from " + ", ".join(sorted(allowed))
            )
    else:
        if answer_type != "number":
            raise FrameworkError(f"{where}: below and at_least are for number items")
        below = _finite(raw, "below", where) if "below" in raw else None
        at_least = _finite(raw, "at_least", where) if "at_least" in raw else None
    hazards = raw.get("hazards", [])
    if not isinstance(hazards, list) or not all(isinstance(h, str) for h in hazards):
        raise FrameworkError(f"{where}.hazards: must be a list of hazard types")
    min_class = raw.get("min_hazard_class", 0)
    if hazards and (not isinstance(min_class, int) or not 1 <= min_class <= 4):
        raise FrameworkError(f"{where}.min_hazard_class: must be 1-4")
    unless = raw.get("unless")
    unless_item, unless_answers = None, frozenset[str]()
    if unless is not None:
        if not isinstance(unless, dict) or not isinstance(unless.get("item"), str):
            raise FrameworkError(f"{where}.unless: give an item and answers")
        unless_item = unless["item"]
        unless_answers = frozenset(unless.get("answers") or ())
        if not unless_answers:
            raise FrameworkError(f"{where}.unless.answers: give at least one answer")
    return CriticalRule(
        answers=answers,
        below=below,
        at_least=at_least,
        hazards=frozenset(hazards),
        min_hazard_class=min_class if hazards else 0,
        evacuation_centre=bool(raw.get("evacuation_centre", False)),
        unless_item=unless_item,
        unless_answers=unless_answers,
    )


def _grade(raw: Any, where: str) -> Grade:
    if not isinstance(raw, dict):
        raise FrameworkError(f"{where}: must be an object")
    return Grade(
        code=_text(raw, "code", where),
        min_score=_finite(raw, "min_score", where),
        label_en=_text(raw, "label_en", where),
        label_km=_text(raw, "label_km", where),
    )


def _list(raw: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = raw.get(key)
    if not isinstance(value, list):
        raise FrameworkError(f"{where + '.' if where else ''}{key}: must be a list")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FrameworkError(f"{where}.{key}: required text")
    return value.strip()


def _is_number(value: Any) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )


def _finite(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if not _is_number(value):
        raise FrameworkError(f"{where}.{key}: must be a number")
    return float(value)


def _positive(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = _finite(raw, key, where)
    if value <= 0:
        raise FrameworkError(f"{where}.{key}: must be greater than 0")
    return value
