"""The public cache: reads answered again until the data changes or a few
seconds pass, per audience (the public; signed-in readers of OGC API and tiles by
role and areas), never anyone else's, never a page, a stream or a private answer
to the public."""

import gzip
import json
import time

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from preparedness import public_cache
from preparedness.access import Role
from preparedness.public_cache import cacheable_response, clear
from schools.models import Service
from tests.factories import make_school, make_service, make_user

pytestmark = pytest.mark.django_db

SECONDS = 30
# An answer from the cache carries `Age` (whole seconds since it was kept: 0, or
# 1 on a slow machine); one built for the request does not.
on = override_settings(SALASAFE_PUBLIC_CACHE_SECONDS=SECONDS)


@pytest.fixture
def places(users):
    make_school("SCH-K", lon=104.18, lat=10.61, commune="070101", name_km="សាលា")
    return make_service(
        "SHELTER-K",
        lon=104.17,
        lat=10.62,
        commune="070101",
        kind=Service.Kind.SAFE_SHELTER,
        sensitive=True,
        contact="+855 12 345 007",
    )


def contacts(response) -> set:
    return {f["properties"].get("contact") for f in response.json()["features"]}


def codes(response) -> set:
    return {f["properties"].get("code") for f in response.json()["features"]}


def hang_up(response) -> None:
    """Close a streamed response as the WSGI server does when the client goes
    (without the test database's connection closing with it, as the test
    client itself does)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def signed_in(name: str) -> Client:
    client = Client()
    assert client.login(username=name, password="pw-" + name)
    return client


@on
def test_an_anonymous_read_is_answered_again_until_the_data_changes(places):
    anonymous = Client()
    first = anonymous.get("/api/schools/")
    assert first.status_code == 200 and "Age" not in first
    again = anonymous.get("/api/schools/")
    assert again.status_code == 200 and "Age" in again
    assert again.content == first.content

    make_school("SCH-NEW", lon=104.19, lat=10.6, commune="070101")

    changed = anonymous.get("/api/schools/")  # the new school shows at once
    assert "Age" not in changed
    assert {f["properties"]["code"] for f in changed.json()["features"]} == {
        "SCH-K",
        "SCH-NEW",
    }
    assert "Age" in anonymous.get("/api/schools/")


@on
def test_a_kept_answer_expires(places):
    # The database cache keeps expiry times in whole seconds: 2 s is 1 to 2 s.
    with override_settings(SALASAFE_PUBLIC_CACHE_SECONDS=2):
        Client().get("/api/schools/")
        assert "Age" in Client().get("/api/schools/")
        time.sleep(2.1)
        assert "Age" not in Client().get("/api/schools/")


@on
@pytest.mark.parametrize("first", ["anonymous", "coordinator", "token"])
def test_signed_in_users_never_get_or_leave_a_public_answer(places, users, first):
    """A coordinator sees the shelter's contact, the public never does, in
    whichever order they ask; signed-in reads of /api/ are never kept."""
    token = Token.objects.create(user=users["coordinator"]).key
    askers = {
        "anonymous": lambda: Client().get("/api/services/"),
        "coordinator": lambda: signed_in("coordinator").get("/api/services/"),
        "token": lambda: Client().get(
            "/api/services/", HTTP_AUTHORIZATION=f"Token {token}"
        ),
    }
    askers[first]()
    for _ in range(2):
        for name, ask in askers.items():
            response = ask()
            if name == "anonymous":
                assert "+855 12 345 007" not in contacts(response)
            else:
                assert "+855 12 345 007" in contacts(response)
                assert "Age" not in response  # read fresh, never from the cache


@on
def test_a_gzipped_answer_goes_only_to_clients_that_accept_gzip(places):
    zipped = Client().get("/api/schools/?page_size=100", HTTP_ACCEPT_ENCODING="gzip")
    zipped_again = Client().get(
        "/api/schools/?page_size=100", HTTP_ACCEPT_ENCODING="gzip"
    )
    plain = Client().get("/api/schools/?page_size=100")

    assert zipped["Content-Encoding"] == "gzip" and "Age" in zipped_again
    assert "Content-Encoding" not in plain and "Age" not in plain
    assert json.loads(gzip.decompress(zipped_again.content)) == plain.json()


@on
def test_the_khmer_and_english_answers_are_kept_apart(places):
    english = Client().get("/api/hazards/layers/", HTTP_ACCEPT_LANGUAGE="en")
    khmer = Client().get("/api/hazards/layers/", HTTP_ACCEPT_LANGUAGE="km")
    assert "Age" not in khmer
    assert "Age" in Client().get("/api/hazards/layers/", HTTP_ACCEPT_LANGUAGE="km")
    assert english.status_code == khmer.status_code == 200


@on
def test_pages_and_errors_are_never_kept(places):
    first, second = Client().get("/api/docs/"), Client().get("/api/docs/")
    assert first.status_code == 200 and "Age" not in second
    nonce = str(first.wsgi_request.csp_nonce)
    assert nonce in first.content.decode()
    assert nonce not in second.content.decode()  # each page its own CSP nonce

    Client().get("/api/schools/NOPE/")
    assert "Age" not in Client().get("/api/schools/NOPE/")


@on
def test_an_export_is_kept_once_streamed_whole(places):
    url = "/api/admin_areas/export.geojson?province=07"
    first = Client().get(url)
    assert first.streaming  # streamed to the first asker...
    body = b"".join(first.streaming_content)
    hang_up(first)
    again = Client().get(url)
    assert not again.streaming and "Age" in again  # ...then from the cache
    assert again.content == body and "Kampot" in body.decode()
    assert again["Content-Disposition"] == first["Content-Disposition"]


@on
@pytest.mark.django_db(transaction=True)  # a hang-up mid-stream drops the connection
def test_an_export_left_half_read_or_too_large_is_not_kept(places):
    url = "/api/admin_areas/export.csv"
    hung_up = Client().get(url)
    next(iter(hung_up.streaming_content))  # the client goes away after a chunk
    hang_up(hung_up)
    assert Client().get(url).streaming  # not kept: built again

    with override_settings(SALASAFE_PUBLIC_CACHE_MAX_BYTES=10):
        large = Client().get("/api/admin_areas/export.geojson")
        assert len(b"".join(large.streaming_content)) > 10
        hang_up(large)
        assert Client().get("/api/admin_areas/export.geojson").streaming


@on
def test_a_page_is_never_kept_even_without_a_cookie():
    """A page's CSP nonce must differ on every answer."""
    assert cacheable_response(HttpResponse(b"{}", content_type="application/json"))
    assert not cacheable_response(HttpResponse(b"<p>", content_type="text/html"))
    private = HttpResponse(b"{}", content_type="application/json")
    private["Cache-Control"] = "private, max-age=300"
    assert not cacheable_response(private)


