"""API of the core: tokens and administrative areas."""

from django.urls import path

from preparedness import views

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("admin-areas/", views.AdminAreaListView.as_view(), name="api-admin-area-list"),
    path(
        "admin-areas/<str:code>/",
        views.AdminAreaDetailView.as_view(),
        name="api-admin-area-detail",
    ),
]
