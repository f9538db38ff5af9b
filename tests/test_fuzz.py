"""A property-based fuzz of the whole API from its OpenAPI schema (schemathesis).

Every operation in `/api/schema/` gets requests generated from the schema (valid
and invalid parameters and bodies), each sent as every role: anonymous, planner,
the education official of Kampot, coordinator and administrator. Path ids are
sent both as generated and as ids of real rows, so requests reach past the 404.
For every response: no 5xx, the status code is documented, the body matches the
documented schema and content type, and a rejected request (4xx) changed no row
of SalaSafe's tables.

`make test` runs a few examples per operation; `make fuzz` sets
`SALASAFE_FUZZ_EXAMPLES` for a long run.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from maps.models import AreaOfInterest
from plans.models import Action, Event
from preparedness.models import AdminArea
from schools.checklists.services import assessment_create
from tests.factories import box, make_framework
from tests.maps.export_data import make_export_data
from tests.maps.riskmap_data import tile_of

EXAMPLES = int(os.environ.get("SALASAFE_FUZZ_EXAMPLES", "5"))
ROLES = ("anonymous", "planner", "official_07", "coordinator", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# SalaSafe's own tables plus users and tokens; not sessions or the cache (failed
# sign-ins are counted there, by design).
TABLE_PREFIXES = ("preparedness_", "hazards_", "schools_", "plans_", "maps_")
OTHER_TABLES = ("auth_user", "authtoken_token")


def _openapi() -> dict:
    """The schema `/api/schema/` serves, as JSON."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# The coverage phase sends every boundary value of every parameter, whatever
# max_examples says: only the long run (`make fuzz`) affords it.
CONFIG = schemathesis.Config.from_dict(
    {"phases": {"coverage": {"enabled": EXAMPLES > 10}}}
)
schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_test_transaction():
    """The WSGI handler would close the connection that holds the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(users, tmp_path):
    """Small real data: schools with risk, services, a flood layer, a plan with an
    action, an assessment, an event and an area of interest; a token per role."""
    data = make_export_data()
    make_framework(tmp_path)
    assessment = assessment_create(
        school=data["k1"], by=users["official_07"], answers={"F.01": "no"}
    )
    plan = data["plan"]
    action = Action.objects.create(
        plan=plan,
        title="Sandbags for K1",
        sector="education",
        organization=plan.lead,
        due_on=dt.date(2026, 7, 1),
    )
    event = Event.objects.create(
        name="Mekong flood 2026",
        hazard_type="riverine_flood",
        starts_on=dt.date(2026, 8, 1),
        created_by=users["coordinator"],
    )
    event.provinces.set(AdminArea.objects.filter(code__in=["07", "12"]))
    aoi = AreaOfInterest.objects.create(name="PP", area=box(104.9, 11.5, 105.0, 11.6))
    z, x, y = tile_of(104.92, 11.56, 10)
    ids = {
        "/api/plans/": {"id": plan.pk, "action_id": action.pk},
        "/api/events/": {"id": event.pk, "name": "sitrep.csv"},
        "/api/hazards/": {"id": data["zone"].layer_id},
        "/api/assessments/": {"id": assessment.pk, "code": "F.01"},
        "/api/aois/": {"id": aoi.pk},
        "/api/schools/": {"code": "K1"},
        "/api/services/": {"code": "SRV-KS"},
        "/api/admin-areas/": {"code": "07"},
        "/api/frameworks/": {"version": "test.1"},
        "/api/risk/": {"fmt": "csv"},
        "/tiles/": {"layer": "schools", "z": z, "x": x, "y": y},
    }
    tokens = {
        name: Token.objects.create(user=user).key
        for name, user in users.items()
        if name in ROLES
    }
    return {"ids": ids, "tokens": tokens}


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(
        name
        for name in names
        if name.startswith(TABLE_PREFIXES) or name in OTHER_TABLES
    )


def snapshot(tables: list[str]) -> dict[str, str]:
    """Row count and an md5 of every row of each table, in one query."""
    sql = " UNION ALL ".join(
        f"SELECT '{name}', count(*) || ':' || "
        f"coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "
        f'FROM "{name}" t'
        for name in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def _real_ids(case, ids: dict) -> dict | None:
    """The case's path parameters replaced by ids of real rows, if it has any."""
    if not case.path_parameters:
        return None
    for prefix, values in ids.items():
        if case.operation.path.startswith(prefix):
            return {
                name: values.get(name, value)
                for name, value in case.path_parameters.items()
            }
    return None


def send(case, role: str, tokens: dict, tables: list[str]) -> None:
    # The WSGI client does not unzip: ask GZipMiddleware for plain bodies.
    headers = {"Accept-Encoding": "identity"}
    if role != "anonymous":
        headers["Authorization"] = f"Token {tokens[role]}"
    before = snapshot(tables)
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    if 400 <= response.status_code < 500:
        after = snapshot(tables)
        changed = sorted(name for name in tables if before[name] != after[name])
        assert not changed, (
            f"{case.method} {case.formatted_path} as {role} was refused "
            f"({response.status_code}) but wrote to {changed}"
        )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 10,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_role_within_its_schema(case, world):
    """No 5xx, every answer documented and well-formed, no write by a refusal."""
    tables = _tables()
    real = _real_ids(case, world["ids"])
    for role in ROLES:
        send(case, role, world["tokens"], tables)
        if real is not None:
            generated = case.path_parameters
            case.path_parameters = real
            try:
                send(case, role, world["tokens"], tables)
            finally:
                case.path_parameters = generated


def test_every_operation_documents_its_error_body():
    """Clients can rely on the schema for refusals: every operation lists 401 and
    403, those with parameters or bodies 400, those with ids 404, all as `Error`."""
    document = _openapi()
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "403"}
            if operation.get("parameters") or operation.get("requestBody"):
                expected.add("400")
            if "{" in path:
                expected.add("404")
            assert expected <= set(responses), (method, path)
            body = responses["403"]["content"]["application/json"]["schema"]
            assert body == error, (method, path)


@pytest.mark.django_db
def test_an_unmatched_api_url_is_a_json_404(api):
    """`/api/plans/abc/` matches no URL pattern, yet answers in the API's shape."""
    response = api.get("/api/plans/abc/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["detail"]


@pytest.mark.django_db
def test_a_token_request_that_is_no_form_is_a_400(api):
    """A JSON list as the token request body is refused with a message, not a 500."""
    response = api.post("/api/auth/token/", [None, None], format="json")

    assert response.status_code == 400
    assert response.json()["non_field_errors"]
