"""The OpenAPI schema: drf-spectacular plus the house error responses.

A module of its own: drf-spectacular reads DRF's settings on import, and those
name classes in `preparedness.api`.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as _AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

# The error body every endpoint answers with: `{field: [messages]}`; a list's errors
# are a list (one entry per item), a nested serializer's an object.
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Messages by field; `detail` or `non_field_errors` when no field applies."
    ),
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {}}, {"type": "object"}]
    },
}
ERROR_RESPONSES = {
    "400": _("Invalid parameters or body: messages by field."),
    "401": _("Authentication failed."),
    "403": _("Not logged in, or the role may not do this."),
    "404": _("Not found, or not visible to this user."),
    "409": _("Conflict with the current state."),
    "415": _("The body's media type is not accepted."),
    "429": _("Too many attempts: try again later."),
}


class AutoSchema(_AutoSchema):
    """drf-spectacular's schema plus the house error responses on every operation.

    A view adds codes its own way of refusing needs with `extra_error_codes`.
    """

    def _error_codes(self) -> list[str]:
        codes = ["401", "403"]
        if self._get_parameters():
            codes.append("400")
        paginated = self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or paginated:  # a page past the last is a 404
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["400", "409", "415"]
        return [*codes, *getattr(self.view, "extra_error_codes", ())]

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        component = ResolvedComponent(
            name="Error",
            type=ResolvedComponent.SCHEMA,
            object="Error",
            schema=ERROR_SCHEMA,
        )
        self.registry.register_on_missing(component)
        for code in sorted(set(self._error_codes())):
            responses.setdefault(
                code,
                {
                    "description": str(ERROR_RESPONSES[code]),
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return responses


# GeoJSON bodies (RFC 7946), built by PostGIS or by hand, described once here.
GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)


def field(
    kind: str, *, nullable: bool = False, description: str = "", **extra: Any
) -> dict[str, Any]:
    """The schema of one JSON value: `field("number", nullable=True)`."""
    schema: dict[str, Any] = {"type": kind, **extra}
    if nullable:
        schema["nullable"] = True
    if description:
        schema["description"] = description
    return schema


def geometry_schema(*types: str, nullable: bool = False) -> dict[str, Any]:
    """A GeoJSON geometry of one of `types` (any when none), lon/lat EPSG:4326."""
    return field(
        "object",
        nullable=nullable,
        description="A GeoJSON geometry, longitude/latitude (EPSG:4326).",
        required=["type"],
        properties={
            "type": field("string", enum=list(types or GEOMETRY_TYPES)),
            "coordinates": field("array", items={}),
            "geometries": field("array", items=field("object")),
        },
    )


def feature_collection_schema(
    *,
    properties: dict[str, dict[str, Any]] | None,
    geometry: dict[str, Any] | None = None,
    feature_id: dict[str, Any] | None = None,
    paginated: bool = False,
    description: str = "",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection `{type, features: [{type, id, geometry,
    properties}]}` whose features' properties are `properties` (all present).

    `feature_id` is the schema of each feature's `id` (left out when None);
    `paginated` adds the page fields of `preparedness.api.GeoJsonPagination`.
    """
    feature: dict[str, Any] = field(
        "object",
        required=["type", "geometry", "properties"],
        properties={
            "type": field("string", enum=["Feature"]),
            "geometry": geometry or geometry_schema(nullable=True),
            "properties": _properties(properties),
        },
    )
    if feature_id is not None:
        feature["required"].insert(1, "id")
        feature["properties"]["id"] = feature_id
    body = {
        "type": field("string", enum=["FeatureCollection"]),
        "features": field("array", items=feature),
    }
    required = ["type", "features"]
    if paginated:
        body |= {
            "count": field("integer", description="Features in all pages."),
            "next": field("string", format="uri", nullable=True),
            "previous": field("string", format="uri", nullable=True),
        }
        required.append("count")
    return field(
        "object",
        description=description or "A GeoJSON FeatureCollection (RFC 7946).",
        required=required,
        properties=body,
    )


def _properties(properties: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    if not properties:
        return field(
            "object",
            additionalProperties={},
            description="The fields of the feature (they vary by collection).",
        )
    return field("object", required=list(properties), properties=properties)
