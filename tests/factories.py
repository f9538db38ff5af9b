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
