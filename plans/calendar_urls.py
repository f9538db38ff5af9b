"""The iCalendar feed of action due dates (included at the site root)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
