"""The province page and its PDF report, and map images (SVG and PNG).

Thin adapters: `maps.reports` assembles the report, `maps.images` draws maps.
"""

from __future__ import annotations

import base64
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from hazards.classes import HazardClass
from maps import image_sql, images, reports
from maps.filters import MapFilterSerializer
from preparedness.serializers import validated_query
from schools.models import RiskClass

# Province page and PDF map sizes (pixels).
PAGE_MAP = (960, 720)
PDF_MAP = (760, 540)
DOWNLOAD_MAP = (1600, 1200)


class MapImageSerializer(MapFilterSerializer):
    """The map filters plus the image size and the layers to draw."""

    width = serializers.IntegerField(
        required=False,
        default=1200,
        min_value=images.MIN_SIZE,
        max_value=images.MAX_SIZE,
        help_text="Image width in pixels.",
    )
    height = serializers.IntegerField(
        required=False,
        default=800,
        min_value=images.MIN_SIZE,
        max_value=images.MAX_SIZE,
        help_text="Image height in pixels.",
    )
    layers = serializers.MultipleChoiceField(
        choices=images.LAYERS,
        required=False,
        help_text="Comma-separated: " + ", ".join(images.LAYERS) + " (default all).",
    )

    def to_internal_value(self, data: Any) -> Any:
        data = dict(data)
        if isinstance(data.get("layers"), str):
            data["layers"] = [p for p in data["layers"].split(",") if p.strip()]
        return super().to_internal_value(data)


def _image_bbox(query: dict[str, Any]) -> tuple[float, float, float, float]:
    """The bbox asked for, else the extent of the area filter, else Cambodia."""
    if query.get("bbox") is not None:
        return query["bbox"].extent
    for key in ("commune", "district", "province"):
        if query.get(key):
            extent = image_sql.area_extent(query[key])
            if extent is None:
                raise ValidationError(
                    {
                        "bbox": [
                            _("Area %(code)s has no boundary: give a bbox.")
                            % {"code": query[key]}
                        ]
                    }
                )
            return extent
    extent = image_sql.national_extent()
    if extent is None:
        raise ValidationError({"bbox": [_("No boundaries are loaded: give a bbox.")]})
    return extent


def _scene(request: Request) -> images.Scene:
    query = validated_query(request, MapImageSerializer)
    width, height = query.pop("width"), query.pop("height")
    layers = tuple(query.pop("layers", None) or images.LAYERS)
    bbox = _image_bbox(query)
    return images.map_scene(
        bbox=bbox,
        width=width,
        height=height,
        filters=query,
        user=request.user,
        layers=[layer for layer in images.LAYERS if layer in layers],
    )


IMAGE_DOC = (
    "The map of a bbox (EPSG:4326; default: the extent of the province, district "
    "or commune filter, else Cambodia), without base-map tiles: areas coloured "
    "by the share of schools at high or very high risk, hazard zones by class, "
    "schools (as the priority list selects them with the same filters) coloured "
    "by risk class, child-protection services, a legend, scale bar, north arrow "
    "and credit. UTM zone 48N. Sensitive services (safe shelters) only for users "
    "who may see them. Width and height 200-2400 pixels."
)


class MapImagePngView(APIView):
    """The current map view as a PNG, for slides and situation reports."""

    @extend_schema(
        tags=["maps"],
        parameters=[MapImageSerializer],
        description=IMAGE_DOC,
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="PNG")
        },
    )
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(
            images.scene_png(_scene(request)), content_type="image/png"
        )
        response["Content-Disposition"] = 'inline; filename="salasafe-map.png"'
        return response


class MapImageSvgView(APIView):
    """The current map view as SVG."""

    @extend_schema(
        tags=["maps"],
        parameters=[MapImageSerializer],
        description=IMAGE_DOC,
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="SVG")
        },
    )
    def get(self, request: Request) -> HttpResponse:
        svg = images.scene_svg(_scene(request), title=_("SalaSafe map"))
        return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


# ------------------------------------------------------------ province page


def _map_query(report: reports.ProvinceReport, size: tuple[int, int]) -> str:
    query: dict[str, Any] = {"province": report.province.code}
    if report.bbox:
        query["bbox"] = ",".join(f"{v:.5f}" for v in report.bbox)
    return urlencode({**query, "width": size[0], "height": size[1]})


def _province_map(
    request: HttpRequest, report: reports.ProvinceReport, pdf: bool
) -> str:
    """The province map: inline SVG on the page; in the PDF a PNG at print
    resolution (WeasyPrint's SVG text does not shape Khmer; Pillow with libraqm
    does)."""
    if report.bbox is None:
        return ""
    width, height = PDF_MAP if pdf else PAGE_MAP
    scene = images.map_scene(
        bbox=report.bbox,
        width=width,
        height=height,
        filters={"province": report.province.code},
        user=request.user,
    )
    if not pdf:
        return images.scene_svg(scene, title=report.name)
    png = base64.b64encode(images.scene_png(scene, ratio=2)).decode()
    return (
        f'<img src="data:image/png;base64,{png}" width="{width}" height="{height}"'
        f' alt="{escape(report.name)}">'
    )


def _context(
    request: HttpRequest, report: reports.ProvinceReport, pdf: bool
) -> dict[str, Any]:
    code = report.province.code
    return {
        "report": report,
        "pdf": pdf,
        "map_svg": _province_map(request, report, pdf),
        "risk_legend": [
            (RiskClass(c).label, images.RISK_COLOURS[c]) for c in (5, 4, 3, 2, 1)
        ],
        "hazard_labels": [HazardClass(c).label for c in HazardClass.values],
        "png_query": _map_query(report, DOWNLOAD_MAP),
        "filter_query": urlencode({"province": code}),
    }


def province_page(request: HttpRequest, code: str) -> HttpResponse:
    """A province: its map, aggregates by district and hazard class, the ranked
    schools, the plans that cover it, and downloads."""
    report = reports.province_report(code=code, user=request.user)
    return render(request, "maps/province.html", _context(request, report, pdf=False))


def province_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The province page as a PDF (`?lang=en|km`, default the page language)."""
    from weasyprint import HTML

    lang = request.GET.get("lang") or translation.get_language() or "en"
    lang = lang.split("-")[0]
    if lang not in ("en", "km"):
        return HttpResponse(
            _("lang: choose en or km."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    with translation.override(lang):
        report = reports.province_report(code=code, user=request.user)
        html = render_to_string(
            "maps/province_report.html",
            {**_context(request, report, pdf=True), "LANGUAGE_CODE": lang},
            request=request,
        )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="salasafe-province-{report.province.code}-{lang}.pdf"'
    )
    return response
