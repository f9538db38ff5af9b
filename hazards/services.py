"""Writes of hazard layers: import (zones, tracks, rasters), switching, deletion.

Every successful change calls `hazards.callbacks.layers_changed`, which runs the
registered follow-ups (exposure, plan triggers) after the transaction commits.

Re-importing under an existing name replaces the layer in place: the same row
(same id, so links to it hold) gets the new attributes and scenario, its zones
and tracks are deleted and the new ones inserted, in one transaction; a raster
it had is deleted from storage after the commit. The layer becomes active again.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import shapely
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hazards import rasters, vectors
from hazards.callbacks import LayerChange, layers_changed
from hazards.classes import DEFAULT_BREAKS, DEFAULT_UNITS, HazardType, check_breaks
from hazards.errors import HazardInputError
from hazards.models import HazardLayer, HazardZone, StormTrack
from hazards.selectors import cambodia_extent
from preparedness.access import Role, access_for
from preparedness.readers import ImportRejected, RowError

User = AbstractBaseUser | AnonymousUser | None
G = TypeVar("G", MultiPolygon, LineString)
# Called with (features written so far, features to write) after each batch.
Progress = Callable[[int, int], None]

HAZARD_TYPE_ALIASES: dict[str, str] = {
    "flood": HazardType.RIVERINE_FLOOD,
    "typhoon": HazardType.STORM,
    "cyclone": HazardType.STORM,
}
BATCH = 1000
NOTES_KEPT = 200  # rows listed per kind (repaired, ...) in a layer's import summary
Representation = HazardLayer.Representation
Scenario = HazardLayer.Scenario


@dataclass(frozen=True)
class LayerImportResult:
    """What an import did: features read and imported, repairs, refusals.

    `repaired` lists the polygons repaired (kept); `rejected` the features refused
    (skipped with `skip_bad_rows`, else nothing was written); `dropped` what the
    rules leave out without failing the import (tracks far from Cambodia,
    best-track fixes without a wind).
    """

    layer: HazardLayer
    read: int
    imported: int
    repaired: list[RowError]
    rejected: list[RowError]
    dropped: list[RowError] = field(default_factory=list)


def hazard_type_value(text: str) -> str:
    """A HazardType value from a value or an alias (flood, typhoon, cyclone)."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    key = HAZARD_TYPE_ALIASES.get(key, key)
    if key not in HazardType.values:
        known = ", ".join([*HazardType.values, *HAZARD_TYPE_ALIASES])
        raise HazardInputError(
            f"unknown hazard type {text!r} (use {known})", field="hazard_type"
        )
    return key


