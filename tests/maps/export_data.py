"""Small data for the export, command and OGC API tests.

school  place (lon, lat)                 commune  risk       CSS / gaps         name
K1      Kampot (104.1512346, 10.6012346)  070101   very_high  40, P2.01          Khmer
K2      Kampot (104.16, 10.60)            070101   medium     never assessed     formula
PP1     Phnom Penh (104.92, 11.56)        120101   high       never assessed
KD1     Kandal (104.95, 11.42)            080101   very_low   never assessed
CLOSED  Phnom Penh (104.93, 11.57)        120101   (closed: in no export)

service    kind           place                       sensitive
SRV-HC     health centre  Kampot (104.155, 10.605)     no
SRV-KS     safe shelter   Kampot (104.16, 10.61)       yes
SRV-PS     safe shelter   Phnom Penh (104.935, 11.575) yes

One flood zone (stored clockwise) over Phnom Penh's commune, intensity -3.2 (a
test value), and one plan covering Kampot.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hazards.models import HazardLayer, HazardZone
from plans.models import Plan
from preparedness.models import AdminArea, Organization
from schools.models import School, SchoolRisk, SchoolSafety, Service
from tests.factories import box, make_school, make_service

K1_KM = "សាលាបឋមសិក្សាអង្គភ្នំតូច"
FORMULA = '=HYPERLINK("http://example.invalid","click")'
SCHOOL_ORDER = ["K1", "PP1", "K2", "KD1"]  # riskiest first


def _risk(school: School, risk_class: int, score: float, assessed: bool) -> None:
    SchoolRisk.objects.create(
        school=school,
        hazard=1,
        exposure=1,
        hazard_exposure=2.5,
        vulnerability_physical=1,
        vulnerability_learners=1,
        vulnerability=1.5,
        coping_gap=5,
        score=score,
        risk_class=risk_class,
        assessed=assessed,
        computed_at=timezone.now(),
    )


def make_export_data() -> dict:
    k1 = make_school(
        "K1",
        104.1512346,
        10.6012346,
        "070101",
        name_en="Angk Phnum Touch Primary",
        name_km=K1_KM,
        enrolment_girls=150,
        enrolment_boys=140,
        hazard_level=3,
        hazard_levels={"riverine_flood": 3},
    )
    _risk(k1, 5, 8.25, assessed=True)
    SchoolSafety.objects.create(
        school=k1,
        assessed_on=dt.date(2026, 3, 1),
        framework_version="test.1",
        score=40,
        area_scores={"F": 30, "P1": 50, "P2": 40, "P3": 40},
        critical_gaps=["P2.01"],
        grade="poor",
    )
    k2 = make_school("K2", 104.16, 10.60, "070101", name_en=FORMULA)
    _risk(k2, 3, 4.0, assessed=False)
    pp1 = make_school("PP1", 104.92, 11.56, "120101", name_en="Tonle Basak")
    _risk(pp1, 4, 6.0, assessed=False)
    kd1 = make_school("KD1", 104.95, 11.42, "080101", level="preschool")
    _risk(kd1, 1, 0.5, assessed=False)
    closed = make_school("CLOSED", 104.93, 11.57, "120101", status="closed")
    _risk(closed, 5, 9.0, assessed=False)

    make_service("SRV-HC", 104.155, 10.605, "070101", contact="+855 12 345 678")
    make_service(
        "SRV-KS",
        104.16,
        10.61,
        "070101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
        contact="012 999 999",
    )
    make_service(
        "SRV-PS",
        104.935,
        11.575,
        "120101",
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
    zone = HazardZone.objects.create(
        layer=layer,
        area=box(104.90, 11.54, 104.95, 11.58),  # from_bbox: clockwise
        intensity=-3.2,
        hazard_class=3,
    )
    lead = Organization.objects.get(acronym="SCI")
    plan = Plan.objects.create(
        title="Kampot floods 2026",
        starts_on=dt.date(2026, 6, 1),
        ends_on=dt.date(2026, 11, 30),
        lead=lead,
        coverage_area=AdminArea.objects.get(code="07").boundary,
    )
    plan.coverage.set(AdminArea.objects.filter(code="07"))
    return {"k1": k1, "k2": k2, "pp1": pp1, "kd1": kd1, "zone": zone, "plan": plan}
