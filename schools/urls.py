"""Schools and services: the home page and the API (included at the site root)."""

from django.urls import path

from schools import views

urlpatterns = [
    path("", views.home, name="home"),
    path("api/schools/", views.SchoolListView.as_view(), name="api-school-list"),
    path(
        "api/schools/<str:code>/",
        views.SchoolDetailView.as_view(),
        name="api-school-detail",
    ),
    path(
        "api/schools/<str:code>/exposure/",
        views.SchoolExposureView.as_view(),
        name="api-school-exposure",
    ),
    path("api/services/", views.ServiceListView.as_view(), name="api-service-list"),
    path(
        "api/services/<str:code>/",
        views.ServiceDetailView.as_view(),
        name="api-service-detail",
    ),
]
