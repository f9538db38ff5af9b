"""Core pages and API views."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "preparedness/home.html")


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            postgis = cursor.fetchone()[0]
    except Exception as exc:  # the point of a health check is to report any failure
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "postgis": postgis})


@extend_schema(tags=["auth"])
class ObtainTokenView(ObtainAuthToken):
    """POST username and password; returns `{"token": ...}` for scripts."""
