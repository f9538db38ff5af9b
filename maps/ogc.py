"""The documents of OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0).

Plain functions that take the base URL and what to describe and return dicts
(or, for items, the FeatureCollection as bytes built from PostGIS features);
`maps.ogc_views` adapts them to HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.contrib.gis.db.models import Extent
from django.db.models import F, QuerySet
from rest_framework import serializers

from maps.feature_sql import feature_collection_chunks, feature_texts, lean_reads
from maps.selectors import Collection, Viewer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Cambodia, for empty collections (an extent must be given).
CAMBODIA = [102.3, 9.9, 107.7, 14.7]


class PagingSerializer(serializers.Serializer):
    """`limit` (1..10,000; larger values are served as 10,000, as the standard
    asks) and `offset`; `f` must be json if given."""

    limit = serializers.IntegerField(min_value=1, required=False, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, required=False, default=0)
    f = serializers.ChoiceField(choices=["json"], required=False)


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def landing_page(base: str) -> dict[str, Any]:
    return {
        "title": "SalaSafe OGC API - Features",
        "description": "Schools, child-protection services, hazard zones and "
        "administrative areas of Cambodia, with their risk.",
        "links": [
            _link(f"{base}/", "self", JSON, "This document"),
            _link(f"{base}/api", "service-desc", OPENAPI, "The API definition"),
            _link(f"{base}/conformance", "conformance", JSON, "Conformance"),
            _link(f"{base}/collections", "data", JSON, "Collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def extent_of(rows: QuerySet[Any], geometry: str) -> list[float]:
    """The bounding box of the rows (Cambodia's if there are none)."""
    box = rows.order_by().aggregate(box=Extent(geometry))["box"]
    return [round(v, 6) for v in box] if box else CAMBODIA


def collection_document(
    base: str, collection: Collection, extent: Sequence[float]
) -> dict[str, Any]:
    url = f"{base}/collections/{collection.name}"
    return {
        "id": collection.name,
        "title": str(collection.title),
        "description": str(collection.description),
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}},
        "links": [
            _link(url, "self", JSON, str(collection.title)),
            _link(f"{url}/items", "items", GEOJSON, str(collection.title)),
        ],
    }


def collections_document(
    base: str, documents: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "links": [_link(f"{base}/collections", "self", JSON, "Collections")],
        "collections": list(documents),
    }


def items_bytes(
    *,
    rows: QuerySet[Any],
    collection: Collection,
    viewer: Viewer,
    limit: int,
    offset: int,
    self_url: str,
    page_url: Any,
) -> bytes:
    """One page of items as a FeatureCollection with numberMatched/Returned and
    self/next/prev links (`page_url(offset)` builds a page's link)."""
    texts = feature_texts(
        rows,
        id=F(collection.id_field),
        geometry=collection.geometry,
        properties=collection.properties(viewer),
    )
    with lean_reads(using=rows.db):
        matched = rows.count()
        page = list(texts[offset : offset + limit])
    links = [_link(self_url, "self", GEOJSON, "This page")]
    if offset + len(page) < matched:
        links.append(_link(page_url(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(
            _link(page_url(max(0, offset - limit)), "prev", GEOJSON, "Previous page")
        )
    members = {
        "numberMatched": str(matched),
        "numberReturned": str(len(page)),
        "timeStamp": json.dumps(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        "links": json.dumps(links),
    }
    return b"".join(feature_collection_chunks(page, members))


def _parameter(name: str, field: serializers.Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if isinstance(field, serializers.IntegerField | serializers.PrimaryKeyRelatedField):
        schema = {"type": "integer"}
    elif isinstance(field, serializers.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, serializers.ChoiceField):
        schema = {"type": "string", "enum": [str(c) for c in field.choices]}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": str(field.help_text or name),
        "schema": schema,
        "style": "form",
        "explode": False,
    }


_BBOX = {
    "name": "bbox",
    "in": "query",
    "required": False,
    "description": "minx,miny,maxx,maxy in CRS84 degrees",
    "schema": {
        "type": "array",
        "minItems": 4,
        "maxItems": 4,
        "items": {"type": "number"},
    },
    "style": "form",
    "explode": False,
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
        "default": DEFAULT_LIMIT,
    },
    "style": "form",
    "explode": False,
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 0, "default": 0},
    "style": "form",
    "explode": False,
}


def _get(summary: str, type_: str, parameters: Sequence[Any] = ()) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": list(parameters),
            "responses": {
                "200": {"description": summary, "content": {type_: {}}},
                "400": {"description": "A bad parameter (named in the body)"},
                "404": {"description": "No such collection or feature"},
            },
        }
    }


def openapi_document(base: str, collections: Sequence[Collection]) -> dict[str, Any]:
    """An OpenAPI 3.0 description of the landing page, conformance, collections
    and each collection's items (with its property filters) and single items."""
    paths: dict[str, Any] = {
        "/": _get("Landing page", JSON),
        "/api": _get("This API definition", OPENAPI),
        "/conformance": _get("Conformance classes", JSON),
        "/collections": _get("Feature collections", JSON),
    }
    # The generic items path: clients (GDAL) read the page size from its limit.
    paths["/collections/{collectionId}/items"] = _get(
        "Features of a collection",
        GEOJSON,
        [
            {
                "name": "collectionId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
            _BBOX,
            _LIMIT,
            _OFFSET,
        ],
    )
    for collection in collections:
        filters = [
            _parameter(name, field)
            for name, field in collection.filters().fields.items()
            if name != "bbox"
        ]
        url = f"/collections/{collection.name}"
        paths[url] = _get(f"The {collection.name} collection", JSON)
        paths[f"{url}/items"] = _get(
            f"Features of {collection.name}",
            GEOJSON,
            [_BBOX, _LIMIT, _OFFSET, *filters],
        )
        paths[f"{url}/items/{{featureId}}"] = _get(
            f"One feature of {collection.name}",
            GEOJSON,
            [
                {
                    "name": "featureId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
            ],
        )
    return {
        "openapi": "3.0.2",
        "info": {"title": "SalaSafe OGC API - Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": paths,
    }


def filter_params(query: Mapping[str, str], filters: type[Any]) -> dict[str, str]:
    """The query parameters the collection's filter serializer knows."""
    known = set(filters().fields)
    return {k: v for k, v in query.items() if k in known}
