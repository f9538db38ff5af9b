"""Exports of the feature collections (`/api/{collection}/export.{format}`).

Thin adapters over `maps.exports`: the filters are the collection's (for
schools: the map's and the priority list's), and what a reader sees is the
reader's (`maps.selectors.viewer_for`).
"""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from maps import exports
from maps.selectors import COLLECTIONS, Collection, collection_for, viewer_for
from preparedness.schema import feature_collection_schema, field
from preparedness.serializers import validated_query

# Media types of the binary exports (CSV and GeoJSON are listed apart).
FILE_TYPES = ("application/geopackage+sqlite3", "application/vnd.google-earth.kml+xml")


class ExportOptionsSerializer(serializers.Serializer):
    hxl = serializers.BooleanField(
        required=False,
        default=False,
        help_text="CSV only: add an HXL hashtag row under the header.",
    )


def export_formats(collection: Collection) -> list[str]:
    """The formats `collection` is exported in (KML for schools only)."""
    return [name for name in exports.FORMATS if name != "kml" or collection.kml]


def format_refused(collection: Collection, fmt: str) -> ValidationError:
    """A 400 naming `format` and the allowed values.

    Formats are lower-case, as in the schema: `export.GEOJSON` is refused with
    the allowed values rather than taken, so each export has one URL.
    """
    values = {"fmt": fmt, "allowed": ", ".join(export_formats(collection))}
    if fmt:
        message = _(
            "“%(fmt)s” is not an export format here; use one of: %(allowed)s "
            "(lower-case)."
        )
    else:
        message = _("Give an export format: one of %(allowed)s.")
    return ValidationError({"format": [message % values]})


class CollectionExportView(APIView):
    """A whole collection, filtered, as GeoJSON (RFC 7946), CSV (UTF-8 with
    BOM, lon/lat columns), GeoPackage or KML (schools only)."""

    @extend_schema(
        tags=["exports"],
        parameters=[
            ExportOptionsSerializer,
            OpenApiParameter(
                "collection", str, OpenApiParameter.PATH, enum=list(COLLECTIONS)
            ),
            OpenApiParameter(
                "fmt", str, OpenApiParameter.PATH, enum=list(exports.FORMATS)
            ),
        ],
        description="Filters: those of the collection's list (schools: the "
        "priority list's and aoi; services: province, district, commune, bbox, "
        "aoi, kind; hazard_zones: also layer, hazard_type; admin_areas: "
        "admin_level; plan_coverage: status). Sensitive services and checklist "
        "details are left out for readers who may not see them. Formats are "
        "lower-case; an unknown one (or kml for another collection than "
        "schools) is a 400 naming `format` with the allowed values, an unknown "
        "collection a 404.",
        responses={
            (200, "text/csv", *FILE_TYPES): OpenApiResponse(
                OpenApiTypes.BINARY, description="A file"
            ),
            (200, "application/geo+json"): OpenApiResponse(
                feature_collection_schema(
                    properties=None,
                    feature_id={
                        "oneOf": [field("string"), field("integer")],
                        "description": "The code, or the id where none.",
                    },
                ),
                description="A GeoJSON FeatureCollection",
            ),
        },
    )
    def get(
        self, request: Request, collection: str, fmt: str
    ) -> StreamingHttpResponse | FileResponse:
        viewer = viewer_for(request.user)
        found = collection_for(name=collection, viewer=viewer)
        if found is None:
            raise NotFound(_("No collection %(name)s here.") % {"name": collection})
        if fmt not in export_formats(found):
            raise format_refused(found, fmt)
        filters = validated_query(request, found.filters)
        options = validated_query(request, ExportOptionsSerializer)
        name = f"salasafe-{found.name}.{exports.FORMATS[fmt].extension}"
        content_type = exports.FORMATS[fmt].content_type
        response: StreamingHttpResponse | FileResponse
        if fmt == "geojson":
            response = StreamingHttpResponse(
                exports.geojson_chunks(
                    collection=found, viewer=viewer, filters=filters
                ),
                content_type=content_type,
            )
        elif fmt == "csv":
            response = StreamingHttpResponse(
                exports.csv_chunks(
                    collection=found,
                    viewer=viewer,
                    filters=filters,
                    hxl=bool(options.get("hxl")),
                ),
                content_type=content_type,
            )
        else:
            file = exports.ogr_export_file(
                collection=found, viewer=viewer, filters=filters, fmt=fmt
            )
            response = FileResponse(file, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@extend_schema(exclude=True)
class CollectionExportNoFormatView(APIView):
    """`/api/{collection}/export` without a format: 404 or 400 naming `format`."""

    def get(self, request: Request, collection: str) -> Response:
        found = collection_for(name=collection, viewer=viewer_for(request.user))
        if found is None:
            raise NotFound(_("No collection %(name)s here.") % {"name": collection})
        raise format_refused(found, "")
