"""Plan exports and the 3W view (included under /api/plans/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
