"""Map images without base-map tiles: SVG for pages and PDF reports, PNG for
slides and situation reports.

`map_scene` reads what the selectors allow (boundaries coloured by the share of
schools at high or very high risk, hazard zones by class, schools by risk class,
child-protection services with the sensitivity rules, a legend, a scale bar, a
north arrow and the data credit) into a `Scene` of plain shapes in pixels;
`scene_svg` and `scene_png` only draw it, so both images always agree.

Projection: UTM zone 48N (EPSG:32648), which holds all of Cambodia with little
distortion, so the scale bar is right across the picture and grid north is
within two degrees of true north. PNG drawing uses Pillow (already a
dependency, with libraqm for Khmer shaping): no Cairo or other system library.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import Polygon
from django.db.models import Avg, Max, Q, Value
from django.db.models.functions import Floor
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from hazards.classes import HazardClass
from hazards.models import UTM_48N
from maps import image_sql
from maps.image_sql import STX, STY, PixelFrame, Rings
from preparedness.access import sensitive_scope_q
from schools.models import RiskClass, Service
from schools.risk.aggregates import risk_aggregates
from schools.risk.selectors import priority_list

User = AbstractBaseUser | AnonymousUser | None

MIN_SIZE, MAX_SIZE = 200, 2400
# Risk classes 1 (very low) .. 5 (very high): dots on the map.
RISK_COLOURS = {
    1: "#1a9850",
    2: "#91cf60",
    3: "#fee08b",
    4: "#f79009",
    5: "#b42318",
}
HAZARD_COLOURS = {1: "#c6dbef", 2: "#6baed6", 3: "#2171b5", 4: "#08306b"}
HAZARD_OPACITY = 0.45
SERVICE_COLOUR = "#6a3d9a"
# Share of schools at high or very high risk: lower bound of each bin, colour.
SHARE_BINS = (
    (0.0, "#f7f7f7"),
    (0.1, "#e7e1ef"),
    (0.25, "#d4b9da"),
    (0.5, "#c994c7"),
    (0.75, "#df65b0"),
)
NO_SCHOOLS = "#ffffff"
# Frames wider than this show provinces; narrower ones show districts.
DISTRICT_VIEW_M = 320_000
DOT_RADIUS = 4.0
SERVICE_SIZE = 6.0
# Points closer than this (pixels) share one dot: the riskiest class shows.
CELL_PX = 3
FONTS = "'Noto Sans Khmer', 'Khmer OS System', 'Khmer OS', 'DejaVu Sans', sans-serif"
FONT_FILES = (
    "/usr/share/fonts/truetype/khmeros/KhmerOS.ttf",
    "/usr/share/fonts/truetype/khmeros/KhmerOSsys.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
LAYERS = ("boundaries", "hazards", "schools", "services")


# ------------------------------------------------------------------ shapes


@dataclass(frozen=True)
class Shape:
    """A polygon with holes, a polyline, a circle or a text, in pixels."""

    kind: str  # "polygon" | "line" | "circle" | "text"
    points: tuple[tuple[tuple[float, float], ...], ...] = ()
    fill: str | None = None
    stroke: str | None = None
    width: float = 0.0
    radius: float = 0.0
    text: str = ""
    size: float = 11.0
    anchor: str = "start"  # "start" | "middle" | "end"
    title: str = ""


@dataclass
class Group:
    """Shapes drawn together, then laid over what is below with `opacity`."""

    name: str
    shapes: list[Shape] = field(default_factory=list)
    opacity: float = 1.0


@dataclass
class Scene:
    width: int
    height: int
    groups: list[Group]
    title: str = ""


def polygon(rings: Rings, fill: str | None, stroke: str | None = None, width=0.0):
    return Shape(
        "polygon",
        points=tuple(tuple(ring) for ring in rings),
        fill=fill,
        stroke=stroke,
        width=width,
    )


def rect(x: float, y: float, w: float, h: float, fill: str, stroke: str | None = None):
    return polygon(
        [[(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]],
        fill,
        stroke,
        1.0 if stroke else 0.0,
    )


def text(x: float, y: float, value: str, size: float = 11.0, anchor: str = "start"):
    return Shape(
        "text",
        points=(((x, y),),),
        text=value,
        size=size,
        anchor=anchor,
        fill="#111111",
    )


# ------------------------------------------------------------------- frame


def frame_for(
    bbox: tuple[float, float, float, float], width: int, height: int
) -> PixelFrame:
    """The UTM 48N envelope of an EPSG:4326 bbox, widened around its centre to
    the image's proportions (so nothing is stretched)."""
    utm = Polygon.from_bbox(bbox)
    utm.srid = 4326
    utm.transform(UTM_48N)
    minx, miny, maxx, maxy = utm.extent
    scale = min(width / (maxx - minx), height / (maxy - miny))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w, half_h = width / scale / 2, height / scale / 2
    return PixelFrame(cx - half_w, cy - half_h, cx + half_w, cy + half_h, width, height)


