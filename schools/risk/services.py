"""Writes of school risk: recompute it, and change the settings that drive it.

Risk follows what it is made of: `risk_recompute` runs after a hazard layer
change (registered in SchoolsConfig.ready, after the exposure callback), after
an assessment is submitted, verified or edited (from `school_safety_refresh`),
after a school import or edit, and when the settings change. Nearest services
follow service imports and hazard changes (a flooded health centre is likely
unavailable).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards.callbacks import LayerChange
from preparedness.access import Role, access_for, account
from preparedness.audit import Change, audit
from schools.models import RiskSettings
from schools.risk.scoring import RiskRules, risk_scores
from schools.risk.settings import risk_settings
from schools.risk.sql import risk_inputs, risk_write

User = AbstractBaseUser | AnonymousUser | None
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RiskResult:
    schools: int
    written: int
    seconds: float


def risk_rules(settings: RiskSettings) -> RiskRules:
    return RiskRules(
        weights=(
            settings.weight_hazard_exposure,
            settings.weight_vulnerability,
            settings.weight_coping,
        ),
        learners_for_full_exposure=settings.learners_for_full_exposure,
        level_vulnerability=dict(settings.level_vulnerability or {}),
        disability_share_for_full=settings.disability_share_for_full,
        unknown_physical_vulnerability=settings.unknown_physical_vulnerability,
        critical_gap_min_coping=settings.critical_gap_min_coping,
        class_breaks=tuple(float(b) for b in settings.class_breaks),
    )


@transaction.atomic
def risk_recompute(
    school_ids: Sequence[int] | None = None, *, progress: Progress | None = None
) -> RiskResult:
    """Recompute the risk of every open school (or of these) in a few statements."""
    started = time.perf_counter()
    settings = risk_settings()
    ids, inputs = risk_inputs(settings.physical_items or [], school_ids)
    if progress:
        progress(0, 2)
    scores = risk_scores(inputs, risk_rules(settings))
    written = risk_write(
        ids, inputs.assessed, scores, timezone.now(), school_ids=school_ids
    )
    if progress:
        progress(2, 2)
    return RiskResult(len(ids), written, time.perf_counter() - started)


def risk_on_layer_change(change: LayerChange) -> None:
    """After a hazard layer change (and its exposure): access, then risk."""
    from schools.risk.nearest import nearest_services_refresh

    nearest_services_refresh()
    risk_recompute()


SETTING_FIELDS = (
    "weight_hazard_exposure",
    "weight_vulnerability",
    "weight_coping",
    "learners_for_full_exposure",
    "level_vulnerability",
    "disability_share_for_full",
    "physical_items",
    "unknown_physical_vulnerability",
    "critical_gap_min_coping",
    "class_breaks",
    "focal_point_km",
    "unavailable_from_class",
)


def check_settings(values: Mapping[str, Any]) -> None:
    """Refuse settings out of range, naming each field at fault."""
    errors: dict[str, str] = {}
    weights = [values[f] for f in SETTING_FIELDS[:3]]
    for name, weight in zip(SETTING_FIELDS[:3], weights, strict=True):
        if not 0 <= float(weight) <= 10:
            errors[name] = _("Give a weight from 0 to 10.")
    if sum(float(w) for w in weights) <= 0:
        errors["weight_coping"] = _("At least one weight must be above 0.")
    breaks = values["class_breaks"]
    if (
        not isinstance(breaks, list)
        or len(breaks) != 4
        or not all(isinstance(b, int | float) and 0 < b < 10 for b in breaks)
        or sorted(breaks) != breaks
        or len(set(breaks)) != 4
    ):
        errors["class_breaks"] = _("Give four increasing scores between 0 and 10.")
    levels = values["level_vulnerability"]
    if not isinstance(levels, dict) or not all(
        isinstance(v, int | float) and 0 <= v <= 10 for v in levels.values()
    ):
        errors["level_vulnerability"] = _("Give a 0-10 value per school level.")
    items = values["physical_items"]
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        errors["physical_items"] = _("Give a list of checklist item codes.")
    for name in ("unknown_physical_vulnerability", "critical_gap_min_coping"):
        if not 0 <= float(values[name]) <= 10:
            errors[name] = _("Give a value from 0 to 10.")
    if not 0 < float(values["disability_share_for_full"]) <= 1:
        errors["disability_share_for_full"] = _("Give a share above 0 and at most 1.")
    if float(values["focal_point_km"]) <= 0:
        errors["focal_point_km"] = _("Give a distance above 0 km.")
    if int(values["learners_for_full_exposure"]) < 1:
        errors["learners_for_full_exposure"] = _("Give at least 1 learner.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def risk_settings_update(*, by: User, data: Mapping[str, Any]) -> RiskSettings:
    """Change risk settings (administrators), audit it, and recompute what depends."""
    if not access_for(by).has_role(Role.ADMINISTRATOR):
        raise PermissionDenied(_("Only administrators change how risk is computed."))
    unknown = sorted(set(data) - set(SETTING_FIELDS))
    if unknown:
        raise ValidationError({name: _("Unknown setting.") for name in unknown})
    settings = RiskSettings.objects.select_for_update().get(pk=risk_settings().pk)
    before = {f: getattr(settings, f) for f in SETTING_FIELDS}
    after = {**before, **data}
    check_settings(after)
    changes = {
        f: [before[f], after[f]] for f in SETTING_FIELDS if before[f] != after[f]
    }
    if not changes:
        return settings
    for name, value in data.items():
        setattr(settings, name, value)
    settings.updated_by = account(by)
    settings.save()
    audit(by, [Change("risk_settings", settings.pk, "changed", changes)])
    if {"focal_point_km", "unavailable_from_class"} & set(changes):
        from schools.risk.nearest import nearest_services_refresh

        nearest_services_refresh()
    risk_recompute()
    return settings
