"""The optional read replica: read-only endpoints read from it, the rest from the
primary (preparedness/dbrouter.py).

`replica` is a second connection to the same test database (TEST MIRROR in
preparedness/settings_test.py), switched on per test by SALASAFE_READ_REPLICA.
Which alias served a query is seen by capturing the queries of each connection.
The tests are transactional: the replica's own connection sees committed rows,
as a streaming replica would.
"""

import json
import os
import subprocess
import sys

import pytest
from django.db import connections, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from preparedness.dbrouter import ReplicaMiddleware
from schools.models import School
from tests.factories import make_school

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    settings.SALASAFE_READ_REPLICA = "replica"
    return settings


class Served:
    """The SQL each alias ran inside the block."""

    def __enter__(self):
        self.captures = {
            alias: CaptureQueriesContext(connections[alias])
            for alias in ("default", "replica")
        }
        for capture in self.captures.values():
            capture.__enter__()
        return self

    def __exit__(self, *exc):
        for capture in self.captures.values():
            capture.__exit__(*exc)

    def sql(self, alias: str) -> str:
        return "\n".join(q["sql"] for q in self.captures[alias].captured_queries)

    def reads(self, alias: str, table: str) -> bool:
        return f'FROM "{table}"' in self.sql(alias)

    def reads_schools(self, alias: str) -> bool:
        return self.reads(alias, "schools_school")


def test_a_school_list_reads_from_the_replica(geography, replica, api):
    """GET /api/schools/ is answered from the replica; the primary is not asked
    about schools at all."""
    make_school("SCH-PP")

    with Served() as served:
        response = api.get("/api/schools/")

    assert response.status_code == 200
    assert [f["properties"]["code"] for f in response.json()["features"]] == ["SCH-PP"]
    assert served.reads_schools("replica")
    assert not served.reads_schools("default")


def test_a_streamed_export_reads_from_the_replica(geography, replica, api):
    """A CSV export, streamed after the view returns, still reads the replica."""
    with Served() as served:
        response = api.get("/api/admin_areas/export.csv")
        body = b"".join(response.streaming_content).decode()

    assert response.status_code == 200 and "Phnom Penh" in body
    assert served.reads("replica", "preparedness_adminarea")
    assert not served.reads("default", "preparedness_adminarea")


def test_tiles_and_ogc_read_from_the_replica(geography, replica, api):
    """Vector tiles and the OGC API items are read-only endpoints too."""
    with Served() as served:
        tile = api.get("/tiles/admin_areas/7/101/59.pbf")
        items = api.get("/ogc/collections/admin_areas/items?f=json")

    assert (tile.status_code, items.status_code) == (200, 200)
    assert len(tile.content) > 0 and items.json()["numberReturned"] > 0
    assert served.reads("replica", "preparedness_adminarea")
    assert not served.reads("default", "preparedness_adminarea")


def test_a_write_and_its_reads_go_to_the_primary(geography, users, replica, api_as):
    """PATCH on the same prefix is not a safe method: its reads and its write go
    to the primary, and the replica is not used."""
    make_school("SCH-PP")

    with Served() as served:
        response = api_as("admin").patch(
            "/api/schools/SCH-PP/", {"enrolment_girls": 120}, format="json"
        )

    assert response.status_code == 200
    assert School.objects.get(code="SCH-PP").enrolment_girls == 120
    assert served.reads_schools("default")
    assert 'UPDATE "schools_school"' in served.sql("default")
    assert served.sql("replica") == ""


def test_other_paths_and_no_replica_read_the_primary(geography, settings, api):
    """A GET outside the configured prefixes reads the primary; so does every
    request when no replica is configured (the default)."""
    make_school("SCH-PP")
    settings.SALASAFE_READ_REPLICA = "replica"
    settings.SALASAFE_REPLICA_PREFIXES = ["/ogc/"]
    with Served() as served:
        assert api.get("/api/schools/").status_code == 200
    assert served.reads_schools("default") and served.sql("replica") == ""

    settings.SALASAFE_READ_REPLICA = None
    settings.SALASAFE_REPLICA_PREFIXES = ["/api/schools/"]
    with Served() as served:
        assert api.get("/api/schools/").status_code == 200
    assert served.reads_schools("default") and served.sql("replica") == ""


def test_a_marked_request_reads_the_primary_after_it_writes(geography, replica):
    """In a read-only request that writes after all, reads before the write use
    the replica, reads after it (and inside a transaction) the primary, so the
    request sees its own write."""
    make_school("SCH-PP")
    seen = {}

    def view(request):
        seen["before"] = School.objects.get(code="SCH-PP").enrolment_girls
        School.objects.filter(code="SCH-PP").update(enrolment_girls=7)
        seen["after"] = School.objects.get(code="SCH-PP").enrolment_girls
        return None

    def in_transaction(request):
        with transaction.atomic():
            seen["atomic"] = School.objects.get(code="SCH-PP").code
        return None

    request = RequestFactory().get("/api/schools/")
    with Served() as served:
        ReplicaMiddleware(view)(request)
    assert seen["after"] == 7
    assert served.reads_schools("replica") and served.reads_schools("default")
    replica_sql, primary_sql = served.sql("replica"), served.sql("default")
    assert "UPDATE" not in replica_sql and 'UPDATE "schools_school"' in primary_sql
    assert primary_sql.index("UPDATE") < primary_sql.index('SELECT "schools_school"')

    with Served() as served:
        ReplicaMiddleware(in_transaction)(request)
    assert served.reads_schools("default") and served.sql("replica") == ""

    # Outside a request nothing is marked.
    with Served() as served:
        School.objects.get(code="SCH-PP")
    assert served.sql("replica") == ""


def test_database_replica_url_adds_the_alias():
    """DATABASE_REPLICA_URL adds a PostGIS `replica` database and turns reads from
    it on; without it there is no replica."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps("
        "[sorted(s.DATABASES), s.DATABASES.get('replica', {}).get('HOST'),"
        " s.DATABASES.get('replica', {}).get('ENGINE'), s.SALASAFE_READ_REPLICA]))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"},
        "DJANGO_SETTINGS_MODULE": "preparedness.settings",
        "SECRET_KEY": "replica-test-key",
    }

    def settings_with(**extra):
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    assert settings_with(
        DATABASE_REPLICA_URL="postgis://salasafe:pw@replica.example.org:5432/salasafe"
    ) == [
        ["default", "replica"],
        "replica.example.org",
        "django.contrib.gis.db.backends.postgis",
        "replica",
    ]
    assert settings_with() == [["default"], None, None, None]