def frame_wgs84(frame: PixelFrame) -> Polygon:
    """The frame as an EPSG:4326 polygon (its envelope), to filter places."""
    envelope = Polygon.from_bbox((frame.minx, frame.miny, frame.maxx, frame.maxy))
    envelope.srid = UTM_48N
    envelope.transform(4326)
    wgs = Polygon.from_bbox(envelope.extent)
    wgs.srid = 4326
    return wgs


# -------------------------------------------------------------- the scene


def _share_colour(row: Mapping[str, Any] | None) -> str:
    if not row or not row.get("schools"):
        return NO_SCHOOLS
    share = (row["schools_high"] + row["schools_very_high"]) / row["schools"]
    colour = SHARE_BINS[0][1]
    for lower, bin_colour in SHARE_BINS:
        if share >= lower:
            colour = bin_colour
    return colour


def _boundary_groups(frame: PixelFrame, user: User) -> list[Group]:
    level = "district" if frame.maxx - frame.minx <= DISTRICT_VIEW_M else "province"
    rows = {row["code"]: row for row in risk_aggregates(level=level, user=user)}
    fills, lines = Group("areas"), Group("boundaries")
    outline, width = ("#999999", 0.6) if level == "district" else ("#555555", 0.9)
    for code, polygons in image_sql.area_polygons(frame=frame, level=level):
        colour = _share_colour(rows.get(code))
        for rings in polygons:
            fills.shapes.append(polygon(rings, colour))
            lines.shapes += [
                Shape("line", points=(tuple(ring),), stroke=outline, width=width)
                for ring in rings
            ]
    if level == "district":
        for _code, polygons in image_sql.area_polygons(frame=frame, level="province"):
            lines.shapes += [
                Shape("line", points=(tuple(ring),), stroke="#3d3d3d", width=1.4)
                for rings in polygons
                for ring in rings
            ]
    return [fills, lines]


def _hazard_groups(
    frame: PixelFrame, filters: Mapping[str, Any]
) -> tuple[list[Group], list[str]]:
    layer = filters.get("layer")
    zones, sources = image_sql.zone_polygons(
        frame=frame,
        layer_ids=[layer] if layer else None,
        hazard_type=filters.get("hazard_type"),
    )
    groups: dict[int, Group] = {}
    for hazard_class, polygons in zones:
        group = groups.setdefault(
            hazard_class, Group(f"hazard-{hazard_class}", opacity=HAZARD_OPACITY)
        )
        group.shapes += [polygon(r, HAZARD_COLOURS[hazard_class]) for r in polygons]
    return [groups[c] for c in sorted(groups)], sources


def _cells(queryset: Any, frame: PixelFrame, value: Any) -> Any:
    """Points grouped by pixel cell: mean position and `value` per cell."""
    s = frame.scale
    px = (STX("location_utm") - Value(frame.minx)) * Value(s)
    py = (Value(frame.maxy) - STY("location_utm")) * Value(s)
    return (
        queryset.annotate(px=px, py=py)
        .values(
            cx=Floor(px / Value(float(CELL_PX))), cy=Floor(py / Value(float(CELL_PX)))
        )
        .annotate(x=Avg("px"), y=Avg("py"), value=value)
        .order_by("value", "cx", "cy")
    )


