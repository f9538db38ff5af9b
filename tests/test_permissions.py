"""The permission matrix: who may read and change what, for every URL.

`MATRIX` lists every URL pattern of the project (read from Django's resolver, so
a new URL without a row fails `test_every_url_has_expectations`), with the
methods that matter and the roles allowed. A role is *allowed* when the answer is
neither 401, 403 nor 404 (every addressed object exists) nor a redirect to the
sign-in page; 400 still means the permission check let the request through.

The objects sit in Kampot (province 07, official_07's area); official_08 covers
Kandal (08) and so stands for "an official out of scope". README's "Who sees and
changes what" is the policy this table writes down.
"""

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from django.contrib.admin import site as admin_site
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image
from rasterio.crs import CRS
from rest_framework.test import APIClient

from hazards.classes import HazardType
from hazards.models import HazardLayer
from hazards.services import hazard_layer_import
from maps.models import AreaOfInterest
from plans import calendar
from plans.events.services import event_create, reports_submit
from plans.models import StatusReport
from plans.services import action_create, plan_create
from preparedness.models import Membership, Organization
from schools.checklists import services as checklists
from schools.models import School, SchoolRisk, Service
from tests.factories import (
    ALL_YES,
    box,
    make_framework,
    make_geography,
    make_organization,
    make_school,
    make_service,
    make_user,
)

Role = Membership.Role

ANON = "anonymous"
PLANNER = "planner"
OFF07 = "official_07"
OFF08 = "official_08"
COORD = "coordinator"
ADMIN = "admin"
ROLES = (ANON, PLANNER, OFF07, OFF08, COORD, ADMIN)

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANON}
MANAGERS = frozenset({COORD, ADMIN})  # coordinators and administrators
ADMINS = frozenset({ADMIN})
EDITORS_07 = frozenset({OFF07, ADMIN})  # may change a Kampot school
CHECKLIST_READERS_07 = frozenset({PLANNER, OFF07, COORD, ADMIN})
REPORTERS_07 = frozenset({OFF07, COORD, ADMIN})
SCI_STAFF = frozenset({PLANNER, OFF07, COORD, ADMIN})  # the action's organization
NOBODY: frozenset[str] = frozenset()

TODAY = timezone.localdate()


# ---------------------------------------------------------------------- data


def _tif(path) -> Any:
    """A 20 x 20 flood-depth grid of 100 m cells in UTM 48N, in Phnom Penh."""
    data = np.add.outer(np.arange(20), np.arange(20)).astype("float32") / 10
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=20,
        count=1,
        dtype="float32",
        crs=CRS.from_epsg(32648),
        transform=Affine(100.0, 0.0, 490_000.0, 0.0, -100.0, 1_280_000.0),
        nodata=-9999.0,
    ) as out:
        out.write(data[np.newaxis])
    return path


ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"depth": 1.2},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[104.1, 10.55], [104.2, 10.55], [104.2, 10.65], [104.1, 10.55]]
                ],
            },
        }
    ],
}


def _risk(school: School, klass: int) -> None:
    SchoolRisk.objects.create(
        school=school,
        hazard=7.5,
        exposure=8,
        hazard_exposure=7.7,
        vulnerability_physical=5,
        vulnerability_learners=3,
        vulnerability=4,
        coping_gap=10,
        score=2.0 + klass,
        risk_class=klass,
        assessed=True,
        computed_at=timezone.now(),
    )


