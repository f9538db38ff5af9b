"""Reads of the feature collections that exports and the OGC API serve.

A collection names its filtered QuerySet (the same selection the map and the
API show: schools always come from `schools.risk.selectors.priority_list`),
its feature id and geometry, and the properties a reader may see, as ORM
expressions that `maps.feature_sql` turns into GeoJSON or flat rows in PostGIS.

Who sees what (`Viewer`): checklist details (critical gaps, CSS scores by area)
only logged-in roles; overall CSS scores also the public when
`SALASAFE_PUBLIC["css_scores"]`; sensitive services (safe shelters) are left
out of the rows for readers who may not see them exactly (the public,
planners; officials outside their areas), as the services API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Substr
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from hazards.classes import HazardType
from hazards.models import HazardZone
from maps.feature_sql import JoinedArray, RoundTo
from maps.filters import (
    AdminAreaFilterSerializer,
    HazardZoneFilterSerializer,
    MapFilterSerializer,
    PlanCoverageFilterSerializer,
    ServiceFilterSerializer,
)
from plans.models import Plan
from preparedness.models import AdminArea
from schools.models import School, Service
from schools.risk.selectors import (
    RISK_CLASS_CODES,
    checklist_details_visible,
    css_scores_visible,
    priority_list,
)
from schools.risk.settings import risk_settings
from schools.selectors import visible_services_q

User = AbstractBaseUser | AnonymousUser | None
Expressions = dict[str, Any]
CSS_AREAS = ("F", "P1", "P2", "P3")


@dataclass(frozen=True)
class Viewer:
    """What one reader may see in the feature collections."""

    authenticated: bool
    details: bool
    css_scores: bool
    services_q: Q = field(default_factory=Q)


def viewer_for(user: User) -> Viewer:
    """The view of a web or API user."""
    return Viewer(
        authenticated=checklist_details_visible(user),
        details=checklist_details_visible(user),
        css_scores=css_scores_visible(user),
        services_q=visible_services_q(user),
    )


def command_viewer(*, include_sensitive: bool) -> Viewer:
    """The view of `manage.py export`: an administrator's, with sensitive
    services left out unless asked for."""
    return Viewer(
        authenticated=True,
        details=True,
        css_scores=True,
        services_q=Q() if include_sensitive else Q(sensitive=False),
    )


@dataclass(frozen=True)
class Collection:
    """One feature collection: its rows, id, geometry and properties."""

    name: str
    title: str | Promise
    description: str | Promise
    geometry: str
    geometry_type: str
    id_field: str
    filters: type[serializers.Serializer]
    select: Callable[[Viewer, Mapping[str, Any]], QuerySet[Any]]
    properties: Callable[[Viewer], Expressions]
    flat: Callable[[Viewer], Expressions]
    hxl: Mapping[str, str]
    ogc: bool = True
    kml: bool = False


def _area_codes(filters: Mapping[str, Any], field_name: str) -> Q:
    q = Q()
    for key in ("province", "district", "commune"):
        if filters.get(key):
            q &= Q(**{f"{field_name}__startswith": filters[key]})
    return q


def _in_geometries(filters: Mapping[str, Any], field_name: str) -> Q:
    q = Q()
    for key in ("bbox", "within"):
        if filters.get(key) is not None:
            q &= Q(**{f"{field_name}__intersects": filters[key]})
    return q


def _boundary_of(filters: Mapping[str, Any]) -> Subquery | None:
    """The boundary of the most precise area code in `filters`, as a subquery."""
    for key in ("commune", "district", "province"):
        if filters.get(key):
            return Subquery(
                AdminArea.objects.filter(code=filters[key]).values("boundary")[:1]
            )
    return None


def _place_columns() -> Expressions:
    return {
        "province": Substr("commune_id", 1, 2),
        "district": Substr("commune_id", 1, 4),
        "commune": F("commune_id"),
    }


# ------------------------------------------------------------------ schools


def _risk_class_code() -> Case:
    return Case(
        *(When(risk__risk_class=n, then=Value(c)) for n, c in RISK_CLASS_CODES.items()),
        default=Value(None),
    )


def _access_gap() -> Case:
    km = risk_settings().focal_point_km
    return Case(
        When(
            Q(access__focal_point_km__isnull=True) | Q(access__focal_point_km__gt=km),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def _school_head() -> Expressions:
    return {
        "code": F("code"),
        "name_en": F("name_en"),
        "name_km": F("name_km"),
        **_place_columns(),
        "level": F("level"),
        "learners": F("enrolment_girls") + F("enrolment_boys"),
        "girls": F("enrolment_girls"),
        "boys": F("enrolment_boys"),
        "learners_with_disabilities": F("learners_with_disabilities"),
        "evacuation_centre": F("evacuation_centre"),
        "risk_score": F("risk__score"),
        "risk_class": _risk_class_code(),
        "hazard_exposure": F("risk__hazard_exposure"),
        "vulnerability": F("risk__vulnerability"),
        "coping_gap": F("risk__coping_gap"),
        "hazard_level": F("hazard_level"),
    }


def _school_tail(viewer: Viewer) -> Expressions:
    tail: Expressions = {"assessed": F("risk__assessed")}
    if viewer.css_scores:
        tail["css_score"] = F("safety__score")
        tail["css_grade"] = F("safety__grade")
    return tail


def _school_access() -> Expressions:
    return {
        "assessed_on": F("safety__assessed_on"),
        "focal_point_km": RoundTo(F("access__focal_point_km"), 2),
        "access_gap": _access_gap(),
    }


def school_properties(viewer: Viewer) -> Expressions:
    """GeoJSON properties of a school: the priority list's explanation fields
    (`priority_properties`) without the nearest-service columns."""
    properties = {
        **_school_head(),
        "hazard_levels": Coalesce(F("hazard_levels"), Value({}, JSONField())),
        **_school_tail(viewer),
    }
    if viewer.details:
        properties["css_area_scores"] = Coalesce(
            F("safety__area_scores"), Value({}, JSONField())
        )
        properties["critical_gaps"] = Coalesce(
            F("safety__critical_gaps"), Value([], JSONField())
        )
    return {**properties, **_school_access()}


def _json_int(key: str, column: str) -> Coalesce:
    return Coalesce(
        Cast(KeyTextTransform(key, column), IntegerField()),
        Value(0),
        output_field=IntegerField(),
    )


def school_flat(viewer: Viewer) -> Expressions:
    """Flat columns of a school (CSV, GeoPackage, KML): hazard levels and CSS
    area scores one column each, critical gaps joined with `;`."""
    columns = {
        **_school_head(),
        **{f"hazard_{t}": _json_int(t, "hazard_levels") for t in HazardType.values},
        **_school_tail(viewer),
    }
    if viewer.details:
        for area in CSS_AREAS:
            columns[f"css_{area}"] = Cast(
                KeyTextTransform(area, "safety__area_scores"), FloatField()
            )
        columns["critical_gaps"] = JoinedArray(F("safety__critical_gaps"))
    return {**columns, **_school_access()}


def schools_select(viewer: Viewer, filters: Mapping[str, Any]) -> QuerySet[School]:
    """Schools as the priority list selects and orders them (riskiest first)."""
    return priority_list(filters=filters)


# ------------------------------------------------------------------ services


def services_select(viewer: Viewer, filters: Mapping[str, Any]) -> QuerySet[Service]:
    """Open services the viewer may see, by code."""
    qs = Service.objects.filter(viewer.services_q, status=Service.Status.OPEN)
    qs = qs.filter(_area_codes(filters, "commune__code"))
    qs = qs.filter(_in_geometries(filters, "location"))
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    return qs.order_by("code")


def service_properties(viewer: Viewer) -> Expressions:
    return {
        "code": F("code"),
        "kind": F("kind"),
        "name_en": F("name_en"),
        "name_km": F("name_km"),
        "contact": F("contact"),
        **_place_columns(),
        "hazard_level": F("hazard_level"),
        "sensitive": F("sensitive"),
    }


# ------------------------------------------------------------------ hazard zones


def hazard_zones_select(
    viewer: Viewer, filters: Mapping[str, Any]
) -> QuerySet[HazardZone]:
    """Zones of the active layers (or of `layer`), by layer and id."""
    qs = HazardZone.objects.all()
    if filters.get("layer"):
        qs = qs.filter(layer_id=filters["layer"])
    else:
        qs = qs.filter(layer__active=True)
    if filters.get("hazard_type"):
        qs = qs.filter(layer__hazard_type=filters["hazard_type"])
    boundary = _boundary_of(filters)
    if boundary is not None:
        qs = qs.filter(area__intersects=boundary)
    qs = qs.filter(_in_geometries(filters, "area"))
    return qs.order_by("layer_id", "id")


def hazard_zone_properties(viewer: Viewer) -> Expressions:
    return {
        "id": F("id"),
        "layer": F("layer_id"),
        "layer_name": F("layer__name"),
        "hazard_type": F("layer__hazard_type"),
        "units": F("layer__units"),
        "intensity": F("intensity"),
        "hazard_class": F("hazard_class"),
    }


# ------------------------------------------------------------------ admin areas


def _school_stat(function: str, expression: Any, **conditions: Any) -> Subquery:
    """One figure over the open schools (with risk) under an area."""
    schools = School.objects.filter(
        status=School.Status.OPEN,
        risk__isnull=False,
        commune__code__startswith=OuterRef("code"),
        **conditions,
    ).order_by()
    output: FloatField | IntegerField = (
        FloatField() if function == "AVG" else IntegerField()
    )
    value = Func(expression, function=function, output_field=output)
    return Subquery(schools.annotate(v=value).values("v")[:1], output_field=output)


def _school_count(function: str, expression: Any, **conditions: Any) -> Coalesce:
    return Coalesce(
        _school_stat(function, expression, **conditions),
        Value(0),
        output_field=IntegerField(),
    )


def admin_areas_select(
    viewer: Viewer, filters: Mapping[str, Any]
) -> QuerySet[AdminArea]:
    """Current areas of one level (province by default), by code."""
    level = filters.get("admin_level") or AdminArea.Level.PROVINCE
    qs = AdminArea.objects.filter(level=level, valid_to__isnull=True)
    qs = qs.filter(_area_codes(filters, "code"))
    qs = qs.filter(_in_geometries(filters, "boundary"))
    return qs.order_by("code")


def admin_area_properties(viewer: Viewer) -> Expressions:
    """Names and the choropleth figures: schools and learners, at high or very
    high risk, never assessed, mean CSS score (when CSS scores are visible)."""
    high = {"risk__risk_class__gte": 4}
    learners = F("enrolment_girls") + F("enrolment_boys")
    properties: Expressions = {
        "code": F("code"),
        "level": F("level"),
        "name_en": F("name_en"),
        "name_km": F("name_km"),
        "parent": F("parent__code"),
        "schools": _school_count("COUNT", F("pk")),
        "learners": _school_count("SUM", learners),
        "schools_high_risk": _school_count("COUNT", F("pk"), **high),
        "learners_high_risk": _school_count("SUM", learners, **high),
        "never_assessed": _school_count("COUNT", F("pk"), risk__assessed=False),
    }
    if viewer.css_scores:
        properties["mean_css"] = RoundTo(_school_stat("AVG", F("safety__score")), 1)
    return properties


# ------------------------------------------------------------------ plan coverage


def plan_coverage_select(viewer: Viewer, filters: Mapping[str, Any]) -> QuerySet[Plan]:
    """Plans with a coverage geometry covering the filtered areas, by id (a plan
    covering a whole province covers its districts and communes)."""
    qs = Plan.objects.filter(coverage_area__isnull=False)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    code = next(
        (filters[k] for k in ("commune", "district", "province") if filters.get(k)),
        None,
    )
    if code:
        above = [code[:n] for n in (2, 4) if n < len(code)]
        covered = Plan.coverage.through.objects.filter(
            Q(adminarea__code__startswith=code) | Q(adminarea__code__in=above),
            plan_id=OuterRef("pk"),
        )
        qs = qs.filter(Exists(covered))
    qs = qs.filter(_in_geometries(filters, "coverage_area"))
    return qs.order_by("id")


def plan_coverage_properties(viewer: Viewer) -> Expressions:
    return {
        "id": F("id"),
        "title": F("title"),
        "status": F("status"),
        "starts_on": F("starts_on"),
        "ends_on": F("ends_on"),
        "lead": F("lead__name"),
    }


# ------------------------------------------------------------------ registry

_HXL_PLACE = {
    "code": "#loc+code",
    "name_en": "#loc+name",
    "name_km": "#loc+name+i_km",
    "province": "#adm1+code",
    "district": "#adm2+code",
    "commune": "#adm3+code",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
}
SCHOOL_HXL = {
    **_HXL_PLACE,
    "level": "#loc+type",
    "learners": "#reached+learners",
    "girls": "#reached+learners+f",
    "boys": "#reached+learners+m",
    "learners_with_disabilities": "#reached+learners+disabled",
    "evacuation_centre": "#loc+evacuation",
    "risk_score": "#severity+risk",
    "risk_class": "#severity+risk+class",
    "hazard_exposure": "#severity+hazard_exposure",
    "vulnerability": "#severity+vulnerability",
    "coping_gap": "#severity+coping_gap",
    "hazard_level": "#severity+hazard",
    **{f"hazard_{t}": f"#severity+hazard+{t}" for t in HazardType.values},
    "assessed": "#status+assessed",
    "css_score": "#indicator+css",
    "css_grade": "#indicator+css+grade",
    **{f"css_{a}": f"#indicator+css+{a.lower()}" for a in CSS_AREAS},
    "critical_gaps": "#indicator+css+critical_gaps",
    "assessed_on": "#date+assessed",
    "focal_point_km": "#indicator+focal_point+km",
    "access_gap": "#indicator+access_gap",
}
SERVICE_HXL = {
    **_HXL_PLACE,
    "kind": "#service+type",
    "name_en": "#service+name",
    "name_km": "#service+name+i_km",
    "code": "#service+code",
    "contact": "#contact",
    "hazard_level": "#severity+hazard",
    "sensitive": "#meta+sensitive",
}
HAZARD_ZONE_HXL = {
    "id": "#meta+id",
    "layer": "#meta+layer+id",
    "layer_name": "#meta+layer+name",
    "hazard_type": "#crisis+type",
    "units": "#meta+units",
    "intensity": "#severity+intensity",
    "hazard_class": "#severity+class",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
}
ADMIN_AREA_HXL = {
    "code": "#adm+code",
    "level": "#adm+level",
    "name_en": "#adm+name",
    "name_km": "#adm+name+i_km",
    "parent": "#adm+parent+code",
    "schools": "#loc+schools+num",
    "learners": "#population+learners",
    "schools_high_risk": "#loc+schools+high_risk+num",
    "learners_high_risk": "#affected+learners+high_risk",
    "never_assessed": "#loc+schools+never_assessed+num",
    "mean_css": "#indicator+css+mean",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
}
PLAN_HXL = {
    "id": "#meta+plan+id",
    "title": "#meta+plan",
    "status": "#status",
    "starts_on": "#date+start",
    "ends_on": "#date+end",
    "lead": "#org+lead",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
}

COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection(
            name="schools",
            title=_("Schools"),
            description=_(
                "Open schools with their hazard levels, risk and CSS scores, "
                "ranked by risk (highest first)."
            ),
            geometry="location",
            geometry_type="Point",
            id_field="code",
            filters=MapFilterSerializer,
            select=schools_select,
            properties=school_properties,
            flat=school_flat,
            hxl=SCHOOL_HXL,
            kml=True,
        ),
        Collection(
            name="services",
            title=_("Child-protection services"),
            description=_(
                "Open services; sensitive ones (safe shelters) only for readers "
                "who may see them."
            ),
            geometry="location",
            geometry_type="Point",
            id_field="code",
            filters=ServiceFilterSerializer,
            select=services_select,
            properties=service_properties,
            flat=service_properties,
            hxl=SERVICE_HXL,
        ),
        Collection(
            name="hazard_zones",
            title=_("Hazard zones"),
            description=_("Zones of the active hazard layers with their class."),
            geometry="area",
            geometry_type="MultiPolygon",
            id_field="id",
            filters=HazardZoneFilterSerializer,
            select=hazard_zones_select,
            properties=hazard_zone_properties,
            flat=hazard_zone_properties,
            hxl=HAZARD_ZONE_HXL,
        ),
        Collection(
            name="admin_areas",
            title=_("Administrative areas"),
            description=_(
                "Provinces (or districts, communes: admin_level) with schools "
                "and learners at risk."
            ),
            geometry="boundary",
            geometry_type="MultiPolygon",
            id_field="code",
            filters=AdminAreaFilterSerializer,
            select=admin_areas_select,
            properties=admin_area_properties,
            flat=admin_area_properties,
            hxl=ADMIN_AREA_HXL,
        ),
        Collection(
            name="plan_coverage",
            title=_("Plan coverage"),
            description=_("The areas covered by preparedness plans."),
            geometry="coverage_area",
            geometry_type="MultiPolygon",
            id_field="id",
            filters=PlanCoverageFilterSerializer,
            select=plan_coverage_select,
            properties=plan_coverage_properties,
            flat=plan_coverage_properties,
            hxl=PLAN_HXL,
            ogc=False,
        ),
    )
}


def public_collections() -> set[str]:
    """Names of the collections anonymous readers may read (`SALASAFE_PUBLIC`)."""
    public = getattr(settings, "SALASAFE_PUBLIC", {})
    return set(public.get("collections", COLLECTIONS))


def collection_for(*, name: str, viewer: Viewer) -> Collection | None:
    """The collection `name` if it exists and the viewer may read it."""
    collection = COLLECTIONS.get(name)
    if collection is None:
        return None
    if not viewer.authenticated and name not in public_collections():
        return None
    return collection


def collections_for(*, viewer: Viewer, ogc: bool = False) -> list[Collection]:
    """The collections the viewer may read (those of the OGC API with `ogc`)."""
    return [
        c
        for name in COLLECTIONS
        if (c := collection_for(name=name, viewer=viewer)) and (c.ogc or not ogc)
    ]


def collection_rows(
    *, collection: Collection, viewer: Viewer, filters: Mapping[str, Any]
) -> QuerySet[Any]:
    """The collection's filtered, ordered rows for this viewer."""
    return collection.select(viewer, filters)
