"""Hazard layers API, included at /api/hazards/."""

from django.urls import path

from hazards import views

urlpatterns = [
    path("layers/", views.LayerListView.as_view(), name="api-hazard-layer-list"),
    path(
        "layers/<int:pk>/",
        views.LayerDetailView.as_view(),
        name="api-hazard-layer-detail",
    ),
    path(
        "layers/<int:pk>/activate/",
        views.LayerSwitchView.as_view(active=True),
        name="api-hazard-layer-activate",
    ),
    path(
        "layers/<int:pk>/deactivate/",
        views.LayerSwitchView.as_view(active=False),
        name="api-hazard-layer-deactivate",
    ),
    path(
        "layers/<int:pk>/zones/",
        views.ZoneListView.as_view(),
        name="api-hazard-layer-zones",
    ),
    path(
        "layers/<int:pk>/tracks/",
        views.TrackListView.as_view(),
        name="api-hazard-layer-tracks",
    ),
]
