"""The risk map, its vector tiles, school search and areas of interest."""

from django.urls import URLPattern, path, re_path

from maps import views
from maps.tiles import TileView

urlpatterns: list[URLPattern] = [
    path("map/", views.map_page, name="map"),
    path("map/rasters/<int:layer_id>.png", views.raster_png, name="map-raster"),
    re_path(
        r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.pbf$",
        TileView.as_view(),
        name="tile",
    ),
    path("api/search/", views.SchoolSearchView.as_view(), name="school-search"),
    path("api/aois/", views.AreaOfInterestCreateView.as_view(), name="aoi-create"),
    path(
        "api/aois/<int:pk>/summary/",
        views.AreaOfInterestSummaryView.as_view(),
        name="aoi-summary",
    ),
]
