import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from rest_framework.test import APIClient

from preparedness.models import Membership
from tests.factories import make_geography, make_organization, make_user

Role = Membership.Role


@pytest.fixture(autouse=True)
def empty_cache():
    """Nothing cached by one test (map choropleth, sign-in counts) leaks into
    the next. The database-backed `public` cache needs no clearing: its rows
    go with each test's transaction."""
    for store in caches.all():
        if not isinstance(store, DatabaseCache):
            store.clear()
    yield


@pytest.fixture
def geography(db):
    """Provinces 07 Kampot, 08 Kandal, 12 Phnom Penh; one district and commune each."""
    return make_geography()


@pytest.fixture
def users(geography):
    """One user per role; the official covers province 07 (Kampot)."""
    org = make_organization()
    return {
        "coordinator": make_user("coordinator", Role.COORDINATOR, organization=org),
        "official_07": make_user(
            "official_07", Role.EDUCATION_OFFICIAL, areas=["07"], organization=org
        ),
        "planner": make_user("planner", Role.PLANNER, organization=org),
        "admin": make_user("admin", Role.ADMINISTRATOR, is_staff=True),
    }


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(users):
    """An API client logged in as one of the `users` by name."""

    def login(name: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(users[name])
        return client

    return login