@transaction.atomic
def hazard_layer_import(
    *,
    path: Path | str,
    hazard_type: str,
    name: str,
    by: User = None,
    intensity_field: str | None = None,
    class_field: str | None = None,
    breaks: Sequence[float] | None = None,
    return_period: int | None = None,
    event_date: date | None = None,
    valid_time: datetime | None = None,
    source: str = "",
    srid: int | None = None,
    skip_bad_rows: bool = False,
    mapping: Mapping[str, str] | None = None,
    wind_field: str | None = None,
    radius_field: str | None = None,
    progress: Progress | None = None,
) -> LayerImportResult:
    """Import a hazard file as the layer `name`, replacing one of that name."""
    _check_may_manage(by)
    kind = hazard_type_value(hazard_type)
    name = _checked_name(name)
    if len(source) > 500:
        raise HazardInputError(_("At most 500 characters."), field="source")
    layer_breaks = _checked_breaks(breaks, kind)
    scenario = _scenario(event_date, return_period, valid_time)
    path = Path(path)
    file_kind = vectors.file_kind(path)
    region = vectors.Region(cambodia_extent())
    attributes: dict[str, Any] = {
        "hazard_type": kind,
        "scenario": scenario,
        "event_date": event_date,
        "return_period": return_period,
        "valid_time": valid_time,
        "units": DEFAULT_UNITS.get(kind, ""),
        "breaks": list(layer_breaks),
        "source": source,
        "active": True,
    }
    if file_kind == "raster":
        _refuse(class_field=class_field, intensity_field=intensity_field)
        _refuse(wind_field=wind_field, radius_field=radius_field, map=mapping)
        return _import_raster(
            path, name=name, srid=srid, region=region, attributes=attributes, by=by
        )
    parsed = _parse(
        path,
        file_kind=file_kind,
        kind=kind,
        region=region,
        breaks=layer_breaks,
        srid=srid,
        intensity_field=intensity_field,
        class_field=class_field,
        mapping=mapping,
        wind_field=wind_field,
        radius_field=radius_field,
    )
    if parsed.rejected and not skip_bad_rows:
        raise ImportRejected(parsed.rejected, read=parsed.read)
    if not parsed.zones and not parsed.tracks:
        if parsed.rejected:
            raise ImportRejected(parsed.rejected, read=parsed.read)
        raise HazardInputError(
            f"{path.name}: no feature to import"
            + (f" ({parsed.dropped[0]}, ...)" if parsed.dropped else "")
        )
    representation = Representation.ZONES if parsed.zones else Representation.TRACKS
    layer, old_raster = _replace(
        name, representation=representation, by=by, **attributes
    )
    written = _write_features(layer, parsed, progress)
    layer.import_summary = _summary(
        path, parsed.read, written, parsed.repaired, parsed.rejected, parsed.dropped
    ) | {"crs": parsed.crs, "imported_by": _username(by)}
    layer.save(update_fields=["import_summary"])
    _after_commit_remove(old_raster)
    layers_changed(LayerChange(layer_ids=(layer.pk,)))
    return LayerImportResult(
        layer=layer,
        read=parsed.read,
        imported=written,
        repaired=parsed.repaired,
        rejected=parsed.rejected,
        dropped=parsed.dropped,
    )


@transaction.atomic
def hazard_layer_set_active(
    *, layer: HazardLayer, active: bool, by: User = None
) -> HazardLayer:
    """Switch a layer on or off; a layer switched off counts as removed."""
    _check_may_manage(by)
    layer = HazardLayer.objects.select_for_update().get(pk=layer.pk)
    if layer.active == active:
        return layer
    layer.active = active
    layer.save(update_fields=["active", "updated_at"])
    removed = () if active else (layer.pk,)
    layers_changed(LayerChange(layer_ids=(layer.pk,), removed=removed))
    return layer


@transaction.atomic
def hazard_layer_delete(*, layer: HazardLayer, by: User = None) -> None:
    """Delete a layer with its zones and tracks, and its raster file after commit."""
    _check_may_manage(by)
    pk, raster = layer.pk, layer.raster.name
    layer.delete()
    _after_commit_remove(raster)
    layers_changed(LayerChange(layer_ids=(pk,), removed=(pk,)))


# --- checks --------------------------------------------------------------------


def _check_may_manage(by: User) -> None:
    """Coordinators and administrators manage layers; `None` is the system (CLI)."""
    if by is not None and not access_for(by).has_role(
        Role.COORDINATOR, Role.ADMINISTRATOR
    ):
        raise PermissionDenied(_("Only coordinators and administrators manage layers."))


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise HazardInputError(_("Give the layer a name."), field="name")
    if len(name) > 200:
        raise HazardInputError(_("At most 200 characters."), field="name")
    return name


def _checked_breaks(breaks: Sequence[float] | None, kind: str) -> tuple[float, ...]:
    if breaks is None:
        return DEFAULT_BREAKS[kind]
    breaks = tuple(float(b) for b in breaks)
    problems = check_breaks(breaks)
    if problems:
        shown = ", ".join(f"{b:g}" for b in breaks)
        raise HazardInputError(f"breaks {shown}: " + " ".join(problems), field="breaks")
    return breaks


