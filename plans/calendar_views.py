"""The iCalendar feed (opened by its secret, no login) and the API that issues
and revokes the secret."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from plans import calendar

TAGS = ["plans"]
NO_STORE = "no-store, private"


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django logs 4xx responses with their path, which holds the secret.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@require_GET
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The open actions' due dates as iCalendar, for the owner of `secret`."""
    user = calendar.calendar_user(secret)
    if user is None:
        return _unlogged(
            HttpResponse(
                "Not found.\n",
                status=404,
                content_type="text/plain; charset=utf-8",
            )
        )
    response = HttpResponse(
        calendar.actions_ics(user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="salasafe-actions.ics"'
    response["Cache-Control"] = NO_STORE
    response["X-Robots-Tag"] = "noindex"
    return response


class CalendarTokenView(APIView):
    """Your calendar feed: `POST` issues a new secret URL (shown once; the
    previous one stops working), `DELETE` revokes it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={
            201: OpenApiResponse(
                response=inline_serializer(
                    "CalendarFeedUrl", {"url": serializers.URLField()}
                ),
                description="The feed URL with its secret, shown only this once.",
            )
        },
    )
    def post(self, request: Request) -> Response:
        secret = calendar.calendar_token_create(request.user)
        url = request.build_absolute_uri(
            reverse("plans-calendar-feed", kwargs={"secret": secret})
        )
        response = Response({"url": url}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = NO_STORE
        return response

    @extend_schema(
        tags=TAGS,
        request=None,
        responses={204: OpenApiResponse(description="The feed URL no longer works.")},
    )
    def delete(self, request: Request) -> Response:
        calendar.calendar_token_revoke(request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
