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