def _scenario(
    event_date: date | None, return_period: int | None, valid_time: datetime | None
) -> str:
    given = {
        "event_date": event_date,
        "return_period": return_period,
        "valid_time": valid_time,
    }
    named = [key for key, value in given.items() if value is not None]
    if len(named) > 1:
        raise HazardInputError(
            "give one scenario: an event date, a return period or a forecast valid "
            f"time, not {' and '.join(named)}",
            field=named[1],
        )
    if return_period is not None and return_period <= 0:
        raise HazardInputError(
            "a return period is a positive number of years", field="return_period"
        )
    if valid_time is not None and timezone.is_naive(valid_time):
        raise HazardInputError(
            "give the valid time with its time zone (e.g. 2024-10-01T06:00Z)",
            field="valid_time",
        )
    if event_date is not None:
        return Scenario.EVENT
    if return_period is not None:
        return Scenario.RETURN_PERIOD
    if valid_time is not None:
        return Scenario.FORECAST
    return ""


def _refuse(**options: object) -> None:
    """Refuse options that do not apply to this kind of file."""
    for option, value in options.items():
        if value:
            raise HazardInputError(
                f"{option} does not apply to this kind of file", field=option
            )


# --- parsing -------------------------------------------------------------------


def _parse(
    path: Path,
    *,
    file_kind: str,
    kind: str,
    region: vectors.Region,
    breaks: Sequence[float],
    srid: int | None,
    intensity_field: str | None,
    class_field: str | None,
    mapping: Mapping[str, str] | None,
    wind_field: str | None,
    radius_field: str | None,
) -> vectors.Parsed:
    """Zones or tracks from a vector file or best-track table."""
    track_options = {
        "region": region,
        "mapping": mapping,
        "wind_field": wind_field or intensity_field,
        "radius_field": radius_field,
    }
    if file_kind == "table":
        _needs_storm(kind, f"{path.name} is a best-track table")
        _refuse(class_field=class_field, srid=srid)
        return vectors.read_best_track(path, **track_options)  # type: ignore[arg-type]
    vector = vectors.read_vector(path, srid=srid)
    if vector.kind == "lines":
        _needs_storm(kind, f"{path.name} holds lines (storm tracks)")
        _refuse(class_field=class_field)
        return vectors.tracks_from_lines(vector, **track_options)  # type: ignore[arg-type]
    if vector.kind == "points":
        if kind != HazardType.STORM:
            raise HazardInputError(
                f"{path.name} holds points; hazard zones must be polygons and storm "
                "tracks lines (points are read only as best-track fixes of a storm)"
            )
        _refuse(class_field=class_field)
        return vectors.best_track_from_points(vector, **track_options)  # type: ignore[arg-type]
    _refuse(wind_field=wind_field, radius_field=radius_field, map=mapping)
    return vectors.zones_from(
        vector,
        region=region,
        breaks=breaks,
        intensity_field=intensity_field,
        class_field=class_field,
    )


def _needs_storm(kind: str, what: str) -> None:
    if kind != HazardType.STORM:
        raise HazardInputError(
            f"{what}; give the hazard type storm (or typhoon, cyclone)",
            field="hazard_type",
        )


# --- writing -------------------------------------------------------------------


def _replace(
    name: str, *, representation: str, by: User, **attributes: Any
) -> tuple[HazardLayer, str]:
    """The layer `name` (locked), emptied and updated, or a new one; old raster name."""
    layer = HazardLayer.objects.select_for_update().filter(name=name).first()
    old_raster = ""
    if layer is None:
        user = _user_or_none(by)
        layer = HazardLayer(name=name, created_by_id=user.pk if user else None)
    else:
        old_raster = layer.raster.name
        HazardZone.objects.filter(layer=layer).delete()
        StormTrack.objects.filter(layer=layer).delete()
    raster = attributes.pop("raster", "")
    for key, value in attributes.items():
        setattr(layer, key, value)
    layer.representation = representation
    layer.raster.name = raster
    layer.save()
    return layer, old_raster