@override_settings(SALASAFE_PUBLIC_CACHE_SECONDS=0)
def test_zero_seconds_turns_it_off(places):
    """Off, the cache costs nothing: no version read, no look-up."""
    Client().get("/api/schools/")
    with CaptureQueriesContext(connection) as queries:
        again = Client().get("/api/schools/")
    assert "Age" not in again
    assert not [q for q in queries if "salasafe_" in q["sql"]]


OGC_SERVICES = "/ogc/collections/services/items"


@on
def test_signed_in_readers_of_ogc_and_tiles_share_answers_by_role_and_area(
    places, users
):
    """Two coordinators share one kept answer; an official of another scope, a
    planner and the public each get their own, in whichever order they ask."""
    org = users["coordinator"].membership.organization
    make_user("coordinator_2", Role.COORDINATOR, organization=org)
    make_user("official_12", Role.EDUCATION_OFFICIAL, areas=["12"], organization=org)

    anonymous = Client().get(OGC_SERVICES)
    first = signed_in("coordinator").get(OGC_SERVICES)
    second = signed_in("coordinator_2").get(OGC_SERVICES)
    official = signed_in("official_12").get(OGC_SERVICES)
    planner = signed_in("planner").get(OGC_SERVICES)

    assert "Age" not in first and "Age" in second
    assert second.content == first.content
    assert "+855 12 345 007" in contacts(first)
    for other in (anonymous, official, planner):
        assert "Age" not in other  # built for its own audience
        assert "+855 12 345 007" not in contacts(other)
    assert "Age" in signed_in("official_12").get(OGC_SERVICES)
    own_area = signed_in("official_07").get(OGC_SERVICES)  # same role, other area
    assert "Age" not in own_area
    assert "SHELTER-K" in codes(own_area) and "SHELTER-K" not in codes(official)
    tile = "/tiles/services/12/3233/1926.pbf"  # the shelter's tile
    assert "Age" not in signed_in("coordinator").get(tile)
    again = signed_in("coordinator_2").get(tile)
    assert "Age" in again and again["Cache-Control"].startswith("private")


@on
def test_api_tokens_are_checked_before_the_cache(places, users):
    """A token reader shares their role's answers; a refused token is refused
    (403, as the API refuses it), never given a kept answer."""
    token = Token.objects.create(user=users["coordinator"]).key
    signed_in("coordinator").get(OGC_SERVICES)

    by_token = Client().get(OGC_SERVICES, HTTP_AUTHORIZATION=f"Token {token}")
    refused = Client().get(OGC_SERVICES, HTTP_AUTHORIZATION="Token not-a-token")

    assert "Age" in by_token and "+855 12 345 007" in contacts(by_token)
    assert refused.status_code == 403 and "Age" not in refused


@on
def test_a_signed_in_reader_sees_a_change_at_once(places, users):
    coordinator = signed_in("coordinator")
    coordinator.get(OGC_SERVICES)
    assert "Age" in coordinator.get(OGC_SERVICES)

    Service.objects.filter(code="SHELTER-K").update(contact="+855 99 999 999")

    changed = coordinator.get(OGC_SERVICES)
    assert "Age" not in changed and "+855 99 999 999" in contacts(changed)


@on
def test_a_process_answers_again_from_its_memory(places, monkeypatch):
    """A kept answer is served again from the process's memory, without a look-up
    in the shared table; one larger than the memory's limit only from the table."""
    url = "/api/schools/"
    Client().get(url)
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(url)
    assert "Age" in again
    assert not [q for q in queries if "salasafe_public_cache" in q["sql"]]

    clear()
    monkeypatch.setattr(public_cache, "LOCAL_MAX_BYTES", 10)
    Client().get(url)
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(url)
    assert "Age" in again
    assert [q for q in queries if "salasafe_public_cache" in q["sql"]]