@dataclass
class World:
    """The objects the URLs address, and one user per role."""

    users: dict[str, Any]
    ids: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Schools, services (one sensitive in each province), hazard layers, two
    assessments, a plan with an action, an event, an area and a calendar token:
    built once for the module in a transaction rolled back at its end."""
    tmp_path = tmp_path_factory.mktemp("permissions")
    media = tmp_path / "media"
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        yield _build_world(tmp_path, media)
        transaction.set_rollback(True)


@pytest.fixture
def db_world(world, db):
    """The module's world inside the test's own transaction."""
    return world


def _build_world(tmp_path, media) -> World:
    make_geography()
    org = make_organization()
    users = {
        COORD: make_user(COORD, Role.COORDINATOR, organization=org),
        OFF07: make_user(
            OFF07, Role.EDUCATION_OFFICIAL, areas=["07"], organization=org
        ),
        PLANNER: make_user(PLANNER, Role.PLANNER, organization=org),
        ADMIN: make_user(ADMIN, Role.ADMINISTRATOR, is_staff=True),
        OFF08: make_user(OFF08, Role.EDUCATION_OFFICIAL, areas=["08"]),
    }
    make_framework(tmp_path)
    k = make_school("KPT-1", lon=104.15, lat=10.60, commune="070101")
    d = make_school("KDL-1", lon=104.95, lat=11.42, commune="080101")
    _risk(k, 5)
    _risk(d, 4)
    make_service("SRV-K", lon=104.16, lat=10.61, commune="070101")
    make_service(
        "SHELTER-K",
        lon=104.17,
        lat=10.62,
        commune="070101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
        contact="+855 12 345 007",
    )
    make_service(
        "SHELTER-D",
        lon=104.96,
        lat=11.43,
        commune="080101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
        contact="+855 12 345 008",
    )
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(ZONES))
    layer = hazard_layer_import(
        path=zones, hazard_type="flood", name="Flood 2026", intensity_field="depth"
    ).layer
    (media / "hazards").mkdir(parents=True)
    _tif(media / "hazards" / "depth.tif")
    raster = HazardLayer.objects.create(
        name="Depth",
        hazard_type=HazardType.RIVERINE_FLOOD,
        representation=HazardLayer.Representation.RASTER,
        scenario=HazardLayer.Scenario.RETURN_PERIOD,
        return_period=100,
        breaks=[0.5, 1.5, 3.0],
        units="m",
        raster="hazards/depth.tif",
    )
    admin = users[ADMIN]
    a07 = checklists.assessment_create(
        school=k, by=users[OFF07], answers=ALL_YES, notes="Roof leaks"
    )
    a08 = checklists.assessment_create(school=d, by=users[OFF08], answers=ALL_YES)
    sci = Organization.objects.get(acronym="SCI")
    plan = plan_create(
        by=admin,
        data={
            "title": "Flood season 2026, Kampot",
            "hazard_types": ["riverine_flood"],
            "season": "July-November",
            "starts_on": TODAY,
            "ends_on": TODAY + dt.timedelta(days=120),
            "lead": sci.pk,
            "sectors": ["education"],
            "coverage": ["07"],
            "triggers": "A forecast storm of 34 kt within 100 km.",
        },
    )
    action = action_create(
        by=admin,
        plan_id=plan.pk,
        data={
            "title": "Stock boats",
            "sector": "education",
            "organization": sci.pk,
            "due_on": TODAY + dt.timedelta(days=30),
            "schools": ["KPT-1"],
        },
    )
    event = event_create(
        by=admin,
        data={
            "name": "Mekong flood 2026",
            "hazard_type": "riverine_flood",
            "starts_on": TODAY,
            "provinces": ["07", "08"],
        },
    )
    reports_submit(
        by=admin,
        event_id=event.pk,
        rows=[{"school": "KPT-1", "reported_on": TODAY, "status": "closed"}],
    )
    aoi = AreaOfInterest.objects.create(
        name="Kampot coast", area=box(104.0, 10.5, 104.3, 10.8), source="drawn"
    )
    world = World(users=users)
    world.ids = {
        "school": "KPT-1",
        "service": "SRV-K",
        "layer": layer.pk,
        "raster": raster.pk,
        "a07": a07.pk,
        "a07_version": a07.version,
        "a08": a08.pk,
        "plan": plan.pk,
        "plan_version": plan.version,
        "action": action.pk,
        "action_version": action.version,
        "event": event.pk,
        "aoi": aoi.pk,
        "secret": calendar.calendar_token_create(users[PLANNER]),
        "user": users[PLANNER].pk,
        "framework": "test.1",
        "sci": sci.pk,
    }
    return world


# -------------------------------------------------------------------- bodies


def _file(name: str, content: bytes) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    buffer.name = "roof.png"
    buffer.seek(0)
    return buffer


def _layer_upload(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "file": _file("zones.geojson", json.dumps(ZONES).encode()),
        "hazard_type": "flood",
        "name": "Flood 2027",
        "intensity_field": "depth",
    }


def _kobo_upload(ids: dict[str, Any]) -> dict[str, Any]:
    return {"file": _file("submissions.csv", b"_uuid,school\n")}


def _plan_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Storm season 2026",
        "hazard_types": ["storm"],
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + dt.timedelta(days=90)).isoformat(),
        "lead": ids["sci"],
        "coverage": ["07"],
    }


def _action_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "Train teachers",
        "sector": "education",
        "organization": ids["sci"],
        "due_on": (TODAY + dt.timedelta(days=20)).isoformat(),
    }


def _report_rows(ids: dict[str, Any]) -> dict[str, Any]:
    row = {"school": "KPT-1", "reported_on": TODAY.isoformat(), "status": "open"}
    return {"reports": [row]}


AOI = {"name": "Coast", "geometry": json.loads(box(104.0, 10.5, 104.1, 10.6).json)}


@dataclass(frozen=True)
class Row:
    """One request and the roles it lets through."""

    pattern: str  # as Django's resolver spells it (see `url_patterns`)
    url: str  # with `{name}` placeholders filled from `World.ids`
    method: str
    allowed: frozenset[str]
    body: Any = None  # a dict, or a function of `World.ids` returning one
    format: str = "json"  # json | multipart (uploads and page forms)
    # A page that sends those it refuses to another page (not to sign in).
    deny_to: str | None = None
    # For a page answering 200 with the refusal on the form: did it write?
    wrote: Callable[[], bool] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.url}"


def R(pattern, method, allowed, url=None, body=None, format="json", **extra) -> Row:
    """A row whose URL is its pattern unless given."""
    return Row(pattern, url or "/" + pattern, method, allowed, body, format, **extra)


def FORM(pattern, method, allowed, url=None, body=None, **extra) -> Row:
    """A page form posted as `multipart/form-data`."""
    return R(pattern, method, allowed, url, body or {}, "multipart", **extra)


# The matrix. Reads are GET; writes carry a minimal valid body (page forms: the
# form's fields, where an empty form only shows the errors). Objects addressed by
# id sit in Kampot (07) unless the URL names `a08` (an assessment in Kandal).
MATRIX: list[Row] = [
    # --- the core: pages, accounts, areas, tokens
    R("", "GET", EVERYONE),
    FORM("i18n/setlang/", "POST", EVERYONE, body={"language": "km", "next": "/"}),
    R("api/schema/", "GET", EVERYONE),
    R("api/docs/", "GET", EVERYONE),
    R("healthz", "GET", EVERYONE),
    R("accounts/login/", "GET", EVERYONE),
    FORM("accounts/login/", "POST", EVERYONE, body={"username": "x", "password": "y"}),
    FORM("accounts/logout/", "POST", EVERYONE),
    R("accounts/password_reset/", "GET", EVERYONE),
    FORM("accounts/password_reset/", "POST", EVERYONE, body={"email": "a@b.org"}),
    R("accounts/password_reset/done/", "GET", EVERYONE),
    R("accounts/reset/<uidb64>/<token>/", "GET", EVERYONE, "/accounts/reset/MQ/x-y/"),
    R("accounts/reset/done/", "GET", EVERYONE),
    R("accounts/users/", "GET", ADMINS),
    R("accounts/users/new/", "GET", ADMINS),
    FORM("accounts/users/new/", "POST", ADMINS, body={"username": "new_user"}),
    R("accounts/users/<int:pk>/", "GET", ADMINS, "/accounts/users/{user}/"),
    FORM("accounts/users/<int:pk>/", "POST", ADMINS, "/accounts/users/{user}/"),
    R("api/auth/token/", "POST", EVERYONE, body={"username": "x", "password": "y"}),
    R("api/admin-areas/", "GET", EVERYONE),
    R("api/admin-areas/<str:code>/", "GET", EVERYONE, "/api/admin-areas/07/"),
    # --- hazards: everyone reads; coordinators and administrators change
    R("api/hazards/layers/", "GET", EVERYONE),
    R("api/hazards/layers/", "POST", MANAGERS, body=_layer_upload, format="multipart"),
    R("api/hazards/layers/<int:pk>/", "GET", EVERYONE, "/api/hazards/layers/{layer}/"),
    R(
        "api/hazards/layers/<int:pk>/",
        "DELETE",
        MANAGERS,
        "/api/hazards/layers/{layer}/",
    ),
    R(
        "api/hazards/layers/<int:pk>/activate/",
        "POST",
        MANAGERS,
        "/api/hazards/layers/{layer}/activate/",
    ),
    R(
        "api/hazards/layers/<int:pk>/deactivate/",
        "POST",
        MANAGERS,
        "/api/hazards/layers/{layer}/deactivate/",
    ),
    R(
        "api/hazards/layers/<int:pk>/zones/",
        "GET",
        EVERYONE,
        "/api/hazards/layers/{layer}/zones/",
    ),
    R(
        "api/hazards/layers/<int:pk>/tracks/",
        "GET",
        EVERYONE,
        "/api/hazards/layers/{layer}/tracks/",
    ),
    # --- schools and services
    R("api/schools/", "GET", EVERYONE),
    R("api/schools/<str:code>/", "GET", EVERYONE, "/api/schools/KPT-1/"),
    R(
        "api/schools/<str:code>/",
        "PATCH",
        EDITORS_07,
        "/api/schools/KPT-1/",
        body={"enrolment_girls": 120},
    ),
    R(
        "api/schools/<str:code>/exposure/",
        "GET",
        EVERYONE,
        "/api/schools/KPT-1/exposure/",
    ),
    R("api/services/", "GET", EVERYONE),
    R("api/services/<str:code>/", "GET", EVERYONE, "/api/services/SRV-K/"),
    # A sensitive service: only those who may see it get it at all.
    R(
        "api/services/<str:code>/",
        "GET",
        frozenset({OFF07, COORD, ADMIN}),
        "/api/services/SHELTER-K/",
    ),
    # --- risk
    R("api/risk/priorities/", "GET", EVERYONE),
    R(
        "api/risk/^priorities/export\\.(?P<fmt>csv|geojson)$",
        "GET",
        EVERYONE,
        "/api/risk/priorities/export.csv",
    ),
    R("api/risk/settings/", "GET", EVERYONE),
    R("api/risk/settings/", "PATCH", ADMINS, body={}),
    R("api/risk/aggregates/", "GET", EVERYONE, "/api/risk/aggregates/?level=province"),
    R(
        "api/risk/aggregates/export.csv",
        "GET",
        EVERYONE,
        "/api/risk/aggregates/export.csv?level=province",
    ),
    R("api/risk/safe-places/", "GET", EVERYONE),
    R("priorities/", "GET", EVERYONE),
    # --- checklists: pages
    R("schools/", "GET", SIGNED_IN),
    R("schools/<str:code>/", "GET", EVERYONE, "/schools/KPT-1/"),
    FORM("schools/<str:code>/assess/", "POST", EDITORS_07, "/schools/KPT-1/assess/"),
    R("assessments/<int:pk>/", "GET", CHECKLIST_READERS_07, "/assessments/{a07}/"),
    # Guessing the id of another province's checklist.
    R(
        "assessments/<int:pk>/",
        "GET",
        frozenset({PLANNER, OFF08, COORD, ADMIN}),
        "/assessments/{a08}/",
    ),
    # Readers who may not edit are sent to the read-only page.
    R(
        "assessments/<int:pk>/edit/",
        "GET",
        EDITORS_07,
        "/assessments/{a07}/edit/",
        deny_to="/assessments/{a07}/",
    ),
    FORM(
        "assessments/<int:pk>/edit/",
        "POST",
        EDITORS_07,
        "/assessments/{a07}/edit/",
        body=lambda ids: {"version": ids["a07_version"], "notes": "Checked"},
        deny_to="/assessments/{a07}/",
    ),
    FORM(
        "assessments/<int:pk>/edit/",
        "POST",
        frozenset({OFF08, ADMIN}),
        "/assessments/{a08}/edit/",
        body={"version": 1},
        deny_to="/assessments/{a08}/",
    ),
    FORM(
        "assessments/<int:pk>/verify/",
        "POST",
        MANAGERS,
        "/assessments/{a07}/verify/",
        body=lambda ids: {"version": ids["a07_version"]},
    ),
    R("checklists/print/", "GET", EVERYONE),
    R("checklists/print.pdf", "GET", EVERYONE),
    R("checklists/xlsform.xlsx", "GET", EVERYONE),
    R("checklists/import/", "GET", frozenset({OFF07, OFF08, ADMIN})),
    R(
        "checklists/import/",
        "POST",
        frozenset({OFF07, OFF08, ADMIN}),
        body=_kobo_upload,
        format="multipart",
    ),
    # --- checklists: API
    R("api/frameworks/", "GET", EVERYONE),
    R("api/frameworks/<str:version>/", "GET", EVERYONE, "/api/frameworks/test.1/"),
    R("api/assessments/", "GET", SIGNED_IN),
    R("api/assessments/", "POST", EDITORS_07, body={"school": "KPT-1"}),
    R(
        "api/assessments/<int:pk>/",
        "GET",
        CHECKLIST_READERS_07,
        "/api/assessments/{a07}/",
    ),
    R(
        "api/assessments/<int:pk>/",
        "GET",
        frozenset({PLANNER, OFF08, COORD, ADMIN}),
        "/api/assessments/{a08}/",
    ),
    R(
        "api/assessments/<int:pk>/",
        "PATCH",
        EDITORS_07,
        "/api/assessments/{a07}/",
        body=lambda ids: {"version": ids["a07_version"], "notes": "Checked"},
    ),
    R(
        "api/assessments/<int:pk>/",
        "PATCH",
        frozenset({OFF08, ADMIN}),
        "/api/assessments/{a08}/",
        body={"version": 1, "notes": "Guessed"},
    ),
    R(
        "api/assessments/<int:pk>/submit/",
        "POST",
        EDITORS_07,
        "/api/assessments/{a07}/submit/",
        body=lambda ids: {"version": ids["a07_version"]},
    ),
    R(
        "api/assessments/<int:pk>/submit/",
        "POST",
        frozenset({OFF08, ADMIN}),
        "/api/assessments/{a08}/submit/",
        body={"version": 1},
    ),
    R(
        "api/assessments/<int:pk>/verify/",
        "POST",
        MANAGERS,
        "/api/assessments/{a07}/verify/",
        body=lambda ids: {"version": ids["a07_version"]},
    ),
    R(
        "api/assessments/<int:pk>/history/",
        "GET",
        CHECKLIST_READERS_07,
        "/api/assessments/{a07}/history/",
    ),
    R(
        "api/assessments/<int:pk>/history/",
        "GET",
        frozenset({PLANNER, OFF08, COORD, ADMIN}),
        "/api/assessments/{a08}/history/",
    ),
    R(
        "api/assessments/<int:pk>/answers/<str:code>/evidence/",
        "POST",
        EDITORS_07,
        "/api/assessments/{a07}/answers/F.01/evidence/",
        body=lambda ids: {"photo": _png()},
        format="multipart",
    ),
    R(
        "api/assessments/<int:pk>/answers/<str:code>/evidence/",
        "POST",
        frozenset({OFF08, ADMIN}),
        "/api/assessments/{a08}/answers/F.01/evidence/",
        body=lambda ids: {"photo": _png()},
        format="multipart",
    ),
    R(
        "api/assessments/import/",
        "POST",
        frozenset({OFF07, OFF08, ADMIN}),
        body=_kobo_upload,
        format="multipart",
    ),
    # --- the map, its data, images, province pages, OGC API, tiles, exports
    R("map/", "GET", EVERYONE),
    R("map/rasters/<int:layer_id>.png", "GET", EVERYONE, "/map/rasters/{raster}.png"),
    R(
        "^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\\.pbf$",
        "GET",
        EVERYONE,
        "/tiles/schools/6/50/30.pbf",
    ),
    R("api/search/", "GET", EVERYONE, "/api/search/?q=KPT"),
    R("api/aois/", "POST", MANAGERS, body=AOI),
    R("api/aois/<int:pk>/summary/", "GET", EVERYONE, "/api/aois/{aoi}/summary/"),
    R("provinces/<str:code>/", "GET", EVERYONE, "/provinces/07/"),
    R("provinces/<str:code>/report.pdf", "GET", EVERYONE, "/provinces/07/report.pdf"),
    R("map/image.png", "GET", EVERYONE, "/map/image.png?province=07"),
    R("map/image.svg", "GET", EVERYONE, "/map/image.svg?province=07"),
    R("ogc/", "GET", EVERYONE),
    R("ogc/conformance", "GET", EVERYONE),
    R("ogc/api", "GET", EVERYONE),
    R("ogc/collections", "GET", EVERYONE),
    R(
        "ogc/collections/<str:collection_id>",
        "GET",
        EVERYONE,
        "/ogc/collections/schools",
    ),
    R(
        "ogc/collections/<str:collection_id>",
        "GET",
        NOBODY,  # plan coverage is not an OGC API collection
        "/ogc/collections/plan_coverage",
    ),
    R(
        "ogc/collections/<str:collection_id>/items",
        "GET",
        EVERYONE,
        "/ogc/collections/services/items",
    ),
    R(
        "ogc/collections/<str:collection_id>/items",
        "GET",
        NOBODY,
        "/ogc/collections/plan_coverage/items",
    ),
    R(
        "ogc/collections/<str:collection_id>/items/<str:feature_id>",
        "GET",
        EVERYONE,
        "/ogc/collections/schools/items/KPT-1",
    ),
    R(
        "ogc/collections/<str:collection_id>/items/<str:feature_id>",
        "GET",
        frozenset({OFF07, COORD, ADMIN}),
        "/ogc/collections/services/items/SHELTER-K",
    ),
    R(
        "api/^(?P<collection>[^/]+)/export\\.(?P<fmt>[^/]*)$",
        "GET",
        EVERYONE,
        "/api/schools/export.geojson",
    ),
    R(
        "api/^(?P<collection>[^/]+)/export\\.(?P<fmt>[^/]*)$",
        "GET",
        SIGNED_IN,
        "/api/plan_coverage/export.csv",
    ),
    # without a format: a 400 naming `format`, or 404 for a collection not shown
    R("api/^(?P<collection>[^/]+)/export$", "GET", EVERYONE, "/api/schools/export"),
    R(
        "api/^(?P<collection>[^/]+)/export$",
        "GET",
        SIGNED_IN,
        "/api/plan_coverage/export",
    ),
    # --- plans: signed-in roles read; coordinators and administrators manage;
    # the action's organization updates its status
    R("api/plans/", "GET", SIGNED_IN),
    R("api/plans/", "POST", MANAGERS, body=_plan_body),
    R("api/plans/<int:pk>/", "GET", SIGNED_IN, "/api/plans/{plan}/"),
    R(
        "api/plans/<int:pk>/",
        "PATCH",
        MANAGERS,
        "/api/plans/{plan}/",
        body=lambda ids: {"version": ids["plan_version"], "season": "Wet"},
    ),
    R(
        "api/plans/<int:pk>/transition/",
        "POST",
        MANAGERS,
        "/api/plans/{plan}/transition/",
        body={"to": "active", "why": "Agreed at the Forum."},
    ),
    R("api/plans/<int:pk>/actions/", "GET", SIGNED_IN, "/api/plans/{plan}/actions/"),
    R(
        "api/plans/<int:pk>/actions/",
        "POST",
        MANAGERS,
        "/api/plans/{plan}/actions/",
        body=_action_body,
    ),
    R(
        "api/plans/<int:pk>/actions/<int:action_id>/",
        "PATCH",
        SCI_STAFF,
        "/api/plans/{plan}/actions/{action}/",
        body=lambda ids: {"version": ids["action_version"], "status": "in_progress"},
    ),
    R("api/plans/<int:pk>/schools/", "GET", SIGNED_IN, "/api/plans/{plan}/schools/"),
    R("api/plans/3w/", "GET", SIGNED_IN),
    R("api/plans/3w.csv", "GET", SIGNED_IN),
    R("api/plans/3w/summary/", "GET", SIGNED_IN),
    R(
        "api/plans/<int:pk>/actions.csv",
        "GET",
        SIGNED_IN,
        "/api/plans/{plan}/actions.csv",
    ),
    R(
        "api/plans/<int:pk>/coverage.geojson",
        "GET",
        SIGNED_IN,
        "/api/plans/{plan}/coverage.geojson",
    ),
    # The feed's secret is its credential: whoever holds it reads the feed.
    R(
        "^plans/calendar/(?P<secret>[^/]+)\\.ics$",
        "GET",
        EVERYONE,
        "/plans/calendar/{secret}.ics",
    ),
    R("api/plans/calendar-token/", "POST", SIGNED_IN),
    R("api/plans/calendar-token/", "DELETE", SIGNED_IN),
    R("plans/", "GET", SIGNED_IN),
    R("plans/overview/", "GET", SIGNED_IN),
    R("plans/new/", "GET", MANAGERS),
    FORM("plans/new/", "POST", MANAGERS),
    R("plans/<int:pk>/", "GET", SIGNED_IN, "/plans/{plan}/"),
    R("plans/<int:pk>/edit/", "GET", MANAGERS, "/plans/{plan}/edit/"),
    FORM("plans/<int:pk>/edit/", "POST", MANAGERS, "/plans/{plan}/edit/"),
    R("plans/<int:pk>/status/", "GET", MANAGERS, "/plans/{plan}/status/"),
    FORM("plans/<int:pk>/status/", "POST", MANAGERS, "/plans/{plan}/status/"),
    R("plans/<int:pk>/actions/new/", "GET", MANAGERS, "/plans/{plan}/actions/new/"),
    FORM("plans/<int:pk>/actions/new/", "POST", MANAGERS, "/plans/{plan}/actions/new/"),
    R(
        "plans/<int:pk>/actions/<int:action_id>/edit/",
        "GET",
        SCI_STAFF,
        "/plans/{plan}/actions/{action}/edit/",
    ),
    FORM(
        "plans/<int:pk>/actions/<int:action_id>/edit/",
        "POST",
        SCI_STAFF,
        "/plans/{plan}/actions/{action}/edit/",
    ),
    # --- emergency events: signed-in roles read; coordinators open them;
    # officials report the status of their own areas' schools
    R("api/events/", "GET", SIGNED_IN),
    R(
        "api/events/",
        "POST",
        MANAGERS,
        body={
            "name": "Storm",
            "hazard_type": "storm",
            "starts_on": str(TODAY),
            "provinces": ["07"],
        },
    ),
    R("api/events/<int:pk>/", "GET", SIGNED_IN, "/api/events/{event}/"),
    R("api/events/<int:pk>/", "PATCH", MANAGERS, "/api/events/{event}/", body={}),
    R("api/events/<int:pk>/reports/", "GET", SIGNED_IN, "/api/events/{event}/reports/"),
    R(
        "api/events/<int:pk>/reports/",
        "POST",
        REPORTERS_07,
        "/api/events/{event}/reports/",
        body=_report_rows,
    ),
    R("api/events/<int:pk>/sitrep/", "GET", SIGNED_IN, "/api/events/{event}/sitrep/"),
    R(
        "api/events/^(?P<pk>[0-9]+)/(?P<name>sitrep\\.csv|schools\\.csv|schools"
        "\\.geojson)$",
        "GET",
        SIGNED_IN,
        "/api/events/{event}/schools.geojson",
    ),
    R("events/", "GET", SIGNED_IN),
    R("events/new/", "GET", MANAGERS),
    FORM("events/new/", "POST", MANAGERS),
    R("events/<int:pk>/", "GET", SIGNED_IN, "/events/{event}/"),
    FORM(
        "events/<int:pk>/",
        "POST",
        REPORTERS_07,
        "/events/{event}/",
        body={"school": "KPT-1", "reported_on": str(TODAY), "status": "open"},
        wrote=lambda: StatusReport.objects.filter(status="open").exists(),
    ),
]

# Served only under DEBUG (never in production): left out of the matrix.
DEBUG_ONLY = {"^media/(?P<path>.*)$"}


def url_patterns(patterns=None, prefix="") -> list[str]:
    """Every URL pattern of the project, spelled as its route strings joined."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found += url_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


