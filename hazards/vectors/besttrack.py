"""Storm best tracks (JTWC/IBTrACS fixes, from CSV or point files) into track
segments that carry their wind and wind radius.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely

from hazards.errors import HazardInputError
from hazards.vectors.base import (
    Parsed,
    Region,
    Track,
    VectorRead,
    _alias,
    _listing,
    _mapping,
    _text,
    keep_near,
    wind_radius_km,
)
from preparedness.readers import RowError, read_table

# Best-track columns (lower case) recognised without --map, per field.
BEST_TRACK_COLUMNS: dict[str, tuple[str, ...]] = {
    "storm_id": ("storm_id", "sn", "sid"),
    "name": ("name", "storm_name"),
    "time": ("time", "iso_time"),
    "year": ("year",),
    "month": ("month",),
    "day": ("day",),
    "hour": ("hour",),
    "lat": ("lat",),
    "lon": ("lon",),
    "wind": ("wind", "vmax", "max_wind_kt", "usa_wind"),
    "radius": ("radius_km",),
}

# The option that names a best-track column, when it is not --map.
OPTION_OF = {"wind": "wind_field", "radius": "radius_field"}


@dataclass(frozen=True)
class _Fix:
    row: int
    storm_id: str
    name: str
    time: datetime
    lon: float
    lat: float
    wind: float | None  # None: the file has no wind for this fix
    radius: float | None


def read_best_track(
    path: Path,
    *,
    region: Region,
    mapping: Mapping[str, str] | None = None,
    wind_field: str | None = None,
    radius_field: str | None = None,
) -> Parsed:
    """Track segments of a best-track CSV (JTWC columns as they are, others --map)."""
    table = read_table(path)
    rows = [(r.number, r.values, None, None) for r in table.rows]
    return best_track_from_rows(
        rows,
        columns=table.columns,
        source=table.name,
        region=region,
        mapping=mapping,
        wind_field=wind_field,
        radius_field=radius_field,
    )


def best_track_from_points(
    vector: VectorRead,
    *,
    region: Region,
    mapping: Mapping[str, str] | None = None,
    wind_field: str | None = None,
    radius_field: str | None = None,
) -> Parsed:
    """Track segments of a point file of storm fixes (e.g. IBTrACS points)."""
    rows = []
    for f in vector.features:
        values = {k.lower(): _text(v) for k, v in f.values.items()}
        point = f.geometry if f.geometry.geom_type == "Point" else None
        rows.append(
            (f.row, values, point.x if point else None, point.y if point else None)
        )
    parsed = best_track_from_rows(
        rows,
        columns=tuple(c.lower() for c in vector.columns),
        source=vector.name,
        region=region,
        mapping=mapping,
        wind_field=wind_field,
        radius_field=radius_field,
        located=True,
    )
    parsed.read = vector.read
    parsed.crs = vector.crs
    parsed.rejected = sorted([*vector.rejected, *parsed.rejected], key=lambda e: e.row)
    return parsed


def best_track_from_rows(
    rows: Iterable[tuple[int, Mapping[str, str], float | None, float | None]],
    *,
    columns: Sequence[str],
    source: str,
    region: Region,
    mapping: Mapping[str, str] | None,
    wind_field: str | None,
    radius_field: str | None,
    located: bool = False,
) -> Parsed:
    """Segments between consecutive fixes of each storm that both have a wind.

    Fixes without a wind value (empty, or negative like JTWC's -999) are left out
    and listed; no segment bridges them. A storm is kept whole when any of its
    segments passes within TRACK_REACH_KM of Cambodia, else dropped and listed.
    """
    cols = _best_track_columns(
        columns, source, mapping, wind_field, radius_field, located=located
    )
    rows = list(rows)
    parsed = Parsed(read=len(rows))
    storms: dict[str, list[_Fix]] = {}
    for number, values, x, y in rows:
        if number == 2 and values.get(cols.get("lat", ""), "").strip() == (
            "degrees_north"
        ):
            parsed.read -= 1  # IBTrACS's second header row of units
            continue
        try:
            fix = _fix(number, values, cols, x, y)
        except ValueError as exc:
            column, _, reason = str(exc).partition(": ")
            parsed.rejected.append(RowError(number, column, reason, "value"))
            continue
        storms.setdefault(fix.storm_id, []).append(fix)
        if fix.wind is None:
            raw = values.get(cols["wind"], "").strip() or "empty"
            parsed.dropped.append(
                RowError(number, cols["wind"], f"no wind ({raw}); fix left out", "wind")
            )
    for storm_id, fixes in storms.items():
        segments = _segments(storm_id, fixes)
        if segments:
            parsed.tracks.extend(segments)
        else:
            reason = f"storm {storm_id}: fewer than two consecutive fixes with wind"
            parsed.dropped.append(RowError(fixes[0].row, "storm_id", reason, "short"))
    parsed.tracks, far = keep_near(parsed.tracks, region)
    parsed.dropped = sorted([*parsed.dropped, *far], key=lambda e: e.row)
    return parsed


def _best_track_columns(
    columns: Sequence[str],
    source: str,
    mapping: Mapping[str, str] | None,
    wind_field: str | None,
    radius_field: str | None,
    *,
    located: bool,
) -> dict[str, str]:
    """Our field -> the table's (lower-case) column, from --map, options, aliases."""
    given = _mapping(mapping, BEST_TRACK_COLUMNS)
    if wind_field:
        given["wind"] = wind_field
    if radius_field:
        given["radius"] = radius_field
    found: dict[str, str] = {}
    for name, aliases in BEST_TRACK_COLUMNS.items():
        if name in given:
            column = given[name].strip().lower()
            if column not in columns:
                option = OPTION_OF.get(name, "map")
                raise HazardInputError(
                    f"{source} has no column {given[name]!r} for {name} "
                    f"(columns: {_listing(columns)})",
                    field=option,
                )
            found[name] = column
        else:
            alias = _alias(columns, aliases)
            if alias is not None:
                found[name] = alias
    needed = ["storm_id", "wind"] + ([] if located else ["lat", "lon"])
    if "time" not in found:
        needed += ["year", "month", "day"]
    missing = [n for n in needed if n not in found]
    if missing:
        hints = "; ".join(
            f"{n} (looked for {', '.join(BEST_TRACK_COLUMNS[n])})" for n in missing
        )
        raise HazardInputError(
            f"{source}: not a best-track table; no column for {hints}. "
            f"Columns: {_listing(columns)}; map others with --map FIELD=COLUMN",
            field="map",
        )
    return found


def _fix(
    number: int,
    values: Mapping[str, str],
    cols: Mapping[str, str],
    x: float | None,
    y: float | None,
) -> _Fix:
    """One fix, or ValueError("column: reason")."""

    def get(name: str) -> str:
        return values.get(cols[name], "").strip() if name in cols else ""

    def number_of(name: str) -> float:
        text = get(name)
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{cols[name]}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{cols[name]}: {text!r} is not a finite number")
        return value

    storm_id = get("storm_id")
    if not storm_id:
        raise ValueError(f"{cols['storm_id']}: no storm id")
    if x is None or y is None:
        if "lat" not in cols:
            raise ValueError("geometry: not a point")
        x, y = number_of("lon"), number_of("lat")
    if not (-90 <= y <= 90 and -180 <= x <= 360):
        raise ValueError(f"{cols.get('lat', 'geometry')}: ({y}, {x}) is not a lat/lon")
    wind: float | None = None
    if get("wind"):
        wind = number_of("wind")
        wind = None if wind < 0 else wind
    radius: float | None = None
    if get("radius"):
        radius = number_of("radius")
        if radius < 0:
            raise ValueError(f"{cols['radius']}: a negative radius")
    return _Fix(number, storm_id, get("name"), _time(get, cols), x, y, wind, radius)


def _time(get: Any, cols: Mapping[str, str]) -> datetime:
    if "time" in cols:
        text = get("time")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            reason = f"{cols['time']}: {text!r} is not a date and time"
            raise ValueError(reason) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    parts = [get(n) for n in ("year", "month", "day", "hour")]
    try:
        year, month, day = (int(float(p)) for p in parts[:3])
        hour = int(float(parts[3])) if parts[3] else 0
        if hour >= 100:  # HHMM as some archives write it
            hour //= 100
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        shown = "-".join(parts[:3]) + (f" {parts[3]}h" if parts[3] else "")
        raise ValueError(f"{cols['year']}: {shown!r} is not a date") from None


def _segments(storm_id: str, fixes: list[_Fix]) -> list[Track]:
    """Segments joining consecutive fixes (in time order) that both have a wind."""
    ordered = sorted(fixes, key=lambda f: f.time)
    tracks = []
    for a, b in itertools.pairwise(ordered):
        if a.wind is None or b.wind is None:
            continue
        wind = max(a.wind, b.wind)
        radii = [r for r in (a.radius, b.radius) if r is not None]
        tracks.append(
            Track(
                row=a.row,
                group=f"storm {storm_id}",
                storm_id=storm_id,
                name=a.name or b.name,
                path=shapely.LineString([(a.lon, a.lat), (b.lon, b.lat)]),
                max_wind_kt=wind,
                radius_km=max(radii) if radii else wind_radius_km(wind),
                starts_at=a.time,
                ends_at=b.time,
                properties={"rows": [a.row, b.row], "winds_kt": [a.wind, b.wind]},
            )
        )
    return tracks
