"""The risk map page builder: the only module that builds folium maps.

`build_map` takes data (a province FeatureCollection with its aggregates, plan
coverage, raster overlays, tile URLs) and returns a `folium.Map`; it never
queries. Schools, services, hazard zones, storm tracks and boundaries are
vector-tile layers drawn by Leaflet.VectorGrid, so the page carries no school
or service. Every script and stylesheet comes from SalaSafe's own static files
(`STATIC_URL/vendor/`, installed from npm by `make setup`), never from a CDN.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import branca.element
import folium
import folium.features
from branca.element import Figure, MacroElement
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.translation import gettext as _
from jinja2 import Template

LEAFLET = "vendor/leaflet/dist/"
# Replaces folium's CDN links (Leaflet, jQuery, Bootstrap, awesome-markers):
# the map needs only Leaflet and these plugins.
JS = (
    ("leaflet", LEAFLET + "leaflet.js"),
    ("vectorgrid", "vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
    ("draw", "vendor/leaflet-draw/dist/leaflet.draw.js"),
    ("salasafe", "maps/riskmap.js"),
)
CSS = (
    ("leaflet_css", LEAFLET + "leaflet.css"),
    ("draw_css", "vendor/leaflet-draw/dist/leaflet.draw.css"),
    ("salasafe_css", "maps/riskmap.css"),
)
CAMBODIA_CENTRE = (12.6, 104.9)
CAMBODIA_BOUNDS = ((10.3, 102.3), (14.7, 107.7))
RISK_COLOURS = {
    "very_low": "#1a9850",
    "low": "#91cf60",
    "medium": "#fee08b",
    "high": "#fc8d59",
    "very_high": "#d73027",
}
HAZARD_COLOURS = {1: "#c6dbef", 2: "#6baed6", 3: "#2171b5", 4: "#08306b"}
# Sequential fills for the choropleths, light to dark.
SEQUENCE = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")


@dataclass(frozen=True)
class RasterOverlay:
    name: str
    url: str
    bounds: tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class MapData:
    """What the page shows besides its tiles."""

    provinces: dict[str, Any]  # FeatureCollection with aggregate properties
    tile_urls: Mapping[str, str]  # layer -> URL template ({z}/{x}/{y}, query)
    plans: Sequence[dict[str, Any]] = ()
    rasters: Sequence[RasterOverlay] = ()
    aoi: dict[str, Any] | None = None
    details: bool = False  # checklist details in popups (logged-in roles)
    can_draw: bool = False  # coordinators and administrators
    urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for a Django template: head links, div, script."""

    header: str
    html: str
    script: str


@functools.lru_cache(maxsize=256)
def _compiled(template: str) -> Template:
    """Jinja compiles a template in about 10 ms: once per process is enough."""
    return Template(template)


class _Text:
    """What Jinja renders from a source without any template syntax: the text
    with its line endings as newlines and one final newline dropped."""

    def __init__(self, source: str) -> None:
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        self.text = text[:-1] if text.endswith("\n") else text

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


def element_template(source: str) -> Template | _Text:
    """The template of a branca Element made from `source`.

    folium renders each element's script and HTML, then wraps the output in a
    new Element, which branca compiles as a Jinja template (about 30 a map
    page, 1 ms each: 40 % of the page's time) although it is plain text. Plain
    text is kept as text; real templates are compiled once per process.
    """
    if "{{" in source or "{%" in source or "{#" in source:
        return _compiled(source)
    return _Text(source)


branca.element.Template = element_template  # type: ignore[misc,assignment]
# GeoJson tooltips and popups compile the same style template on every render.
folium.features.Template = _compiled  # type: ignore[misc,assignment]