def _write_features(
    layer: HazardLayer, parsed: vectors.Parsed, progress: Progress | None
) -> int:
    total = len(parsed.zones) + len(parsed.tracks)
    done = 0
    for start in range(0, len(parsed.zones), BATCH):
        batch = parsed.zones[start : start + BATCH]
        HazardZone.objects.bulk_create(
            HazardZone(
                layer=layer,
                area=_geos(zone.area, MultiPolygon),
                intensity=zone.intensity,
                hazard_class=zone.hazard_class,
                properties=zone.properties,
            )
            for zone in batch
        )
        done += len(batch)
        if progress is not None:
            progress(done, total)
    for start in range(0, len(parsed.tracks), BATCH):
        tracks = parsed.tracks[start : start + BATCH]
        StormTrack.objects.bulk_create(
            StormTrack(
                layer=layer,
                storm_id=track.storm_id[:64],
                name=track.name[:200],
                path=_geos(track.path, LineString),
                max_wind_kt=track.max_wind_kt,
                radius_km=track.radius_km,
                starts_at=track.starts_at,
                ends_at=track.ends_at,
                properties=track.properties,
            )
            for track in tracks
        )
        done += len(tracks)
        if progress is not None:
            progress(done, total)
    return total


def _import_raster(
    path: Path,
    *,
    name: str,
    srid: int | None,
    region: vectors.Region,
    attributes: dict[str, Any],
    by: User,
) -> LayerImportResult:
    """Check a GeoTIFF, store it as a COG and point the layer at it."""
    info = rasters.raster_check(path, srid=srid, region=region.extent)
    stored = rasters.raster_store(path, srid=srid)
    try:
        layer, old_raster = _replace(
            name,
            representation=Representation.RASTER,
            by=by,
            raster=stored,
            **attributes,
        )
        layer.import_summary = _summary(path, 1, 1, [], [], []) | {
            "raster": info.summary(),
            "imported_by": _username(by),
        }
        layer.save(update_fields=["import_summary"])
    except BaseException:
        rasters.raster_remove(stored)
        raise
    _after_commit_remove(old_raster)
    layers_changed(LayerChange(layer_ids=(layer.pk,)))
    return LayerImportResult(layer=layer, read=1, imported=1, repaired=[], rejected=[])


def _after_commit_remove(raster: str) -> None:
    if raster:
        transaction.on_commit(lambda: rasters.raster_remove(raster))


def _geos(geometry: shapely.Geometry, kind: type[G]) -> G:
    """A shapely geometry as the GEOS geometry (EPSG:4326) a model field takes."""
    converted = GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=4326)
    if not isinstance(converted, kind):
        raise TypeError(f"expected a {kind.__name__}, got {converted.geom_type}")
    return converted


def _summary(
    path: Path,
    read: int,
    imported: int,
    repaired: list[RowError],
    rejected: list[RowError],
    dropped: list[RowError],
) -> dict[str, Any]:
    """The import summary kept on the layer: counts and the first rows listed."""
    return {
        "file": path.name,
        "imported_at": timezone.now().isoformat(),
        "read": read,
        "imported": imported,
        "repaired": len(repaired),
        "rejected": len(rejected),
        "dropped": len(dropped),
        "rows": {
            "repaired": [str(e) for e in repaired[:NOTES_KEPT]],
            "rejected": [str(e) for e in rejected[:NOTES_KEPT]],
            "dropped": [str(e) for e in dropped[:NOTES_KEPT]],
        },
    }


def _user_or_none(by: User) -> AbstractBaseUser | None:
    return by if isinstance(by, AbstractBaseUser) and by.is_authenticated else None


def _username(by: User) -> str:
    user = _user_or_none(by)
    return user.get_username() if user is not None else ""


__all__ = [
    "LayerImportResult",
    "hazard_layer_delete",
    "hazard_layer_import",
    "hazard_layer_set_active",
    "hazard_type_value",
]
