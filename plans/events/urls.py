"""Emergency events API (included under /api/events/)."""

from django.urls import path, re_path

from plans.events import api_views

urlpatterns = [
    path("", api_views.EventListView.as_view(), name="api-event-list"),
    path("<int:pk>/", api_views.EventDetailView.as_view(), name="api-event-detail"),
    path(
        "<int:pk>/reports/",
        api_views.ReportListView.as_view(),
        name="api-event-reports",
    ),
    path("<int:pk>/sitrep/", api_views.SitrepView.as_view(), name="api-event-sitrep"),
    re_path(
        r"^(?P<pk>[0-9]+)/(?P<name>sitrep\.csv|schools\.csv|schools\.geojson)$",
        api_views.SitrepFileView.as_view(),
        name="api-event-file",
    ),
]
