"""Schools and services: API."""

urlpatterns: list = []
