"""Map images (`/map/image.png`, `/map/image.svg`): the view of a bbox drawn
without base-map tiles, in UTM zone 48N.

The view is Phnom Penh's commune 120101 (104.90-104.95 E, 11.54-11.58 N), all
inside district 1201:

place   where            what
PP-HI   104.91, 11.55    school, very high risk
PP-LO   104.94, 11.575   school, very low risk
SH-1    104.93, 11.56    safe shelter (sensitive)
HC-1    104.92, 11.545   health centre
"""

import io
import xml.etree.ElementTree as ET

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image

from maps.images import RISK_COLOURS, SERVICE_COLOUR, SHARE_BINS
from schools.models import SchoolRisk, Service
from tests.factories import make_school, make_service

pytestmark = pytest.mark.django_db

BBOX = (104.90, 11.54, 104.95, 11.58)
SIZE = (800, 640)
QUERY = "bbox=104.90,11.54,104.95,11.58&width=800&height=640"
SVG = "{http://www.w3.org/2000/svg}"


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def expected_pixel(lon: float, lat: float) -> tuple[float, float]:
    """Where a point lands: the bbox's UTM 48N extent, widened around its
    centre to the image's proportions."""
    corners = Point(BBOX[0], BBOX[1], srid=4326), Point(BBOX[2], BBOX[3], srid=4326)
    xs, ys = [], []
    for corner in (*corners, Point(BBOX[0], BBOX[3]), Point(BBOX[2], BBOX[1])):
        corner.srid = 4326
        utm = corner.transform(32648, clone=True)
        xs.append(utm.x)
        ys.append(utm.y)
    scale = min(SIZE[0] / (max(xs) - min(xs)), SIZE[1] / (max(ys) - min(ys)))
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    point = Point(lon, lat, srid=4326).transform(32648, clone=True)
    return (point.x - cx) * scale + SIZE[0] / 2, (cy - point.y) * scale + SIZE[1] / 2


def with_risk(school, risk_class: int, score: float):
    SchoolRisk.objects.create(
        school=school,
        hazard=1,
        exposure=1,
        hazard_exposure=1,
        vulnerability_physical=1,
        vulnerability_learners=1,
        vulnerability=1,
        coping_gap=1,
        score=score,
        risk_class=risk_class,
        assessed=False,
        computed_at=timezone.now(),
    )
    return school


@pytest.fixture
def places(users):
    with_risk(make_school("PP-HI", 104.91, 11.55), 5, 9.0)
    with_risk(make_school("PP-LO", 104.94, 11.575), 1, 1.0)
    make_service("SH-1", 104.93, 11.56, kind=Service.Kind.SAFE_SHELTER, sensitive=True)
    make_service("HC-1", 104.92, 11.545, kind=Service.Kind.HEALTH_CENTRE)


def png(client, query: str = QUERY) -> Image.Image:
    response = client.get("/map/image.png?" + query)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image.convert("RGB")


def pixel(image: Image.Image, lon: float, lat: float) -> tuple[int, int, int]:
    x, y = expected_pixel(lon, lat)
    return image.getpixel((int(x), int(y)))


def test_png_has_the_size_asked_for_and_schools_in_their_risk_colours(api, places):
    """Each school is a dot in its risk class colour exactly where its point
    falls in UTM 48N; the area under no dot shows its district's share of
    schools at high or very high risk (1 of 2: the 50-75 % colour)."""
    image = png(api)
    assert image.size == SIZE
    assert pixel(image, 104.91, 11.55) == rgb(RISK_COLOURS[5])
    assert pixel(image, 104.94, 11.575) == rgb(RISK_COLOURS[1])
    fifty = dict(SHARE_BINS)[0.5]
    assert image.getpixel((60, 60)) == rgb(fifty)


def test_png_follows_the_map_filters(api, places):
    """`risk_class=very_high` leaves the very-low-risk school off the image."""
    image = png(api, QUERY + "&risk_class=very_high")
    assert pixel(image, 104.91, 11.55) == rgb(RISK_COLOURS[5])
    assert pixel(image, 104.94, 11.575) != rgb(RISK_COLOURS[1])


def test_sensitive_services_only_for_those_who_may_see_them(api, api_as, places):
    """Anonymous users and planners never see the safe shelter; coordinators
    do. The health centre shows for everyone."""
    for client in (api, api_as("planner")):
        image = png(client)
        assert pixel(image, 104.93, 11.56) != rgb(SERVICE_COLOUR)
        assert pixel(image, 104.92, 11.545) == rgb(SERVICE_COLOUR)
    image = png(api_as("coordinator"))
    assert pixel(image, 104.93, 11.56) == rgb(SERVICE_COLOUR)


def svg(client, query: str = QUERY) -> ET.Element:
    response = client.get("/map/image.svg?" + query)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("image/svg+xml")
    return ET.fromstring(response.content)


def test_svg_draws_the_same_map(api, api_as, places):
    """The SVG has the size asked for, the schools as circles in their risk
    colours at the same pixels, and the services the user may see."""
    root = svg(api)
    assert (root.get("width"), root.get("height")) == ("800", "640")
    schools = root.find(f"{SVG}g[@class='schools']")
    dots = {
        (round(float(c.get("cx"))), round(float(c.get("cy")))): c.get("fill")
        for c in schools.iter(f"{SVG}circle")
    }
    for lon, lat, risk_class in ((104.91, 11.55, 5), (104.94, 11.575, 1)):
        x, y = expected_pixel(lon, lat)
        assert dots[round(x), round(y)] == RISK_COLOURS[risk_class]
    assert len(dots) == 2
    services = root.find(f"{SVG}g[@class='services']")
    assert len(services.findall(f"{SVG}path")) == 1
    coordinator = svg(api_as("coordinator"))
    services = coordinator.find(f"{SVG}g[@class='services']")
    assert len(services.findall(f"{SVG}path")) == 2
    assert "km" in "".join(root.itertext())  # the scale bar


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=104.9,11.5,104.8", "bbox"),
        ("bbox=105,11.5,104.9,11.6", "bbox"),
        ("bbox=200,11.5,201,11.6", "bbox"),
        (QUERY.replace("width=800", "width=10000"), "width"),
        (QUERY.replace("height=640", "height=5"), "height"),
        (QUERY + "&layers=schools,basemap", "layers"),
        (QUERY + "&risk_class=awful", "risk_class"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(api, places, query, field):
    """A bad bbox, a size over the cap or an unknown layer is a 400 naming it."""
    for suffix in ("png", "svg"):
        response = api.get(f"/map/image.{suffix}?{query}")
        assert response.status_code == 400
        assert field in response.json()


def test_without_bbox_the_map_shows_the_province(api, places):
    """`?province=12` without bbox frames Phnom Penh's boundary (about 33 km
    across in 400 pixels: the two schools, 3.3 km apart, lie ~40 pixels apart)."""
    root = svg(api, "province=12&width=400&height=400")
    dots = root.find(f"{SVG}g[@class='schools']").findall(f"{SVG}circle")
    x0, x1 = (float(c.get("cx")) for c in dots)
    assert 30 < abs(x1 - x0) < 50