def _school_group(frame: PixelFrame, filters: Mapping[str, Any]) -> Group:
    schools = priority_list(filters={**filters, "bbox": frame_wgs84(frame)})
    group = Group("schools")
    for cell in _cells(schools, frame, Max("risk__risk_class")):
        group.shapes.append(
            Shape(
                "circle",
                points=(((cell["x"], cell["y"]),),),
                radius=DOT_RADIUS,
                fill=RISK_COLOURS[cell["value"]],
                stroke="#333333",
                width=0.8,
            )
        )
    return group


def visible_services(*, user: User, filters: Mapping[str, Any]) -> Any:
    """Open services the user may see exactly, in the area filters: sensitive
    ones (safe shelters) only where `preparedness.access` allows."""
    services = Service.objects.filter(status=Service.Status.OPEN)
    scope = sensitive_scope_q(user, "commune__code")
    # An empty Q means "everywhere"; OR-ing it would silently drop it.
    if scope:
        services = services.filter(Q(sensitive=False) | scope)
    for key in ("province", "district", "commune"):
        if filters.get(key):
            services = services.filter(commune__code__startswith=filters[key])
    for key in ("bbox", "within"):
        if filters.get(key) is not None:
            services = services.filter(location__intersects=filters[key])
    return services


def _service_group(frame: PixelFrame, filters: Mapping[str, Any], user: User) -> Group:
    services = visible_services(
        user=user, filters={**filters, "bbox": frame_wgs84(frame)}
    )
    group = Group("services")
    half = SERVICE_SIZE / 2
    for cell in _cells(services, frame, Max("kind")):
        x, y = cell["x"], cell["y"]
        group.shapes.append(
            polygon(
                [
                    [
                        (x, y - half - 1),
                        (x + half + 1, y),
                        (x, y + half + 1),
                        (x - half - 1, y),
                        (x, y - half - 1),
                    ]
                ],
                SERVICE_COLOUR,
                "#ffffff",
                0.8,
            )
        )
    return group


