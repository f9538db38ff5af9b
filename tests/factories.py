"""Small, readable test data: places whose coordinates read like the map.

Phnom Penh's commune 120101 is the box 104.90-104.95 E, 11.54-11.58 N, so a
school at (104.92, 11.56) lies inside it.
"""

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from preparedness.models import AdminArea, Membership, Organization
from schools.models import School, Service

LEVEL_BY_LENGTH = {2: "province", 4: "district", 6: "commune"}


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    """A rectangle as an EPSG:4326 MultiPolygon."""
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


def make_area(code, name_en, name_km="", boundary=None, **extra) -> AdminArea:
    parent = None
    if len(code) > 2:
        parent = AdminArea.objects.get(code=code[:-2])
    return AdminArea.objects.create(
        code=code,
        level=LEVEL_BY_LENGTH[len(code)],
        name_en=name_en,
        name_km=name_km,
        parent=parent,
        boundary=boundary,
        **extra,
    )


# code, English, Khmer, bounding box
GEOGRAPHY = [
    ("07", "Kampot", "កំពត", (103.9, 10.4, 104.5, 10.9)),
    ("0701", "Angkor Chey", "អង្គរជ័យ", (104.0, 10.5, 104.3, 10.8)),
    ("070101", "Angk Phnum Touch", "អង្គភ្នំតូច", (104.10, 10.55, 104.25, 10.70)),
    ("08", "Kandal", "កណ្ដាល", (104.6, 11.0, 105.2, 11.45)),
    ("0801", "Kandal Stueng", "កណ្ដាលស្ទឹង", (104.8, 11.3, 105.0, 11.45)),
    ("080101", "Ampov Prey", "អំពៅព្រៃ", (104.90, 11.40, 105.00, 11.45)),
    ("12", "Phnom Penh", "ភ្នំពេញ", (104.75, 11.45, 105.05, 11.70)),
    ("1201", "Chamkar Mon", "ចំការមន", (104.85, 11.50, 105.0, 11.60)),
    ("120101", "Tonle Basak", "ទន្លេបាសាក់", (104.90, 11.54, 104.95, 11.58)),
]


def make_geography() -> dict[str, AdminArea]:
    """Three provinces with one district and one commune each, as boxes."""
    return {
        code: make_area(code, en, km, boundary=box(*bbox))
        for code, en, km, bbox in GEOGRAPHY
    }


def make_organization(name="Save the Children", acronym="SCI", **extra) -> Organization:
    extra.setdefault("kind", Organization.Kind.NGO)
    extra.setdefault("forum_member", True)
    return Organization.objects.create(name=name, acronym=acronym, **extra)


def make_user(username, role=None, areas=(), organization=None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, **extra
    )
    if role:
        membership = Membership.objects.create(
            user=user, role=role, organization=organization
        )
        membership.areas.set(AdminArea.objects.filter(code__in=areas))
    return user


def make_school(
    code="SCH-1", lon=104.92, lat=11.56, commune="120101", **extra
) -> School:
    extra.setdefault("name_en", f"School {code}")
    extra.setdefault("level", School.Level.PRIMARY)
    return School.objects.create(
        code=code, location=Point(lon, lat, srid=4326), commune_id=commune, **extra
    )


def make_service(
    code="SRV-1", lon=104.93, lat=11.57, commune="120101", **extra
) -> Service:
    extra.setdefault("name_en", f"Service {code}")
    extra.setdefault("kind", Service.Kind.HEALTH_CENTRE)
    return Service.objects.create(
        code=code, location=Point(lon, lat, srid=4326), commune_id=commune, **extra
    )