# ------------------------------------------------------------------- clients


def client_for(world: World, role: str) -> APIClient:
    client = APIClient()
    if role != ANON:
        client.force_login(world.users[role])
    return client


def is_allowed(response, deny_to: str | None = None) -> bool:
    """Through the permission check: not 401/403/404, not sent to sign in (or to
    the row's `deny_to` page)."""
    if response.status_code in (401, 403, 404):
        return False
    location = response.get("Location", "")
    if response.status_code == 302 and "/accounts/login/" in location:
        return False
    return not (deny_to and response.status_code == 302 and location == deny_to)


def send(world: World, role: str, row: Row) -> bool:
    """Whether `role` gets through with the row's request (rolled back
    afterwards, so that every role meets the same data)."""
    url = row.url.format(**world.ids)
    body = row.body(world.ids) if callable(row.body) else row.body
    client = client_for(world, role)
    deny_to = row.deny_to.format(**world.ids) if row.deny_to else None
    with transaction.atomic():
        response = getattr(client, row.method.lower())(url, body, format=row.format)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        allowed = is_allowed(response, deny_to)
        if row.wrote is not None:
            allowed = allowed and row.wrote()
        transaction.set_rollback(True)
    assert response.status_code < 500, (role, row.id, response.status_code)
    assert response.status_code != 405, (role, row.id, "method not allowed")
    return allowed


