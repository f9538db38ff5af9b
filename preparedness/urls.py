"""Root URLs. Each app owns its own URL module (see DESIGN.md's URL table)."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("", include("preparedness.web_urls")),
    path("", include("maps.urls")),
    path("", include("maps.report_urls")),
    path("ogc/", include("maps.ogc_urls")),
    path("api/", include("maps.export_urls")),
    path("api/hazards/", include("hazards.urls")),
    path("api/events/", include("plans.events.urls")),
    path("", include("plans.events.web_urls")),
    path("api/plans/", include("plans.export_urls")),
    path("api/plans/", include("plans.urls")),
    path("", include("plans.calendar_urls")),
    path("", include("plans.web_urls")),
    path("api/risk/", include("schools.risk.urls")),
    path("api/risk/", include("schools.risk.aggregate_urls")),
    path("api/", include("preparedness.api_urls")),
    path("", include("schools.urls")),
    path("", include("schools.checklists.urls")),
    path("", include("schools.checklists.kobo_urls")),
]
handler404 = "preparedness.views.not_found"
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
