"""Small risk-map data shared by the map, tile, search and area tests.

school  place (lon, lat)           commune  learners risk       CSS / gaps
PP1     Phnom Penh (104.92, 11.56)  120101   300      very_high  40, P1.01 (assessed)
PP2     Phnom Penh (104.93, 11.57)  120101   100      low        never assessed
KP1     Kampot (104.15, 10.60)      070101   200      high       never assessed

service  kind           place                      sensitive
SRV-HC   health centre  Phnom Penh (104.925, 11.565)  no
SRV-SS   safe shelter   Phnom Penh (104.935, 11.575)  yes
SRV-KS   safe shelter   Kampot (104.16, 10.61)        yes
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from hazards.models import HazardLayer, HazardZone
from schools.models import SchoolRisk, SchoolSafety, Service
from tests.factories import box, make_school, make_service

CLASS_NUMBER = {"very_low": 1, "low": 2, "medium": 3, "high": 4, "very_high": 5}
PP1_KM = "សាលាបឋមសិក្សាទន្លេបាសាក់"


def _risk(school, risk_class: str, *, assessed: bool) -> None:
    n = CLASS_NUMBER[risk_class]
    SchoolRisk.objects.create(
        school=school,
        hazard=1,
        exposure=1,
        hazard_exposure=1,
        vulnerability_physical=1,
        vulnerability_learners=1,
        vulnerability=1,
        coping_gap=1,
        score=2 * n - 1,
        risk_class=n,
        assessed=assessed,
        computed_at=timezone.now(),
    )


def make_map_data() -> dict:
    """The schools, services and one flood zone layer of the table above."""
    pp1 = make_school(
        "PP1",
        104.92,
        11.56,
        "120101",
        name_en="Tonle Basak Primary",
        name_km=PP1_KM,
        enrolment_girls=150,
        enrolment_boys=150,
        hazard_level=3,
        hazard_levels={"riverine_flood": 3},
    )
    _risk(pp1, "very_high", assessed=True)
    SchoolSafety.objects.create(
        school=pp1,
        assessed_on=dt.date(2026, 3, 1),
        framework_version="test.1",
        score=40,
        area_scores={"F": 30, "P1": 50, "P2": 40, "P3": 40},
        critical_gaps=["P1.01"],
        grade="poor",
    )
    pp2 = make_school(
        "PP2",
        104.93,
        11.57,
        "120101",
        name_en="Chamkar Mon Lower Secondary",
        name_km="អនុវិទ្យាល័យចំការមន",
        level="lower_secondary",
        enrolment_girls=50,
        enrolment_boys=50,
    )
    _risk(pp2, "low", assessed=False)
    kp1 = make_school(
        "KP1",
        104.15,
        10.60,
        "070101",
        name_en="Angk Phnum Touch Primary",
        enrolment_girls=100,
        enrolment_boys=100,
    )
    _risk(kp1, "high", assessed=False)
    make_service("SRV-HC", 104.925, 11.565, "120101", kind=Service.Kind.HEALTH_CENTRE)
    make_service(
        "SRV-SS",
        104.935,
        11.575,
        "120101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
        contact="012 345 678",
    )
    make_service(
        "SRV-KS",
        104.16,
        10.61,
        "070101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
    )
    layer = HazardLayer.objects.create(
        name="Test flood",
        hazard_type="riverine_flood",
        representation="zones",
        breaks=[0.5, 1.5, 3.0],
        units="m",
    )
    HazardZone.objects.create(
        layer=layer,
        area=box(104.90, 11.54, 104.95, 11.58),
        intensity=2.0,
        hazard_class=3,
    )
    return {"pp1": pp1, "pp2": pp2, "kp1": kp1, "layer": layer}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The z/x/y of the Web Mercator tile holding a lon/lat point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)
    return z, x, y
