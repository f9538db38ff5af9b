"""The checklist as an XLSForm, for offline assessments in KoboToolbox or ODK Collect.

The form has a `survey`, a `choices` and a `settings` sheet, English and Khmer
labels, and field names that `submissions.py` reads back: `school_code`,
`assessed_on`, `assessor_name`, `framework_version`, one group per area (`f`,
`p1`, ...) holding one question per item named by its code (`P2.04`), and
`notes`. Choice names are the stored answer codes (`yes`, `no`, `partial`,
`na`), so exported submissions import without translation.

The labels are written in both languages whatever the active language, so they
are fixed pairs here rather than `gettext` strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font

from schools.checklists.framework import (
    CHOICES_BY_TYPE,
    NA,
    NO,
    PARTIAL,
    YES,
    Framework,
    Item,
)
from schools.checklists.selectors import framework_rules
from schools.models import SafetyFramework

EN, KM = "English (en)", "Khmer (km)"
SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{EN}",
    f"label::{KM}",
    f"hint::{EN}",
    f"hint::{KM}",
    "required",
    "constraint",
    f"constraint_message::{EN}",
    f"constraint_message::{KM}",
    "default",
    "calculation",
)
CHOICE_COLUMNS = ("list_name", "name", f"label::{EN}", f"label::{KM}")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "default_language")

# Field names shared with the import (`submissions.py`).
SCHOOL_CODE = "school_code"
ASSESSED_ON = "assessed_on"
ASSESSOR_NAME = "assessor_name"
FRAMEWORK_VERSION = "framework_version"
NOTES = "notes"

CHOICE_LABELS: dict[str, tuple[str, str]] = {
    YES: ("Yes", "បាទ/ចាស"),
    NO: ("No", "ទេ"),
    PARTIAL: ("Partly", "មួយផ្នែក"),
    NA: ("Not applicable", "មិនពាក់ព័ន្ធ"),
}

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def form_id(version: str) -> str:
    """`salasafe_cssf_2026_1` for version 2026.1."""
    return "salasafe_cssf_" + version.replace(".", "_").replace("-", "_")


def xlsform_filename(version: str) -> str:
    return f"salasafe-cssf-{version}.xlsx"


def xlsform_write(framework: SafetyFramework, path_or_buffer: str | IO[bytes]) -> None:
    """Write the XLSForm of a framework version to a path or a binary buffer."""
    rules = framework_rules(framework)
    book = Workbook()
    survey: Any = book.active
    survey.title = "survey"
    _sheet(survey, SURVEY_COLUMNS, _survey_rows(rules))
    _sheet(book.create_sheet("choices"), CHOICE_COLUMNS, _choice_rows(rules))
    _sheet(
        book.create_sheet("settings"),
        SETTINGS_COLUMNS,
        [
            {
                "form_title": rules.title_en,
                "form_id": form_id(rules.version),
                "version": rules.version,
                "default_language": EN,
            }
        ],
    )
    book.save(path_or_buffer)


def _survey_rows(rules: Framework) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = [
        {
            "type": "text",
            "name": SCHOOL_CODE,
            f"label::{EN}": "School code (EMIS)",
            f"label::{KM}": "លេខកូដសាលា (EMIS)",
            f"hint::{EN}": "The code of the school in EMIS, e.g. 07010101.",
            f"hint::{KM}": "លេខកូដសាលាក្នុង EMIS ឧទាហរណ៍ 07010101។",
            "required": "yes",
        },
        {
            "type": "date",
            "name": ASSESSED_ON,
            f"label::{EN}": "Date of assessment",
            f"label::{KM}": "កាលបរិច្ឆេទវាយតម្លៃ",
            "required": "yes",
            "constraint": ". <= today()",
            f"constraint_message::{EN}": "The date cannot be in the future.",
            f"constraint_message::{KM}": "កាលបរិច្ឆេទមិនអាចនៅថ្ងៃអនាគតបានទេ។",
            "default": "today()",
        },
        {
            "type": "text",
            "name": ASSESSOR_NAME,
            f"label::{EN}": "Assessor (name)",
            f"label::{KM}": "ឈ្មោះអ្នកវាយតម្លៃ",
        },
        {
            "type": "calculate",
            "name": FRAMEWORK_VERSION,
            "calculation": f"'{rules.version}'",
        },
    ]
    for area in rules.areas:
        rows.append(
            {
                "type": "begin_group",
                "name": area.code.lower(),
                f"label::{EN}": area.name_en,
                f"label::{KM}": area.name_km,
            }
        )
        rows.extend(_item_row(item) for item in area.items)
        rows.append({"type": "end_group", "name": area.code.lower()})
    rows.append(
        {
            "type": "text",
            "name": NOTES,
            f"label::{EN}": "Notes",
            f"label::{KM}": "កំណត់ចំណាំ",
        }
    )
    return rows


def _item_row(item: Item) -> dict[str, str]:
    row = {
        "name": item.code,
        f"label::{EN}": item.question_en,
        f"label::{KM}": item.question_km,
        f"hint::{EN}": item.help_en,
        f"hint::{KM}": item.help_km,
        "required": "yes",
    }
    rule = item.number
    if rule is None:
        return {"type": f"select_one {item.answer_type}", **row}
    low, high = f"{rule.minimum:g}", f"{rule.maximum:g}"
    unit_en = f" ({rule.unit_en})" if rule.unit_en else ""
    unit_km = f" ({rule.unit_km})" if rule.unit_km else ""
    return {
        "type": "integer" if rule.integer else "decimal",
        **row,
        "constraint": f". >= {low} and . <= {high}",
        f"constraint_message::{EN}": f"Give a number from {low} to {high}{unit_en}.",
        f"constraint_message::{KM}": f"សូមបញ្ចូលលេខពី {low} ដល់ {high}{unit_km}។",
    }


def _choice_rows(rules: Framework) -> list[dict[str, str]]:
    used = {item.answer_type for item in rules.items.values() if item.number is None}
    return [
        {
            "list_name": answer_type,
            "name": name,
            f"label::{EN}": CHOICE_LABELS[name][0],
            f"label::{KM}": CHOICE_LABELS[name][1],
        }
        for answer_type, names in CHOICES_BY_TYPE.items()
        if answer_type in used
        for name in names
    ]


def _sheet(ws: Any, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for row in rows:
        ws.append([row.get(column) or None for column in columns])
