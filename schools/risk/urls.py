"""Risk API (included under /api/risk/)."""

from django.urls import path, re_path

from schools.risk import api_views

urlpatterns = [
    path(
        "priorities/", api_views.PriorityListView.as_view(), name="api-risk-priorities"
    ),
    re_path(
        r"^priorities/export\.(?P<fmt>csv|geojson)$",
        api_views.PriorityExportView.as_view(),
        name="api-risk-priorities-export",
    ),
    path("settings/", api_views.RiskSettingsView.as_view(), name="api-risk-settings"),
]
