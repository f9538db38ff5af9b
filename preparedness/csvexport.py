"""The one CSV writer of every export: UTF-8 with a byte-order mark (so
spreadsheets read Khmer), empty cells for None, and spreadsheet formulas
neutralised.

A text cell starting with `=`, `+`, `-`, `@` (or a tab or carriage return,
which some spreadsheets strip before reading a formula) is written with a
leading single quote, as OWASP recommends for CSV injection, so a school name
typed as a formula never runs on a planner's computer. Numbers (-3.2) stay
numbers: only strings are neutralised.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV cell: None -> "", formula-like text -> quoted text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line (for streaming)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    extra: Iterable[Sequence[Any]] = (),
) -> Iterator[str]:
    """CSV text line by line: BOM and header, `extra` rows (e.g. HXL hashtags)
    as given, then the data rows with safe cells."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header)
    for row in extra:
        yield writer.writerow(row)
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row])


def csv_text(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    extra: Iterable[Sequence[Any]] = (),
) -> str:
    """The whole CSV as one string (small tables)."""
    return "".join(csv_lines(header, rows, extra=extra))
