"""Exports of the feature collections (included under /api/).

Listed before the schools' and services' own routes; `/api/schools/{code}/`
ends with a slash, so neither shadows the other. The pattern takes any
collection name and any suffix (even none: `/api/schools/export`), so a bad
one is answered by the view (404 for an unknown collection, 400 naming
`format` for an unknown format) rather than redirected by APPEND_SLASH to the
school or service whose code would be `export.xyz`.
"""

from django.urls import re_path

from maps import export_views

urlpatterns = [
    re_path(
        r"^(?P<collection>[^/]+)/export\.(?P<fmt>[^/]*)$",
        export_views.CollectionExportView.as_view(),
        name="api-collection-export",
    ),
    re_path(
        r"^(?P<collection>[^/]+)/export$",
        export_views.CollectionExportNoFormatView.as_view(),
        name="api-collection-export-no-format",
    ),
]
