"""Hazard classes: 0 none, 1 low, 2 medium, 3 high, 4 very high.

The rule, for any intensity (flood depth in metres, wind in knots, ...):
class 0 when not exposed (no intensity, or intensity <= 0); otherwise
1 + the number of breaks less than or equal to the intensity, at most 4.
With breaks 0.5, 1.5, 3.0: 0.2 m -> 1, 0.5 m -> 2, 1.5 m -> 3, 3.0 m -> 4.
Storm winds use the same rule with breaks 34, 64, 96 kt (1-minute sustained):
< 34 kt -> 1, 34-63 -> 2, 64-95 -> 3, >= 96 -> 4.
"""

import bisect
import itertools
import math
from collections.abc import Sequence

from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_CLASS = 4


class HazardClass(models.IntegerChoices):
    NONE = 0, _("None")
    LOW = 1, _("Low")
    MEDIUM = 2, _("Medium")
    HIGH = 3, _("High")
    VERY_HIGH = 4, _("Very high")


class HazardType(models.TextChoices):
    RIVERINE_FLOOD = "riverine_flood", _("Riverine flood")
    FLASH_FLOOD = "flash_flood", _("Flash flood")
    COASTAL_FLOOD = "coastal_flood", _("Coastal flood")
    STORM = "storm", _("Storm / typhoon")
    DROUGHT = "drought", _("Drought")
    LANDSLIDE = "landslide", _("Landslide")
    LIGHTNING = "lightning", _("Lightning")


# Default class breaks and units per hazard type (docs/methodology.md explains them).
DEFAULT_BREAKS: dict[str, tuple[float, ...]] = {
    HazardType.RIVERINE_FLOOD: (0.5, 1.5, 3.0),
    HazardType.FLASH_FLOOD: (0.5, 1.5, 3.0),
    HazardType.COASTAL_FLOOD: (0.5, 1.5, 3.0),
    HazardType.STORM: (34.0, 64.0, 96.0),
    HazardType.DROUGHT: (1.0, 2.0, 3.0),
    HazardType.LANDSLIDE: (1.0, 2.0, 3.0),
    HazardType.LIGHTNING: (1.0, 2.0, 3.0),
}
DEFAULT_UNITS: dict[str, str] = {
    HazardType.RIVERINE_FLOOD: "m",
    HazardType.FLASH_FLOOD: "m",
    HazardType.COASTAL_FLOOD: "m",
    HazardType.STORM: "kt",
    HazardType.DROUGHT: "index",
    HazardType.LANDSLIDE: "class",
    HazardType.LIGHTNING: "class",
}


def intensity_class(intensity: float | None, breaks: Sequence[float]) -> int:
    """The hazard class (0-4) of an intensity under increasing `breaks`."""
    if intensity is None or math.isnan(intensity) or intensity <= 0:
        return HazardClass.NONE
    return min(MAX_CLASS, 1 + bisect.bisect_right(list(breaks), intensity))


def check_breaks(breaks: Sequence[float]) -> list[str]:
    """Problems with a list of class breaks (empty when they are fine)."""
    problems = []
    if not 1 <= len(breaks) <= 3:
        problems.append(str(_("Give one to three class breaks.")))
    if any(not math.isfinite(b) or b <= 0 for b in breaks):
        problems.append(str(_("Class breaks must be positive numbers.")))
    if any(earlier >= later for earlier, later in itertools.pairwise(breaks)):
        problems.append(str(_("Class breaks must be strictly increasing.")))
    return problems
