"""The province page `/provinces/<code>/` and its PDF report.

Kampot (07) in the test geography, with a second district added:

school  district  risk              score  learners  critical gaps
K-1     0701      very high (5)     9.0    300       P1.02
K-2     0701      low (2)           3.0    100       -
K-3     0702      high (4)          7.0    200       -
PP-1    1201      very high (5)     9.5    500       (Phnom Penh: not on Kampot's page)

Plans: "Kampot floods" covers province 07, "Angkor Chey wells" district 0701,
"Phnom Penh" province 12 (not listed on Kampot's page).
"""

import datetime as dt
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from plans.services import plan_create
from preparedness.models import AdminArea, Organization
from schools.models import SchoolRisk, SchoolSafety
from tests.factories import box, make_area, make_school

pytestmark = pytest.mark.django_db

URL = "/provinces/07/"
# Khmer with no spaces, far longer than a line: it must wrap between words.
LONG_KM = "ស្រុកដែលមានសាលារៀនជាច្រើនដែលត្រូវការការត្រៀមលក្ខណៈសម្រាប់គ្រោះទឹកជំនន់" * 2


def risk(school, risk_class, score):
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
        assessed=True,
        computed_at=timezone.now(),
    )
    return school


@pytest.fixture
def kampot(users):
    make_area("0702", "Banteay Meas", LONG_KM, boundary=box(104.3, 10.5, 104.5, 10.8))
    make_area("070201", "Tnaot", "ត្នោត", boundary=box(104.35, 10.55, 104.45, 10.7))
    k1 = risk(
        make_school(
            "K-1", 104.15, 10.60, "070101", enrolment_girls=150, enrolment_boys=150
        ),
        5,
        9.0,
    )
    SchoolSafety.objects.create(
        school=k1,
        assessed_on=dt.date(2026, 3, 1),
        framework_version="test.1",
        score=40,
        area_scores={"F": 30, "P1": 50, "P2": 40, "P3": 40},
        critical_gaps=["P1.02"],
        grade="priority",
    )
    risk(make_school("K-2", 104.2, 10.65, "070101", enrolment_boys=100), 2, 3.0)
    risk(make_school("K-3", 104.4, 10.6, "070201", enrolment_girls=200), 4, 7.0)
    risk(make_school("PP-1", 104.92, 11.56, "120101", enrolment_boys=500), 5, 9.5)
    lead = Organization.objects.get(acronym="SCI")
    for title, coverage in (
        ("Kampot floods", ["07"]),
        ("Angkor Chey wells", ["0701"]),
        ("Phnom Penh schools", ["12"]),
    ):
        plan_create(
            by=users["coordinator"],
            data={
                "title": title,
                "hazard_types": ["riverine_flood"],
                "starts_on": dt.date(2026, 6, 1),
                "ends_on": dt.date(2026, 11, 30),
                "lead": lead.pk,
                "coverage": coverage,
            },
        )


def row_cells(html: str, table: str, code: str) -> list[str]:
    """The cell texts of the row `data-code=code` in the table of class `table`."""
    section = re.search(rf'<table class="{table}".*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr data-code="{code}".*?</tr>', section, re.S).group(0)
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells]


def test_district_rows_hold_the_right_counts(client, kampot):
    """One row per district of the province with its schools, learners, the
    schools per risk class (very high first) and those at high or very high
    risk; the total row adds them up and Phnom Penh's school is nowhere."""
    html = client.get(URL).content.decode()
    # name, schools, learners, very high, high, medium, low, very low, at risk
    assert row_cells(html, "districts", "0701")[1:9] == [
        "2", "400", "1", "0", "0", "1", "0", "1 (50 %)",
    ]  # fmt: skip
    assert row_cells(html, "districts", "0702")[1:9] == [
        "1", "200", "0", "1", "0", "0", "0", "1 (100 %)",
    ]  # fmt: skip
    total = row_cells(html, "districts", "07")
    assert total[1:9] == ["3", "600", "1", "1", "0", "1", "0", "2"]


