"""Plans API (included under /api/plans/)."""

from django.urls import path

from plans import api_views

urlpatterns = [
    path("", api_views.PlanListView.as_view(), name="api-plan-list"),
    path("<int:pk>/", api_views.PlanDetailView.as_view(), name="api-plan-detail"),
    path(
        "<int:pk>/transition/",
        api_views.PlanTransitionView.as_view(),
        name="api-plan-transition",
    ),
    path(
        "<int:pk>/actions/", api_views.ActionListView.as_view(), name="api-plan-actions"
    ),
    path(
        "<int:pk>/actions/<int:action_id>/",
        api_views.ActionDetailView.as_view(),
        name="api-plan-action",
    ),
    path(
        "<int:pk>/schools/",
        api_views.PlanSchoolsView.as_view(),
        name="api-plan-schools",
    ),
]
