"""Read the tables that ministries and partners hand over into numbered rows.

One reader for CSV, XLSX, GeoJSON and GeoPackage, shared by every import. Values
come back as strings exactly as received (codes keep their leading zeros); each
row keeps the number a person sees in the file, so errors read "row 7: ...".
Vector layers also carry each feature's geometry and the layer's SRID.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SRSException
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from preparedness.uploads import UploadRefused, check_file

TABULAR = {".csv", ".xlsx"}
VECTOR = {".geojson", ".json", ".gpkg"}
DELIMITERS = (",", ";", "\t")


class InputError(ValueError):
    """Input that is refused as a whole; the message names the row or field and why."""


class ReadError(InputError):
    """A file, sheet, layer or column that cannot be read as asked."""


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row of a file was refused."""

    row: int
    field: str
    reason: str
    code: str = ""

    def __str__(self) -> str:
        return f"row {self.row} ({self.field}): {self.reason}"


class ImportRejected(InputError):
    """Some rows are bad, so nothing was written."""

    def __init__(self, errors: Sequence[RowError], *, read: int) -> None:
        self.errors = list(errors)
        self.read = read
        super().__init__(
            f"{len(self.errors)} of {read} rows rejected, nothing written: "
            + "; ".join(str(e) for e in self.errors[:3])
            + ("; ..." if len(self.errors) > 3 else "")
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its human row number, values by column and any geometry."""

    number: int
    values: dict[str, str]
    geometry: OGRGeometry | None = None


@dataclass(frozen=True)
class Table:
    """The rows of one sheet or layer; column names are stripped and lower-case."""

    name: str
    columns: tuple[str, ...]
    rows: list[Row] = field(repr=False)
    is_layer: bool = False
    srid: int | None = None  # CRS of the geometries (vector layers only)


def read_table(
    path: Path | str, *, sheet: str | None = None, srid: int | None = None
) -> Table:
    """Read a CSV, XLSX, GeoJSON or GeoPackage file.

    `sheet` picks a worksheet or layer (default: the first sheet, the only
    layer). `srid` assigns the CRS of a vector layer; a layer without one is
    refused unless it is given.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABULAR | VECTOR:
        known = ", ".join(sorted(TABULAR | VECTOR))
        raise ReadError(f"{path.name}: unknown file type {suffix!r} (use {known})")
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    try:
        check_file(path)
    except UploadRefused as exc:
        raise ReadError(str(exc)) from None
    with paused_gc():
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".xlsx":
            return _read_xlsx(path, sheet)
        return _read_layer(path, sheet, srid)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cycle collector while building rows by the hundred thousand.

    Every row read or checked stays alive until the import ends, so the
    collector would traverse all earlier rows again and again (a third of the
    time of checking 100,000 rows). The rows hold no reference cycles, so
    reference counting still frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse `code=SCHOOL_ID,lat=Y` into {"code": "SCHOOL_ID", "lat": "Y"}."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        target, sep, column = item.partition("=")
        target, column = target.strip().lower(), column.strip()
        if not sep or not target or not column:
            raise ReadError(f"--map: {item.strip()!r} is not FIELD=COLUMN")
        if target in mapping:
            raise ReadError(f"--map: {target!r} is mapped twice")
        mapping[target] = column
    return mapping


def column_map(
    table: Table, *, fields: Sequence[str], mapping: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return our field name -> the table's column, for each field the table has.

    A field is read from the column `mapping` names, else from the column of the
    same name unless that column is mapped to another field.
    """
    given = {k.strip().lower(): v.strip() for k, v in (mapping or {}).items()}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ReadError(
            f"--map: unknown field {', '.join(unknown)} (fields: {', '.join(fields)})"
        )
    mapping = {k: _header(v) for k, v in given.items()}
    absent = [f"{k}={given[k]}" for k, v in mapping.items() if v not in table.columns]
    if absent:
        raise ReadError(
            f"--map {', '.join(absent)}: {table.name} has no such column "
            f"(columns: {', '.join(table.columns)})"
        )
    claimed = set(mapping.values())
    found = dict(mapping)
    for name in fields:
        if name not in found and name in table.columns and name not in claimed:
            found[name] = name
    return found


def write_report(path: Path | str, errors: Iterable[RowError]) -> None:
    """Write rejected rows as a UTF-8 CSV with columns row, code, field, reason."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["row", "code", "field", "reason"])
        out.writerows([e.row, e.code, e.field, e.reason] for e in errors)


def _header(name: object) -> str:
    return "" if name is None else str(name).strip().lower()


def _columns(source: str, header: Iterable[object]) -> tuple[str, ...]:
    columns = tuple(_header(name) for name in header)
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise ReadError(f"{source}: column {name!r} appears twice")
        seen.add(name)
    if not any(columns):
        raise ReadError(f"{source}: the first row has no column names")
    return columns


def _table(
    source: str,
    lines: Iterator[tuple[int, Sequence[object]]],
    text: Callable[[object], str] | None = None,
) -> Table:
    """Build a table from numbered lines whose first line is the header.

    `text` turns a cell into a string: `_text` unless given (`str` for CSV,
    whose cells already are strings).
    """
    text = text or _text
    try:
        _, header = next(lines)
    except StopIteration:
        raise ReadError(f"{source}: the file is empty") from None
    columns = _columns(source, header)
    names = [name for name in columns if name]
    where = [i for i, name in enumerate(columns) if name]
    width = len(columns)
    rows = []
    for number, cells in lines:
        if len(cells) < width:
            cells = [*cells, *[""] * (width - len(cells))]
        picked = cells if len(names) == width else [cells[i] for i in where]
        values = dict(zip(names, map(text, picked), strict=False))
        if "".join(values.values()).strip():  # not a blank line
            rows.append(Row(number, values))
    return Table(source, tuple(names), rows)


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{path.name} is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'"
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _table(path.name, enumerate(reader, start=1), text=str)
    except csv.Error as exc:
        raise ReadError(f"{path.name}: not a readable CSV file ({exc})") from None


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError) as exc:
        raise ReadError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            sheets = ", ".join(book.sheetnames)
            raise ReadError(f"{path.name} has no sheet {sheet!r} (sheets: {sheets})")
        ws.reset_dimensions()  # some writers record a wrong sheet size
        lines = enumerate(ws.iter_rows(values_only=True), start=1)
        return _table(f"{path.name} [{ws.title}]" if sheet else path.name, lines)
    finally:
        book.close()


def _read_layer(path: Path, name: str | None, srid: int | None) -> Table:
    try:
        source = DataSource(str(path))
    except GDALException as exc:
        raise ReadError(f"{path.name}: not a readable vector file ({exc})") from None
    names = [source[i].name for i in range(source.layer_count)]
    if name is None and len(names) != 1:
        raise ReadError(
            f"{path.name} has layers {', '.join(names)}: choose one with --sheet"
        )
    if name is not None and name not in names:
        raise ReadError(
            f"{path.name} has no layer {name!r} (layers: {', '.join(names)})"
        )
    layer = source[name if name is not None else 0]
    fields = list(layer.fields)
    columns = _columns(path.name, fields)
    has_geometry = layer.geom_type.name != "None"
    srid = srid or _layer_srid(layer)
    if srid is None and has_geometry and layer.num_feat:
        raise ReadError(
            f"{path.name}: layer {layer.name!r} has no coordinate reference system "
            "with an EPSG code; give it with --srid"
        )
    rows = []
    for number, feature in enumerate(layer, start=1):
        try:
            geometry: OGRGeometry | None = feature.geom
        except GDALException:  # a feature without geometry
            geometry = None
        values = {
            c: _text(feature.get(f)) for c, f in zip(columns, fields, strict=True)
        }
        rows.append(Row(number, values, geometry))
    return Table(path.name, columns, rows, is_layer=True, srid=srid)


def _layer_srid(layer: object) -> int | None:
    srs = getattr(layer, "srs", None)
    if srs is None:
        return None
    if srs.srid:
        return int(srs.srid)
    srs = srs.clone()
    try:
        srs.identify_epsg()
    except (GDALException, SRSException):
        return None
    return int(srs.srid) if srs.srid else None


def _text(value: object) -> str:
    """A cell or attribute as text: whole numbers without '.0', dates in ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