def test_schools_are_ranked_riskiest_first(client, kampot):
    """The ranked schools are the province's, riskiest first, with a link to
    the full priority list of the province."""
    html = client.get(URL).content.decode()
    section = re.search(r'<table class="ranked".*?</table>', html, re.S).group(0)
    assert re.findall(r'<tr data-code="([^"]+)"', section) == ["K-1", "K-3", "K-2"]
    assert "/priorities/?province=07" in html


def test_plans_covering_the_province_are_listed_for_logged_in_users(
    client, users, kampot
):
    """Plans covering the province or one of its districts are listed; a plan
    elsewhere is not. Anonymous visitors see no plans and no checklist details."""
    html = client.get(URL).content.decode()
    assert "Kampot floods" not in html
    assert "P1.02" not in html
    client.force_login(users["official_07"])
    html = client.get(URL).content.decode()
    assert "Kampot floods" in html
    assert "Angkor Chey wells" in html
    assert "Phnom Penh schools" not in html
    assert "P1.02" in html


def test_page_offers_downloads_and_the_map(client, kampot):
    """The page links the province's exports, both PDFs, the PNG map and the
    interactive map, and shows the province map with its schools."""
    html = client.get(URL).content.decode()
    for link in (
        "/api/schools/export.csv?province=07",
        "/api/schools/export.geojson?province=07",
        "/api/schools/export.gpkg?province=07",
        "/provinces/07/report.pdf?lang=en",
        "/provinces/07/report.pdf?lang=km",
        "/map/image.png?province=07",
        "/map/?province=07",
    ):
        assert link in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg)
    schools = root.find("{http://www.w3.org/2000/svg}g[@class='schools']")
    assert len(schools) == 3


@pytest.mark.parametrize(
    "url", ["/provinces/99/", "/provinces/0701/", "/provinces/99/report.pdf"]
)
def test_unknown_province_is_404(client, geography, url):
    """An unknown code, or a district's, is a 404 page."""
    assert client.get(url).status_code == 404


def pdf_text(content: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def get_pdf(client, lang: str) -> bytes:
    response = client.get(f"{URL}report.pdf?lang={lang}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def test_pdf_in_english(client, kampot, tmp_path):
    """The English PDF names the province and its districts in English."""
    text = pdf_text(get_pdf(client, "en"), tmp_path)
    assert "Kampot" in text
    assert "Angkor Chey" in text
    assert "Banteay Meas" in text
    assert "Schools by district and risk class" in text


def test_pdf_in_khmer(client, kampot, tmp_path):
    """The Khmer PDF names the province and its districts in Khmer."""
    text = pdf_text(get_pdf(client, "km"), tmp_path)
    assert "កំពត" in text
    assert "ត្នោត" not in text  # communes are not listed
    assert "ស្រុក" in text


def test_long_khmer_text_wraps_inside_the_page(client, kampot, tmp_path):
    """A Khmer district name two lines long wraps between words: it lands on
    several lines and nothing runs off the right edge of the page."""
    AdminArea.objects.filter(code="07").update(name_km=LONG_KM)
    root = ET.fromstring(pdf_text(get_pdf(client, "km"), tmp_path, "-bbox"))
    ns = "{http://www.w3.org/1999/xhtml}"
    pages = root.findall(f".//{ns}page")
    width = float(pages[0].get("width"))
    words = root.findall(f".//{ns}word")
    assert max(float(w.get("xMax")) for w in words) < width - 20
    title = [
        w
        for w in pages[0].findall(f"{ns}word")
        if float(w.get("yMax")) - float(w.get("yMin")) > 25
    ]
    assert len({round(float(w.get("yMin"))) for w in title}) >= 2


def test_pdf_language_is_checked(client, kampot):
    """`lang` other than en or km is a 400."""
    assert client.get(f"{URL}report.pdf?lang=fr").status_code == 400
