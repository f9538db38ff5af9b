"""School risk, INFORM-style, as vectorised numpy: docs/methodology.md explains it.

Three dimensions, each 0-10, combined by a (weighted) geometric mean:

- hazard & exposure  HE  = sqrt(H x E), with H = 2.5 x the school's hazard level
  (its highest class over the active layers, 0-4) and E the learners on a log
  scale (10 at `learners_for_full_exposure` or more);
- vulnerability      V   = mean of the physical vulnerability (building-condition
  checklist items: 10 x (1 - their weighted value); unknown for a school never
  assessed) and the learners' vulnerability (mean of the age of the learners by
  school level and the share of learners with disabilities);
- lack of coping     LCC = 10 - CSS score / 10, at least `critical_gap_min_coping`
  with a critical gap, and 10 for a school never assessed (unknown, not safe).

risk = (HE^a x V^b x LCC^c)^(1 / (a + b + c)); the class comes from fixed breaks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

HAZARD_PER_CLASS = 2.5  # class 4 (very high) -> 10


@dataclass(frozen=True)
class RiskRules:
    """The settings that scoring reads (a plain copy of `RiskSettings`)."""

    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    learners_for_full_exposure: int = 1000
    level_vulnerability: Mapping[str, float] | None = None
    disability_share_for_full: float = 0.10
    unknown_physical_vulnerability: float = 5.0
    critical_gap_min_coping: float = 6.0
    class_breaks: Sequence[float] = (2.0, 3.5, 5.0, 6.5)


@dataclass(frozen=True)
class RiskInputs:
    """One array entry per school."""

    level: np.ndarray  # school level codes (str)
    learners: np.ndarray  # int
    disabilities: np.ndarray  # int
    hazard_level: np.ndarray  # int 0-4
    assessed: np.ndarray  # bool
    css: np.ndarray  # float, nan when never assessed
    critical_gap: np.ndarray  # bool
    physical: np.ndarray  # float 0-1 (1 = all building items yes), nan if unknown


@dataclass(frozen=True)
class RiskScores:
    hazard: np.ndarray
    exposure: np.ndarray
    hazard_exposure: np.ndarray
    vulnerability_physical: np.ndarray
    vulnerability_learners: np.ndarray
    vulnerability: np.ndarray
    coping_gap: np.ndarray
    score: np.ndarray
    risk_class: np.ndarray


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(values.astype(float), 2)


def risk_scores(inputs: RiskInputs, rules: RiskRules) -> RiskScores:
    """The three dimensions, the risk score (0-10, two decimals) and class (1-5)."""
    hazard = HAZARD_PER_CLASS * np.clip(inputs.hazard_level.astype(float), 0, 4)
    learners = np.maximum(inputs.learners.astype(float), 0)
    full = max(rules.learners_for_full_exposure, 1)
    exposure = np.minimum(10.0, 10.0 * np.log1p(learners) / np.log1p(full))
    hazard_exposure = np.sqrt(hazard * exposure)

    physical = np.where(
        np.isnan(inputs.physical),
        rules.unknown_physical_vulnerability,
        10.0 * (1.0 - np.clip(inputs.physical, 0, 1)),
    )
    by_level = rules.level_vulnerability or {}
    age = np.array(
        [float(by_level.get(str(v), 5.0)) for v in inputs.level], dtype=float
    )
    share = np.divide(
        inputs.disabilities.astype(float),
        learners,
        out=np.zeros(len(learners)),
        where=learners > 0,
    )
    disability = np.minimum(
        10.0, 10.0 * share / max(rules.disability_share_for_full, 1e-9)
    )
    learners_v = (age + disability) / 2
    vulnerability = (physical + learners_v) / 2

    coping = np.where(inputs.assessed, 10.0 - np.nan_to_num(inputs.css) / 10.0, 10.0)
    coping = np.where(
        inputs.critical_gap, np.maximum(coping, rules.critical_gap_min_coping), coping
    )
    coping = np.clip(coping, 0, 10)

    dims = [_round(hazard_exposure), _round(vulnerability), _round(coping)]
    used = [(w, d) for w, d in zip(rules.weights, dims, strict=True) if w > 0]
    if not used:
        raise ValueError("at least one dimension needs a positive weight")
    total = sum(w for w, _ in used)
    # A weighted geometric mean: zero as soon as one dimension is zero.
    logs = sum(w * np.log(np.maximum(d, 1e-12)) for w, d in used)
    score = np.where(
        np.any([d <= 0 for _, d in used], axis=0), 0.0, np.exp(logs / total)
    )
    score = _round(score)
    breaks = np.asarray(rules.class_breaks, dtype=float)
    risk_class = 1 + np.searchsorted(breaks, score, side="right")
    return RiskScores(
        hazard=_round(hazard),
        exposure=_round(exposure),
        hazard_exposure=dims[0],
        vulnerability_physical=_round(physical),
        vulnerability_learners=_round(learners_v),
        vulnerability=dims[1],
        coping_gap=dims[2],
        score=score,
        risk_class=risk_class.astype(int),
    )
