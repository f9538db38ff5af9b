"""CSS scores from checklist answers: pure functions, documented in docs/methodology.md.

- Each answer is worth a value in [0, 1]: yes 1, partial 0.5, no 0; a number goes
  through its item's step thresholds. "Not applicable" and unanswered items are
  left out of both sides of the sums.
- Area score = 100 x sum(weight x value) / sum(weight) over its counted items.
- Overall score = the area scores averaged with the area weights (areas with no
  counted item are left out).
- Grade = the best band whose minimum the overall score reaches; any critical gap
  caps it at the framework's cap grade.
- Critical gaps depend on the answer and, for some items, on the school: its
  hazard class per type and whether it is a designated evacuation centre. The
  assessment keeps that context, so a later hazard change never rewrites it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from schools.checklists.framework import NA, NO, PARTIAL, YES, Framework, Item

CHOICE_VALUE = {YES: 1.0, PARTIAL: 0.5, NO: 0.0}

# An answer is a choice code ("yes", "partial", "no", "na") or a number.
AnswerValue = str | float


@dataclass(frozen=True)
class SchoolContext:
    """What critical rules may depend on, captured when an assessment is scored."""

    hazard_levels: Mapping[str, int] = field(default_factory=dict)
    evacuation_centre: bool = False

    def as_json(self) -> dict:
        return {
            "hazard_levels": dict(self.hazard_levels),
            "evacuation_centre": self.evacuation_centre,
        }

    @classmethod
    def from_json(cls, data: Mapping | None) -> SchoolContext:
        data = data or {}
        return cls(
            hazard_levels={
                str(k): int(v) for k, v in (data.get("hazard_levels") or {}).items()
            },
            evacuation_centre=bool(data.get("evacuation_centre", False)),
        )


@dataclass(frozen=True)
class Score:
    overall: float | None
    areas: dict[str, float | None]
    critical_gaps: tuple[str, ...]
    grade: str | None
    counted: int  # items answered and applicable

    def as_json(self) -> dict:
        return {
            "overall": self.overall,
            "areas": self.areas,
            "critical_gaps": list(self.critical_gaps),
            "grade": self.grade,
        }


def item_value(item: Item, answer: AnswerValue | None) -> float | None:
    """The value in [0, 1] of one answer, or None when it does not count."""
    if answer is None or answer == NA:
        return None
    if item.number is not None:
        return item.number.value(float(answer))
    return CHOICE_VALUE[str(answer)]


def is_critical_gap(
    item: Item,
    answer: AnswerValue | None,
    answers: Mapping[str, AnswerValue],
    context: SchoolContext,
) -> bool:
    """Whether this answer is a critical gap for this school."""
    rule = item.critical
    if rule is None or answer is None or answer == NA:
        return False
    if item.number is not None:
        x = float(answer)
        hit = (rule.below is not None and x < rule.below) or (
            rule.at_least is not None and x >= rule.at_least
        )
    else:
        hit = answer in rule.answers
    if not hit:
        return False
    if rule.hazards and not any(
        context.hazard_levels.get(h, 0) >= rule.min_hazard_class for h in rule.hazards
    ):
        return False
    if rule.evacuation_centre and not context.evacuation_centre:
        return False
    return not (
        rule.unless_item and answers.get(rule.unless_item) in rule.unless_answers
    )


def grade_for(framework: Framework, overall: float | None, capped: bool) -> str | None:
    """The grade band of an overall score, capped when there is a critical gap."""
    if overall is None:
        return None
    codes = [g.code for g in framework.grades]
    band = next(g.code for g in framework.grades if overall >= g.min_score)
    if capped:
        return codes[max(codes.index(band), codes.index(framework.cap_grade))]
    return band


def score(
    framework: Framework,
    answers: Mapping[str, AnswerValue],
    context: SchoolContext | None = None,
) -> Score:
    """Score a set of answers (item code -> answer) under one framework version."""
    context = context or SchoolContext()
    area_scores: dict[str, float | None] = {}
    gaps: list[str] = []
    counted = 0
    for area in framework.areas:
        earned = possible = 0.0
        for item in area.items:
            answer = answers.get(item.code)
            value = item_value(item, answer)
            if value is not None:
                earned += item.weight * value
                possible += item.weight
                counted += 1
            if is_critical_gap(item, answer, answers, context):
                gaps.append(item.code)
        area_scores[area.code] = 100.0 * earned / possible if possible else None
    weighted = [
        (area.weight, area_scores[area.code])
        for area in framework.areas
        if area_scores[area.code] is not None
    ]
    overall = None
    if weighted:
        total_weight = sum(w for w, _ in weighted)
        overall = sum(w * s for w, s in weighted if s is not None) / total_weight
    return Score(
        overall=overall,
        areas=area_scores,
        critical_gaps=tuple(gaps),
        grade=grade_for(framework, overall, capped=bool(gaps)),
        counted=counted,
    )