# --------------------------------------------------------------------- tests


def test_every_url_has_expectations():
    """A URL added without a row in the matrix fails here."""
    covered = {row.pattern for row in MATRIX}
    patterns = [
        p for p in url_patterns() if not p.startswith("admin/") and p not in DEBUG_ONLY
    ]
    assert sorted(set(patterns) - covered) == []
    assert sorted(covered - set(patterns)) == [], "rows for URLs that do not exist"


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: row.id)
def test_permission_matrix(db_world, row):
    world = db_world
    """Each role gets through exactly when the matrix says so."""
    got = {role for role in ROLES if send(world, role, row)}
    assert got == set(row.allowed), (
        f"{row.id}: wrongly allowed {sorted(got - row.allowed)}, "
        f"wrongly denied {sorted(row.allowed - got)}"
    )


# Where each sensitive safe shelter is, exactly, and how to call it.
SHELTERS = {
    "SHELTER-K": ("104.17", "10.62", "+855 12 345 007"),  # Kampot (07)
    "SHELTER-D": ("104.96", "11.43", "+855 12 345 008"),  # Kandal (08)
}
SEES_SHELTERS = {
    ANON: set(),
    PLANNER: set(),
    OFF07: {"SHELTER-K"},
    OFF08: {"SHELTER-D"},
    COORD: {"SHELTER-K", "SHELTER-D"},
    ADMIN: {"SHELTER-K", "SHELTER-D"},
}
SERVICE_OUTPUTS = [
    "/api/services/?page_size=1000",
    "/api/services/export.geojson",
    "/api/services/export.csv",
    "/ogc/collections/services/items?limit=1000",
]


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("url", SERVICE_OUTPUTS)
def test_sensitive_services_exact_place_and_contact_only_for_those_in_reach(
    db_world, url
):
    """Safe shelters' coordinates and contacts reach coordinators, administrators
    and the officials of their province; never planners or anonymous readers."""
    for role in ROLES:
        response = client_for(db_world, role).get(url)
        assert response.status_code == 200, (role, url)
        text = _body(response)
        seen = {
            code
            for code, (lon, lat, contact) in SHELTERS.items()
            if lon in text or lat in text or contact in text or code in text
        }
        assert seen == SEES_SHELTERS[role], (role, url)


