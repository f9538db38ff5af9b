"""Areas of interest: reading an uploaded or drawn polygon, saving it, and what
lies inside it.

Files (GeoJSON, zipped Shapefile, KML) and drawn GeoJSON bodies are read by the
hazard vector reader (`hazards.vectors.read_vector`: CRS, reprojection to
EPSG:4326, corrupt zips), so an area is refused for the same reasons and in the
same words as a hazard file. What is inside an area is counted by set-based
queries over the priority list and the services the user may see.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import shapely
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from hazards.errors import HazardInputError
from hazards.vectors import VECTOR_FORMATS, read_vector
from maps.models import AreaOfInterest
from preparedness.access import account
from preparedness.spatial_sql import CAMBODIA_BBOX
from schools.models import Exposure, School, Service
from schools.risk.selectors import RISK_CLASS_CODES, priority_list
from schools.selectors import visible_services_q

User = AbstractBaseUser | AnonymousUser | None
UPLOAD_SUFFIXES = (".geojson", ".json", ".zip", ".kml")
HIGH_CLASSES = (4, 5)  # high and very high risk


class AreaError(HazardInputError):
    """An area of interest refused; `field` names the upload field at fault."""


def area_from_file(path: Path, *, srid: int | None = None) -> MultiPolygon:
    """The polygons of a GeoJSON, zipped Shapefile or KML file as one valid
    EPSG:4326 MultiPolygon inside Cambodia."""
    if path.suffix.lower() not in UPLOAD_SUFFIXES:
        raise AreaError(
            _("%(name)s: give a GeoJSON, zipped Shapefile (.zip) or KML file.")
            % {"name": path.name}
        )
    vector = read_vector(path, srid=srid)
    if not vector.features:
        problems = "; ".join(str(e) for e in vector.rejected)
        raise AreaError(
            _("%(name)s holds no usable polygon.") % {"name": path.name}
            + (f" ({problems})" if problems else "")
        )
    if vector.kind != "polygons":
        raise AreaError(
            _(
                "%(name)s holds %(kind)s, not a polygon: an area of interest is "
                "a polygon."
            )
            % {"name": path.name, "kind": vector.kind}
        )
    return _area(shapely.union_all([f.geometry for f in vector.features]), path.name)


def area_from_geojson(data: Mapping[str, Any]) -> MultiPolygon:
    """A drawn area: a GeoJSON geometry, Feature or FeatureCollection (EPSG:4326)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "drawn.geojson"
        path.write_text(json.dumps(data), encoding="utf-8")
        try:
            return area_from_file(path)
        except HazardInputError as exc:
            raise AreaError(
                str(exc).replace("drawn.geojson", _("the drawn area")), field="geometry"
            ) from None


def area_from_upload(
    name: str, chunks: Any, *, srid: int | None = None
) -> MultiPolygon:
    """An uploaded file (its name decides the format; its content is written to a
    private temporary folder under a name chosen here)."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES or suffix not in VECTOR_FORMATS:
        raise AreaError(
            _("%(name)s: give a GeoJSON, zipped Shapefile (.zip) or KML file.")
            % {"name": name}
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        try:
            return area_from_file(path, srid=srid)
        except HazardInputError as exc:
            raise AreaError(
                str(exc).replace(path.name, name), field=exc.field
            ) from None


def _area(geometry: shapely.Geometry, name: str) -> MultiPolygon:
    if not shapely.is_valid(geometry):
        geometry = shapely.make_valid(geometry)
    polygons = [
        p
        for part in shapely.get_parts(geometry)
        for p in shapely.get_parts(part)
        if p.geom_type == "Polygon" and p.area > 0
    ]
    if not polygons:
        raise AreaError(_("%(name)s holds no polygon with an area.") % {"name": name})
    area = shapely.MultiPolygon(polygons)
    if not shapely.intersects(area, shapely.box(*CAMBODIA_BBOX)):
        x0, y0, x1, y1 = shapely.bounds(area)
        raise AreaError(
            _(
                "%(name)s lies outside Cambodia (lon %(x0).3f to %(x1).3f, "
                "lat %(y0).3f to %(y1).3f)."
            )
            % {"name": name, "x0": x0, "x1": x1, "y0": y0, "y1": y1}
        )
    result = GEOSGeometry(memoryview(shapely.to_wkb(area)), srid=4326)
    assert isinstance(result, MultiPolygon)
    return result


def aoi_create(
    *, name: str, area: MultiPolygon, source: str, by: User
) -> AreaOfInterest:
    """Save an area of interest drawn or uploaded by `by`."""
    return AreaOfInterest.objects.create(
        name=name, area=area, source=source, created_by=account(by)
    )


def aoi_summary(*, aoi: AreaOfInterest, user: User) -> dict[str, Any]:
    """Schools, services, exposures and risk aggregates inside an area: a fixed
    handful of grouped queries whatever its size."""
    area = aoi.area
    schools = priority_list(filters={"within": area})
    classes = schools.aggregate(
        schools=Count("pk"),
        learners=Sum(F("enrolment_girls") + F("enrolment_boys"), default=0),
        **{
            f"schools_{code}": Count("pk", filter=Q(risk__risk_class=n))
            for n, code in RISK_CLASS_CODES.items()
        },
        learners_at_risk=Sum(
            F("enrolment_girls") + F("enrolment_boys"),
            filter=Q(risk__risk_class__in=HIGH_CLASSES),
            default=0,
        ),
        never_assessed=Count("pk", filter=Q(risk__assessed=False)),
    )
    open_schools = School.objects.filter(
        status=School.Status.OPEN, location__intersects=area
    ).count()
    services = (
        Service.objects.filter(status=Service.Status.OPEN, location__intersects=area)
        .filter(visible_services_q(user))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    )
    exposures = (
        Exposure.objects.filter(
            school__status=School.Status.OPEN,
            school__location__intersects=area,
            layer__active=True,
        )
        .order_by()
        .values("layer_id", "layer__name", "layer__hazard_type", "hazard_class")
        .annotate(n=Count("pk"))
    )
    by_layer: dict[int, dict[str, Any]] = {}
    for row in exposures:
        entry = by_layer.setdefault(
            row["layer_id"],
            {
                "layer": row["layer_id"],
                "name": row["layer__name"],
                "hazard_type": row["layer__hazard_type"],
                "schools_by_class": {str(c): 0 for c in range(5)},
            },
        )
        entry["schools_by_class"][str(row["hazard_class"])] = row["n"]
    service_counts = dict.fromkeys(Service.Kind.values, 0)
    service_counts.update({row["kind"]: row["n"] for row in services})
    return {
        "id": aoi.pk,
        "name": aoi.name,
        "bbox": list(area.extent),
        "schools": {"open": open_schools, **classes},
        "services": {"total": sum(service_counts.values()), "by_kind": service_counts},
        "exposures": sorted(by_layer.values(), key=lambda e: e["layer"]),
    }
