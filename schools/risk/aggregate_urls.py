"""Risk aggregates and safe places (included under /api/risk/)."""

from django.urls import path

from schools.risk import aggregate_views

urlpatterns = [
    path(
        "aggregates/",
        aggregate_views.RiskAggregateView.as_view(),
        name="api-risk-aggregates",
    ),
    path(
        "aggregates/export.csv",
        aggregate_views.RiskAggregateExportView.as_view(),
        name="api-risk-aggregates-export",
    ),
    path(
        "safe-places/",
        aggregate_views.SafePlaceListView.as_view(),
        name="api-risk-safe-places",
    ),
]