class _Script(MacroElement):
    """A script line with this element's name (templates below)."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__()
        self._name = "salasafe"
        self._template = _compiled(template)
        self.values = values


class VectorTileLayer(folium.map.Layer):
    """A Leaflet.VectorGrid protobuf layer styled by `SalaSafe.vectorLayer`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = SalaSafe.vectorLayer(
            {{ this.kind|tojson }}, {{ this.url|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, kind: str, url: str, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorTileLayer"
        self.kind = kind
        self.url = url


def _breaks(values: Sequence[float]) -> list[float]:
    """Four class breaks at the quintiles of the values (distinct, increasing)."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return []
    picks = [
        ordered[min(len(ordered) - 1, (len(ordered) * k) // 5)] for k in (1, 2, 3, 4)
    ]
    return sorted(set(picks))


def _fill(value: float | None, breaks: Sequence[float], reverse: bool = False) -> str:
    if value is None:
        return "#cccccc"
    index = sum(1 for b in breaks if value >= b)
    palette = SEQUENCE[::-1] if reverse else SEQUENCE
    return palette[min(index, len(palette) - 1)]


def _choropleth(
    provinces: dict[str, Any], key: str, name: str, *, show: bool, reverse: bool = False
) -> folium.GeoJson:
    values = [f["properties"].get(key) for f in provinces["features"]]
    breaks = _breaks([v for v in values if v is not None])
    fills = {
        f["properties"]["code"]: _fill(f["properties"].get(key), breaks, reverse)
        for f in provinces["features"]
    }
    return folium.GeoJson(
        provinces,
        name=name,
        overlay=True,
        show=show,
        style_function=lambda f: {
            "fillColor": fills.get(f["properties"]["code"], "#cccccc"),
            "fillOpacity": 0.55,
            "color": "#555555",
            "weight": 1,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "label_share", "label_css", "label_learners"],
            aliases=[
                _("Province"),
                _("High or very high risk"),
                _("Mean CSS score"),
                _("Learners at high or very high risk"),
            ],
        ),
    )


def _labels() -> dict[str, Any]:
    """The words the page's script shows, translated."""
    return {
        "risk": {
            "very_low": _("Very low"),
            "low": _("Low"),
            "medium": _("Medium"),
            "high": _("High"),
            "very_high": _("Very high"),
        },
        "hazard": {
            "0": _("None"),
            "1": _("Low"),
            "2": _("Medium"),
            "3": _("High"),
            "4": _("Very high"),
        },
        "code": _("Code"),
        "learners": _("Learners"),
        "level": _("Level"),
        "risk_class": _("Risk class"),
        "risk_score": _("Risk score"),
        "hazard_levels": _("Hazard levels"),
        "css_score": _("CSS score"),
        "css_by_area": _("CSS score by area"),
        "critical_gaps": _("Critical gaps"),
        "never_assessed": _("Never assessed"),
        "none": _("None"),
        "open_page": _("Open the school's page"),
        "schools": _("schools"),
        "high": _("at high or very high risk"),
        "zoom_in": _("Zoom in to see each school."),
        "kind": _("Kind"),
        "contact": _("Contact"),
        "sensitive": _("Protection-sensitive"),
        "intensity": _("Intensity"),
        "hazard_class": _("Hazard class"),
        "layer": _("Layer"),
        "wind": _("Maximum wind (kt)"),
        "radius": _("Wind radius (km)"),
        "no_results": _("No school found."),
        "aoi_name": _("Name of the area of interest"),
        "aoi_saved": _("Area saved."),
        "error": _("Could not do that:"),
        "summary": _("In this area"),
        "open_schools": _("Open schools"),
        "services": _("Services"),
        "learners_at_risk": _("Learners at high or very high risk"),
        "exposed": _("Schools exposed (class 1 or more)"),
    }


def build_map(data: MapData) -> folium.Map:
    """The national risk map: base map, choropleths, hazards, plans, schools,
    services, boundaries, an area of interest, a layer control and a legend."""
    m = folium.Map(
        location=CAMBODIA_CENTRE,
        zoom_start=7,
        min_zoom=5,
        max_zoom=18,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        width="100%",
        height="100%",
    )
    m.default_js = [(name, static(path)) for name, path in JS]
    m.default_css = [(name, static(path)) for name, path in CSS]
    config = {
        "tiles": dict(data.tile_urls),
        "labels": _labels(),
        "riskColours": RISK_COLOURS,
        "hazardColours": {str(k): v for k, v in HAZARD_COLOURS.items()},
        "details": data.details,
        "canDraw": data.can_draw,
        "urls": dict(data.urls),
    }
    m.add_child(
        _Script(
            "{% macro script(this, kwargs) %}"
            "SalaSafe.setup({{ this._parent.get_name() }}, "
            "{{ this.values.config|tojson }});"
            "{% endmacro %}",
            config=config,
        )
    )
    folium.TileLayer(
        "OpenStreetMap", name=_("Base map (OpenStreetMap)"), overlay=False
    ).add_to(m)
    _choropleth(
        data.provinces,
        "share_high",
        _("Provinces: share of schools at high or very high risk"),
        show=data.aoi is None,
    ).add_to(m)
    _choropleth(
        data.provinces,
        "mean_css",
        _("Provinces: mean CSS score"),
        show=False,
        reverse=True,
    ).add_to(m)
    _choropleth(
        data.provinces,
        "learners_at_risk",
        _("Provinces: learners at high or very high risk"),
        show=False,
    ).add_to(m)
    tiles = data.tile_urls
    # Schools first: the browser requests their tiles before any other layer's
    # (drawing order is set by the panes in riskmap.js, not by this order).
    VectorTileLayer("schools", tiles["schools"], _("Schools by risk class")).add_to(m)
    VectorTileLayer(
        "admin_areas", tiles["admin_areas"], _("Administrative boundaries")
    ).add_to(m)
    for raster in data.rasters:
        west, south, east, north = raster.bounds
        folium.raster_layers.ImageOverlay(
            image=raster.url,
            bounds=[[south, west], [north, east]],
            name=_("Flood depth: %(name)s") % {"name": raster.name},
            opacity=0.8,
            overlay=True,
            show=False,
        ).add_to(m)
    VectorTileLayer(
        "hazard_zones", tiles["hazard_zones"], _("Hazard zones by class")
    ).add_to(m)
    VectorTileLayer(
        "storm_tracks",
        tiles["storm_tracks"],
        _("Storm tracks and wind radius"),
        show=False,
    ).add_to(m)
    if data.plans:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": list(data.plans)},
            name=_("Plan coverage"),
            overlay=True,
            show=False,
            style_function=lambda f: {
                "color": "#6a3d9a",
                "weight": 2,
                "dashArray": "6 4",
                "fillOpacity": 0.05,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["title", "status"], aliases=[_("Plan"), _("Status")]
            ),
        ).add_to(m)
    if data.aoi is not None:
        folium.GeoJson(
            data.aoi,
            name=_("Area of interest: %(name)s")
            % {"name": data.aoi["properties"]["name"]},
            overlay=True,
            style_function=lambda f: {
                "color": "#000000",
                "weight": 3,
                "fill": False,
            },
        ).add_to(m)
    VectorTileLayer(
        "services", tiles["services"], _("Child-protection services"), show=False
    ).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.add_child(
        _Script(
            "{% macro script(this, kwargs) %}"
            "SalaSafe.finish({{ this._parent.get_name() }}, "
            "{{ this.values.bounds|tojson }});"
            "{% endmacro %}",
            bounds=_aoi_bounds(data.aoi) or [list(c) for c in CAMBODIA_BOUNDS],
        )
    )
    return m


def _aoi_bounds(aoi: dict[str, Any] | None) -> list[list[float]] | None:
    if aoi is None:
        return None
    xs: list[float] = []
    ys: list[float] = []
    for polygon in aoi["geometry"]["coordinates"]:
        for ring in polygon:
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def legend_items() -> dict[str, list[tuple[str, str]]]:
    """Colours and names for the legend beside the map."""
    labels = _labels()
    return {
        "risk": [(RISK_COLOURS[k], labels["risk"][k]) for k in RISK_COLOURS],
        "hazard": [
            (HAZARD_COLOURS[c], labels["hazard"][str(c)]) for c in HAZARD_COLOURS
        ],
        "choropleth": list(zip(SEQUENCE, ("", "", "", "", ""), strict=True)),
    }


def map_parts(m: folium.Map, *, nonce: str) -> MapParts:
    """Render the map and split it for a page of our own (head, div, script).

    Every inline `<script>` and `<style>` block folium writes gets the
    request's CSP nonce (scripts with `src` come from 'self'); the page wraps
    `script` in a `<script>` tag with the same nonce.
    """
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.render()
    return MapParts(
        header=_with_nonce(figure.header.render(), nonce),
        html=_with_nonce(figure.html.render(), nonce),
        script=figure.script.render(),
    )


# An opening <script> or <style> tag of an inline block (a script without src).
_INLINE_TAG = re.compile(r"<(script|style)(?=[\s>])(?![^>]*\ssrc=)", re.IGNORECASE)


def _with_nonce(html: str, nonce: str) -> str:
    """The HTML with `nonce="..."` on every inline script and style tag."""
    attribute = escape(nonce)
    return _INLINE_TAG.sub(lambda m: f'<{m[1]} nonce="{attribute}"', html)
