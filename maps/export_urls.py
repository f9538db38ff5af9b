"""Exports of the feature collections (included under /api/).

Listed before the schools' and services' own routes; `/api/schools/{code}/`
ends with a slash, so neither shadows the other.
"""

from django.urls import re_path

from maps import export_views
from maps.exports import FORMATS
from maps.selectors import COLLECTIONS

urlpatterns = [
    re_path(
        rf"^(?P<collection>{'|'.join(COLLECTIONS)})/export\."
        rf"(?P<fmt>{'|'.join(FORMATS)})$",
        export_views.CollectionExportView.as_view(),
        name="api-collection-export",
    ),
]
