"""The iCalendar feed of action due dates (included at the site root)."""

from django.urls import URLPattern, path, re_path

from plans import calendar_views

urlpatterns: list[URLPattern] = [
    re_path(
        r"^plans/calendar/(?P<secret>[^/]+)\.ics$",
        calendar_views.calendar_feed,
        name="plans-calendar-feed",
    ),
    path(
        "api/plans/calendar-token/",
        calendar_views.CalendarTokenView.as_view(),
        name="api-plan-calendar-token",
    ),
]
