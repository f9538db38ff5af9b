"""OGC API - Features views (`/ogc/`): thin adapters over `maps.ogc` and
`maps.selectors`, with the API's authentication (session or token) and the same
permissions and masking as the exports."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import F
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from maps import ogc
from maps.feature_sql import feature_texts
from maps.selectors import (
    Collection,
    Viewer,
    collection_for,
    collection_rows,
    collections_for,
    viewer_for,
)
from preparedness.serializers import validated_query


class _JSONOnly(BaseContentNegotiation):
    """Every answer is JSON whatever the Accept header (GDAL asks for GeoJSON,
    the OpenAPI document has its own type)."""

    def select_parser(
        self, request: Request, parsers: Iterable[BaseParser]
    ) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


def _json(data: Any, content_type: str = ogc.JSON) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type=content_type)


class OGCView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONOnly
    pagination_class = None

    def base(self, request: Request) -> str:
        return request.build_absolute_uri("/ogc").rstrip("/")

    def found(self, request: Request, name: str) -> tuple[Collection, Viewer]:
        viewer = viewer_for(request.user)
        collection = collection_for(name=name, viewer=viewer)
        if collection is None or not collection.ogc:
            raise NotFound(_("No collection %(name)s here.") % {"name": name})
        return collection, viewer


@extend_schema(exclude=True)
class LandingView(OGCView):
    def get(self, request: Request) -> HttpResponse:
        validated_query(request, ogc.PagingSerializer)
        return _json(ogc.landing_page(self.base(request)))


@extend_schema(exclude=True)
class ConformanceView(OGCView):
    def get(self, request: Request) -> HttpResponse:
        return _json(ogc.conformance())


@extend_schema(exclude=True)
class OpenAPIView(OGCView):
    def get(self, request: Request) -> HttpResponse:
        viewer = viewer_for(request.user)
        document = ogc.openapi_document(
            self.base(request), collections_for(viewer=viewer, ogc=True)
        )
        return _json(document, ogc.OPENAPI)


def _document(base: str, collection: Collection, viewer: Viewer) -> dict[str, Any]:
    rows = collection_rows(collection=collection, viewer=viewer, filters={})
    return ogc.collection_document(
        base, collection, ogc.extent_of(rows, collection.geometry)
    )


@extend_schema(exclude=True)
class CollectionsView(OGCView):
    def get(self, request: Request) -> HttpResponse:
        viewer = viewer_for(request.user)
        base = self.base(request)
        documents = [
            _document(base, c, viewer) for c in collections_for(viewer=viewer, ogc=True)
        ]
        return _json(ogc.collections_document(base, documents))


@extend_schema(exclude=True)
class CollectionView(OGCView):
    def get(self, request: Request, collection_id: str) -> HttpResponse:
        collection, viewer = self.found(request, collection_id)
        return _json(_document(self.base(request), collection, viewer))


@extend_schema(exclude=True)
class ItemsView(OGCView):
    def get(self, request: Request, collection_id: str) -> HttpResponse:
        collection, viewer = self.found(request, collection_id)
        paging = validated_query(request, ogc.PagingSerializer)
        filters = validated_query(request, collection.filters)
        limit = min(paging.get("limit", ogc.DEFAULT_LIMIT), ogc.MAX_LIMIT)
        offset = paging.get("offset", 0)
        rows = collection_rows(collection=collection, viewer=viewer, filters=filters)
        query = request.query_params.dict()
        url = request.build_absolute_uri(request.path)

        def page_url(start: int) -> str:
            return f"{url}?{urlencode({**query, 'limit': limit, 'offset': start})}"

        body = ogc.items_bytes(
            rows=rows,
            collection=collection,
            viewer=viewer,
            limit=limit,
            offset=offset,
            self_url=request.build_absolute_uri(),
            page_url=page_url,
        )
        return HttpResponse(body, content_type=ogc.GEOJSON)


@extend_schema(exclude=True)
class ItemView(OGCView):
    def get(
        self, request: Request, collection_id: str, feature_id: str
    ) -> HttpResponse:
        collection, viewer = self.found(request, collection_id)
        missing = NotFound(
            _("No feature %(id)s in %(name)s.")
            % {"id": feature_id, "name": collection.name}
        )
        if collection.id_field == "id" and not feature_id.isdigit():
            raise missing
        rows = collection_rows(collection=collection, viewer=viewer, filters={})
        rows = rows.filter(**{collection.id_field: feature_id})
        texts = feature_texts(
            rows,
            id=F(collection.id_field),
            geometry=collection.geometry,
            properties=collection.properties(viewer),
        )
        feature = next(iter(texts[:1]), None)
        if feature is None:
            raise missing
        data = json.loads(feature)
        url = request.build_absolute_uri(request.path)
        data["links"] = [
            {"href": url, "rel": "self", "type": ogc.GEOJSON},
            {
                "href": request.build_absolute_uri(
                    f"/ogc/collections/{collection.name}"
                ),
                "rel": "collection",
                "type": ogc.JSON,
            },
        ]
        return _json(data, ogc.GEOJSON)