def _nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 x 10^n metres not above `metres`."""
    power = 10 ** math.floor(math.log10(metres))
    return max(m * power for m in (1, 2, 5) if m * power <= metres)


def _furniture(
    frame: PixelFrame, layers: Sequence[str], sources: Sequence[str]
) -> Group:
    """Scale bar, north arrow, legend and credit."""
    w, h = frame.width, frame.height
    group = Group("furniture")
    # Scale bar, bottom left, about a fifth of the width.
    length = _nice_length(w / 5 / frame.scale)
    bar = length * frame.scale
    x0, y0 = 12, h - 30
    group.shapes += [
        rect(x0 - 4, y0 - 16, bar + 8, 24, "#ffffffcc"),
        rect(x0, y0, bar / 2, 5, "#222222", "#222222"),
        rect(x0 + bar / 2, y0, bar / 2, 5, "#ffffff", "#222222"),
        text(x0, y0 - 4, "0", 10),
        text(
            x0 + bar,
            y0 - 4,
            f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m",
            10,
            "end",
        ),
    ]
    # North arrow, top right.
    nx, ny = w - 24, 14
    group.shapes += [
        polygon(
            [[(nx, ny), (nx + 8, ny + 24), (nx, ny + 18), (nx - 8, ny + 24), (nx, ny)]],
            "#222222",
        ),
        text(nx, ny + 38, "N", 12, "middle"),
    ]
    # Credit, bottom right.
    credit = _(
        "SalaSafe. Boundaries: geoBoundaries (OpenStreetMap contributors, ODbL; "
        "Open Development Cambodia, CC BY 4.0)."
    )
    if sources:
        credit += " " + _("Hazards: %(sources)s.") % {"sources": "; ".join(sources)}
    group.shapes += [
        rect(0, h - 13, w, 13, "#ffffffcc"),
        text(w - 4, h - 3, credit, 8.5, "end"),
    ]
    group.shapes += _legend(w, h, layers)
    return group


def _legend(w: int, h: int, layers: Sequence[str]) -> list[Shape]:
    entries: list[tuple[str, list[tuple[str, str, str]]]] = []
    if "schools" in layers:
        entries.append(
            (
                _("Schools by risk"),
                [
                    ("dot", RISK_COLOURS[c], str(RiskClass(c).label))
                    for c in (5, 4, 3, 2, 1)
                ],
            )
        )
    if "services" in layers:
        entries.append(
            (
                _("Child-protection services"),
                [("diamond", SERVICE_COLOUR, _("Service"))],
            )
        )
    if "hazards" in layers:
        entries.append(
            (
                _("Hazard zones by class"),
                [
                    ("box", HAZARD_COLOURS[c], str(HazardClass(c).label))
                    for c in (4, 3, 2, 1)
                ],
            )
        )
    if "boundaries" in layers:
        bins = [
            f"{round(lower * 100)}–{round(upper * 100)} %"
            for (lower, _c), (upper, _d) in zip(
                SHARE_BINS, [*SHARE_BINS[1:], (1.0, "")], strict=True
            )
        ]
        entries.append(
            (
                _("Schools at high or very high risk"),
                [
                    ("box", c, label)
                    for (_l, c), label in zip(
                        reversed(SHARE_BINS), reversed(bins), strict=True
                    )
                ],
            )
        )
    line = 14
    height = sum(line * (1 + len(items)) + 4 for _t, items in entries) + 6
    longest = max(
        [_font(11).getlength(title) for title, _i in entries]
        + [
            _font(10).getlength(label) + 20
            for _t, items in entries
            for *_k, label in items
        ],
        default=0,
    )
    width = max(150, round(longest) + 16)
    if not entries or height > h - 70 or w < 2 * width:
        return []
    x, y = w - width - 8, h - height - 20
    shapes = [rect(x, y, width, height, "#ffffffe6", "#999999")]
    y += 4
    for title, items in entries:
        y += line
        shapes.append(text(x + 6, y - 3, title, 10.5))
        for kind, colour, label in items:
            y += line
            cx, cy = x + 14, y - 7
            if kind == "dot":
                shapes.append(
                    Shape(
                        "circle",
                        points=(((cx, cy),),),
                        radius=DOT_RADIUS,
                        fill=colour,
                        stroke="#333333",
                        width=0.8,
                    )
                )
            elif kind == "diamond":
                shapes.append(
                    polygon(
                        [
                            [
                                (cx, cy - 5),
                                (cx + 5, cy),
                                (cx, cy + 5),
                                (cx - 5, cy),
                                (cx, cy - 5),
                            ]
                        ],
                        colour,
                    )
                )
            else:
                shapes.append(rect(cx - 6, cy - 5, 12, 10, colour, "#777777"))
            shapes.append(text(x + 26, y - 3, label, 10))
        y += 4
    return shapes


def map_scene(
    *,
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
    filters: Mapping[str, Any],
    user: User,
    layers: Sequence[str] = LAYERS,
) -> Scene:
    """The map of `bbox` (EPSG:4326) at `width` x `height` pixels: the layers
    asked for, schools as the priority list selects them with `filters`."""
    frame = frame_for(bbox, width, height)
    filters = {k: v for k, v in filters.items() if k != "bbox"}
    groups: list[Group] = []
    sources: list[str] = []
    if "boundaries" in layers:
        groups += _boundary_groups(frame, user)
    if "hazards" in layers:
        hazard_groups, sources = _hazard_groups(frame, filters)
        # Zones under the boundary lines, over the area colours.
        groups[1:1] = hazard_groups
    if "services" in layers:
        groups.append(_service_group(frame, filters, user))
    if "schools" in layers:
        groups.append(_school_group(frame, filters))
    groups.append(_furniture(frame, layers, sources))
    return Scene(width=width, height=height, groups=groups)


# ------------------------------------------------------------------- SVG


def _svg_points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _colour_attrs(name: str, colour: str | None) -> str:
    """SVG paint with an 8-digit hex colour split into colour and opacity."""
    if colour is None:
        return f' {name}="none"'
    if len(colour) == 9:
        alpha = int(colour[7:], 16) / 255
        return f' {name}="{colour[:7]}" {name}-opacity="{alpha:.2f}"'
    return f' {name}="{colour}"'


def _svg_shape(shape: Shape) -> str:
    if shape.kind == "polygon":
        d = " ".join(
            "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in ring) + " Z"
            for ring in shape.points
        )
        stroke = (
            _colour_attrs("stroke", shape.stroke) + f' stroke-width="{shape.width:g}"'
            if shape.stroke
            else ""
        )
        fill = _colour_attrs("fill", shape.fill)
        return f'<path d="{d}" fill-rule="evenodd"{fill}{stroke}/>'
    if shape.kind == "line":
        return (
            f'<polyline points="{_svg_points(shape.points[0])}" fill="none"'
            f'{_colour_attrs("stroke", shape.stroke)} stroke-width="{shape.width:g}"'
            ' stroke-linejoin="round"/>'
        )
    ((x, y),) = shape.points[0]
    if shape.kind == "circle":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{shape.radius:g}"'
            f"{_colour_attrs('fill', shape.fill)}"
            f'{_colour_attrs("stroke", shape.stroke)} stroke-width="{shape.width:g}"/>'
        )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{shape.size:g}"'
        f' text-anchor="{shape.anchor}" fill="{shape.fill}">{escape(shape.text)}</text>'
    )


def scene_svg(scene: Scene, *, title: str = "") -> str:
    """The scene as a standalone SVG document (UTF-8 text)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}"'
        f' height="{scene.height}" viewBox="0 0 {scene.width} {scene.height}"'
        f' font-family={quoteattr(FONTS)} role="img">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<rect width="{scene.width}" height="{scene.height}" fill="#ffffff"/>')
    for group in scene.groups:
        opacity = f' opacity="{group.opacity:g}"' if group.opacity < 1 else ""
        out.append(f'<g class="{group.name}"{opacity}>')
        out += [_svg_shape(shape) for shape in group.shapes]
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# ------------------------------------------------------------------- PNG