def framework_document(version="test.1", **changes) -> dict:
    """A small framework: four areas, every answer type and critical rule kind."""

    def item(code, answer_type, weight, **extra):
        return {
            "code": code,
            "answer_type": answer_type,
            "weight": weight,
            "question_en": f"Question {code}?",
            "question_km": f"សំណួរ {code}?",
            "help_en": f"Help for {code}.",
            "help_km": f"ជំនួយ {code}។",
            "km_reviewed": False,
            **extra,
        }

    document = {
        "version": version,
        "title_en": "Test checklist",
        "title_km": "បញ្ជីត្រួតពិនិត្យសាកល្បង",
        "published_on": "2026-01-01",
        "grades": [
            {"code": "good", "min_score": 80, "label_en": "Good", "label_km": "ល្អ"},
            {"code": "fair", "min_score": 60, "label_en": "Fair", "label_km": "មធ្យម"},
            {
                "code": "needs_improvement",
                "min_score": 40,
                "label_en": "Needs improvement",
                "label_km": "ត្រូវកែលម្អ",
            },
            {
                "code": "priority",
                "min_score": 0,
                "label_en": "Priority",
                "label_km": "អាទិភាព",
            },
        ],
        "critical_gap_caps_grade_at": "needs_improvement",
        "areas": [
            {
                "code": "F",
                "weight": 1,
                "name_en": "Enabling systems",
                "name_km": "ប្រព័ន្ធគាំទ្រ",
                "km_reviewed": False,
                "items": [
                    item("F.01", "yes_no", 2),
                    item("F.02", "ynp", 3, critical={"answers": ["no"]}),
                ],
            },
            {
                "code": "P1",
                "weight": 1,
                "name_en": "Safer learning facilities",
                "name_km": "អគារសិក្សាមានសុវត្ថិភាព",
                "km_reviewed": False,
                "items": [
                    item(
                        "P1.01",
                        "number",
                        3,
                        number={
                            "min": 0,
                            "max": 20,
                            "integer": False,
                            "unit_en": "m",
                            "unit_km": "ម៉ែត្រ",
                            "scores": [[0, 1], [0.5, 0.5], [1.5, 0]],
                        },
                        critical={
                            "at_least": 1.5,
                            "unless": {"item": "P2.02", "answers": ["yes"]},
                        },
                    ),
                    item(
                        "P1.02",
                        "ynp",
                        3,
                        critical={
                            "answers": ["no"],
                            "hazards": ["storm"],
                            "min_hazard_class": 2,
                        },
                    ),
                ],
            },
            {
                "code": "P2",
                "weight": 1,
                "name_en": "School safety management",
                "name_km": "ការគ្រប់គ្រងសុវត្ថិភាពសាលា",
                "km_reviewed": False,
                "items": [
                    item(
                        "P2.01",
                        "number",
                        3,
                        number={
                            "min": 0,
                            "max": 50,
                            "integer": True,
                            "unit_en": "times",
                            "unit_km": "ដង",
                            "scores": [[0, 0], [1, 0.5], [2, 1]],
                        },
                        critical={"below": 1},
                    ),
                    item("P2.02", "ynp", 3, critical={"answers": ["no"]}),
                    item(
                        "P2.03",
                        "ynpna",
                        2,
                        critical={"answers": ["no"], "evacuation_centre": True},
                    ),
                ],
            },
            {
                "code": "P3",
                "weight": 1,
                "name_en": "Resilience education",
                "name_km": "ការអប់រំភាពធន់",
                "km_reviewed": False,
                "items": [item("P3.01", "ynpna", 1)],
            },
        ],
    }
    document.update(changes)
    return document


# Answers scoring 100 with no critical gap under `framework_document`.
ALL_YES = {
    "F.01": "yes",
    "F.02": "yes",
    "P1.01": 0,
    "P1.02": "yes",
    "P2.01": 2,
    "P2.02": "yes",
    "P2.03": "yes",
    "P3.01": "yes",
}


def make_framework(tmp_path, document=None):
    """Load a framework file written to `tmp_path`, as `load_framework` does."""
    import json

    from schools.checklists.services import framework_load
    from schools.models import SafetyFramework

    document = document or framework_document()
    path = tmp_path / f"{document['version']}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    framework_load(path)
    return SafetyFramework.objects.get(version=document["version"])