def test_sensitive_services_in_vector_tiles_only_for_those_in_reach(db_world):
    """A services tile over Kampot and Kandal carries only the shelters the
    viewer may see (feature codes are plain strings in the tile)."""
    for role in ROLES:
        response = client_for(db_world, role).get("/tiles/services/4/12/7.pbf")
        assert response.status_code == 200, role
        seen = {code for code in SHELTERS if code.encode() in response.content}
        assert seen == SEES_SHELTERS[role], role
        assert b"SRV-K" in response.content, role  # the tile does carry services


@pytest.mark.parametrize(
    "url",
    [
        "/api/assessments/{a08}/",
        "/api/assessments/{a08}/history/",
        "/assessments/{a08}/",
    ],
)
def test_official_guessing_ids_never_reads_another_provinces_checklist(db_world, url):
    """official_07 walking the assessment ids around Kandal's gets 403 or 404,
    never 200, and the Kandal school's notes never appear."""
    client = client_for(db_world, OFF07)
    a07, a08 = db_world.ids["a07"], db_world.ids["a08"]
    for pk in range(min(a07, a08) - 2, max(a07, a08) + 3):
        if pk == a07:
            continue
        response = client.get(url.replace("{a08}", str(pk)))
        assert response.status_code in (403, 404), (pk, response.status_code)
        assert "KDL-1" not in response.content.decode()


def test_django_admin_only_for_administrators(db_world):
    """/admin/ lets in the (staff) administrator; no other role reaches it or any
    model's list in it (they go to the admin's sign-in page). What a staff
    account may change inside is Django's model permissions."""
    urls = ["/admin/"] + [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin_site._registry
    ]
    for role in ROLES:
        client = client_for(db_world, role)
        for url in urls:
            response = client.get(url)
            if role == ADMIN:
                assert url != "/admin/" or response.status_code == 200
            else:
                assert response.status_code == 302, (role, url)
                assert "/admin/login/" in response["Location"], (role, url)
