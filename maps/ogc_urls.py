"""OGC API - Features (included under /ogc/)."""

from django.urls import path

from maps import ogc_views

urlpatterns = [
    path("", ogc_views.LandingView.as_view(), name="ogc-landing"),
    path("conformance", ogc_views.ConformanceView.as_view(), name="ogc-conformance"),
    path("api", ogc_views.OpenAPIView.as_view(), name="ogc-api"),
    path("collections", ogc_views.CollectionsView.as_view(), name="ogc-collections"),
    path(
        "collections/<str:collection_id>",
        ogc_views.CollectionView.as_view(),
        name="ogc-collection",
    ),
    path(
        "collections/<str:collection_id>/items",
        ogc_views.ItemsView.as_view(),
        name="ogc-items",
    ),
    path(
        "collections/<str:collection_id>/items/<str:feature_id>",
        ogc_views.ItemView.as_view(),
        name="ogc-item",
    ),
]
