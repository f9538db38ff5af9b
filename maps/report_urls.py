"""Province pages and reports, and map images (included at the site root)."""

from django.urls import URLPattern, path

from maps import report_views

urlpatterns: list[URLPattern] = [
    path("provinces/<str:code>/", report_views.province_page, name="province-page"),
    path(
        "provinces/<str:code>/report.pdf",
        report_views.province_pdf,
        name="province-report-pdf",
    ),
    path("map/image.png", report_views.MapImagePngView.as_view(), name="map-image-png"),
    path("map/image.svg", report_views.MapImageSvgView.as_view(), name="map-image-svg"),
]
