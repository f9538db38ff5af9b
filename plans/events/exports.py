"""Situation report files: the table by province and district (CSV), and each
school's latest status (CSV and GeoJSON points), UTF-8 so Khmer names survive."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from plans.events.sql import COUNTS
from plans.models import StatusReport
from preparedness.csvexport import csv_text

SITREP_HEADER = (
    "level",
    "province",
    "district",
    "name_en",
    "name_km",
    *COUNTS,
    *(f"{c}_change" for c in COUNTS),
)
SCHOOL_FIELDS = (
    "school",
    "name_en",
    "name_km",
    "commune",
    "reported_on",
    "status",
    "flooded",
    "damaged",
    "shelter",
    "learners_affected",
    "note",
)


def _csv(header: Iterable[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 with a BOM (spreadsheets read Khmer), formulas neutralised."""
    return csv_text(list(header), rows)


def sitrep_csv(report: dict[str, Any]) -> str:
    rows = []
    for row in report["rows"]:
        area = row["area"]
        rows.append(
            [
                row["level"],
                row["province"],
                row["district"],
                area.name_en if area else "",
                area.name_km if area else "",
                *(row[c] for c in COUNTS),
                *(row["change"][c] for c in COUNTS),
            ]
        )
    return _csv(SITREP_HEADER, rows)


def _school_values(report: StatusReport) -> list[Any]:
    school = report.school
    return [
        school.code,
        school.name_en,
        school.name_km,
        school.commune_id,
        report.reported_on.isoformat(),
        report.status,
        report.flooded,
        report.damaged,
        report.shelter,
        report.learners_affected,
        report.note,
    ]


def schools_csv(reports: Iterable[StatusReport]) -> str:
    return _csv(
        (*SCHOOL_FIELDS, "lon", "lat"),
        (
            [*_school_values(r), r.school.location.x, r.school.location.y]
            for r in reports
        ),
    )


def schools_geojson(reports: Iterable[StatusReport]) -> dict[str, Any]:
    """RFC 7946 points, lon/lat at 6 decimals, one per school (latest status)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r.school.code,
                "geometry": {
                    "type": "Point",
                    "coordinates": [
                        round(r.school.location.x, 6),
                        round(r.school.location.y, 6),
                    ],
                },
                "properties": dict(zip(SCHOOL_FIELDS, _school_values(r), strict=True)),
            }
            for r in reports
        ],
    }