# Drawn at twice the size and reduced (box filter): smooth edges, while the
# inside of each shape keeps its exact colour.
SUPERSAMPLE = 2


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)
    return ImageFont.load_default(size)


def _rgba(colour: str) -> tuple[int, int, int, int]:
    value = colour.lstrip("#")
    alpha = int(value[6:8], 16) if len(value) == 8 else 255
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha)


def _draw(draw: ImageDraw.ImageDraw, shape: Shape, k: float) -> None:
    def scaled(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * k, y * k) for x, y in points]

    if shape.kind == "polygon":
        exterior, *holes = shape.points
        if shape.fill and len(exterior) >= 3:
            draw.polygon(scaled(exterior), fill=_rgba(shape.fill))
            for hole in holes:
                if len(hole) >= 3:
                    draw.polygon(scaled(hole), fill=(0, 0, 0, 0))
        if shape.stroke:
            for ring in shape.points:
                draw.line(
                    scaled(ring),
                    fill=_rgba(shape.stroke),
                    width=max(1, round(shape.width * k)),
                )
    elif shape.kind == "line":
        draw.line(
            scaled(shape.points[0]),
            fill=_rgba(shape.stroke or "#000000"),
            width=max(1, round(shape.width * k)),
            joint="curve",
        )
    elif shape.kind == "circle":
        ((x, y),) = shape.points[0]
        r = shape.radius * k
        draw.ellipse(
            (x * k - r, y * k - r, x * k + r, y * k + r),
            fill=_rgba(shape.fill or "#000000"),
            outline=_rgba(shape.stroke) if shape.stroke else None,
            width=max(1, round(shape.width * k)),
        )
    else:
        ((x, y),) = shape.points[0]
        anchor = {"start": "ls", "middle": "ms", "end": "rs"}[shape.anchor]
        draw.text(
            (x * k, y * k),
            shape.text,
            fill=_rgba(shape.fill or "#111111"),
            font=_font(round(shape.size * k)),
            anchor=anchor,
        )


def scene_png(scene: Scene, *, ratio: int = 1) -> bytes:
    """The scene as a PNG (RGB) of exactly its width and height (times `ratio`,
    for print: the same map with `ratio` x the pixels)."""
    k = SUPERSAMPLE * ratio
    size = (scene.width * k, scene.height * k)
    image = Image.new("RGBA", size, (255, 255, 255, 255))
    for group in scene.groups:
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for shape in group.shapes:
            _draw(draw, shape, k)
        if group.opacity < 1:
            table = [round(a * group.opacity) for a in range(256)]
            alpha = layer.getchannel("A").point(table)
            layer.putalpha(alpha)
        image.alpha_composite(layer)
    out = io.BytesIO()
    image.convert("RGB").reduce(SUPERSAMPLE).save(out, format="PNG")
    return out.getvalue()
