"""Plan exports and the 3W view (included under /api/plans/)."""

from django.urls import path

from plans import export_views

urlpatterns = [
    path("3w/", export_views.ThreeWView.as_view(), name="api-plans-3w"),
    path("3w.csv", export_views.ThreeWCSVView.as_view(), name="api-plans-3w-csv"),
    path(
        "3w/summary/",
        export_views.ThreeWSummaryView.as_view(),
        name="api-plans-3w-summary",
    ),
    path(
        "<int:pk>/actions.csv",
        export_views.PlanActionsCSVView.as_view(),
        name="api-plan-actions-csv",
    ),
    path(
        "<int:pk>/coverage.geojson",
        export_views.PlanCoverageGeoJSONView.as_view(),
        name="api-plan-coverage-geojson",
    ),
]
