"""Defensive checks on uploaded and imported files, run before GDAL, rasterio or
openpyxl open them.

Every reader calls `check_file(path)` first: the content must match the suffix
(a `.tif` is a TIFF, a `.zip` a zip, a `.kml` XML with a `kml` root...), zips
are checked member by member without extracting anything (count, unsafe names,
declared sizes, compression ratio) and XML must have no DOCTYPE (so no entity
can expand or point outside). Raster readers call `check_raster_size` with the
header's size before reading a pixel. Web endpoints call `check_request_size`
before the body is parsed. The limits are the `SALASAFE_UPLOAD_LIMITS` setting.

A refusal is an `UploadRefused`; each reader re-raises it as its own input
error (`preparedness.readers.ReadError`, `hazards.errors.HazardInputError`), so
commands exit with code 2 and the API answers 400 on the field `file`.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal
from xml.parsers import expat

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

MB = 2**20
# Members smaller than this may compress by any ratio (a header of zeros).
RATIO_FROM_BYTES = MB
# The XML declaration, comments and DOCTYPE must end within this many bytes.
XML_PROLOG_BYTES = 64 * 1024
SNIFF_BYTES = 64 * 1024

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SQLITE_MAGIC = b"SQLite format 3\x00"
XML_MEMBERS = (".xml", ".rels", ".vml")

UploadKind = Literal["hazard", "aoi"]


class UploadRefused(ValueError):
    """A file refused before it is opened; the message names the file and why."""


def upload_limits() -> dict[str, int]:
    """The limits in force (`SALASAFE_UPLOAD_LIMITS`), read at call time."""
    return dict(settings.SALASAFE_UPLOAD_LIMITS)


def check_request_size(request: HttpRequest, *, kind: UploadKind) -> None:
    """Refuse a request body larger than the endpoint's upload limit (HTTP 400)
    from its Content-Length, before a byte of it is read."""
    limit_mb = upload_limits()[f"{kind}_mb"]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit_mb * MB:
        raise ValidationError(
            {"file": [_("The upload is larger than %(mb)d MB.") % {"mb": limit_mb}]}
        )


def check_file(path: Path, *, name: str | None = None) -> None:
    """Check that a file's content matches its suffix and is safe to open."""
    label = name or path.name
    suffix = path.suffix.lower()
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    if suffix in (".tif", ".tiff"):
        _expect(head.startswith(TIFF_MAGIC), label, _("GeoTIFF"))
    elif suffix in (".zip", ".xlsx"):
        _expect(
            head.startswith(ZIP_MAGIC),
            label,
            _("XLSX workbook") if suffix == ".xlsx" else _("zip file"),
        )
        names = check_zip(path, name=label)
        if suffix == ".xlsx":
            _check_zipped_xml(path, names, label)
    elif suffix == ".gpkg":
        _expect(head.startswith(SQLITE_MAGIC), label, _("GeoPackage file"))
    elif suffix in (".geojson", ".json"):
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        _expect(text.startswith(b"{"), label, _("GeoJSON file"))
    elif suffix == ".kml":
        with path.open("rb") as stream:
            root = check_xml(stream, name=label)
        _expect(root == "kml", label, _("KML file"))
    elif suffix == ".csv":
        _expect(b"\x00" not in head, label, _("CSV file"))


def check_zip(path: Path, *, name: str | None = None) -> list[str]:
    """The member names of a zip whose members are few, safely named and expand
    within the limits; nothing is extracted."""
    label = name or path.name
    limits = upload_limits()
    declared = _zip_entry_count(path, label)
    if declared > limits["zip_members"]:
        _refuse_members(label, declared, limits["zip_members"])
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused(
            _("%(name)s: not a readable zip file (%(why)s).")
            % {"name": label, "why": exc}
        ) from None
    if len(members) > limits["zip_members"]:
        _refuse_members(label, len(members), limits["zip_members"])
    total = 0
    for member in members:
        _check_member(label, member, limits["zip_ratio"])
        total += member.file_size
        if total > limits["zip_unpacked_mb"] * MB:
            raise UploadRefused(
                _("%(name)s: its members expand to more than %(mb)d MB.")
                % {"name": label, "mb": limits["zip_unpacked_mb"]}
            )
    return [member.filename for member in members]


def check_xml(stream: IO[bytes], *, name: str) -> str:
    """The local name of an XML document's root element, refusing any DOCTYPE or
    entity declaration (billion laughs, external entities) before the root."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_args: Any) -> None:
        raise UploadRefused(
            _(
                "%(name)s: XML with a DOCTYPE or entity declarations is refused "
                "(they can expand without end or read other files)."
            )
            % {"name": name}
        )

    def root(tag: str, _attributes: Any) -> None:
        raise _Root(tag.rsplit(" ", 1)[-1])

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = root
    read = 0
    try:
        while chunk := stream.read(8192):
            parser.Parse(chunk, False)
            read += len(chunk)
            if read > XML_PROLOG_BYTES:
                break
        else:
            parser.Parse(b"", True)
    except _Root as found:
        return str(found.args[0])
    except expat.ExpatError as exc:
        raise UploadRefused(
            _("%(name)s: not well-formed XML (%(why)s).")
            % {"name": name, "why": expat.ErrorString(exc.code)}
        ) from None
    raise UploadRefused(
        _("%(name)s: no XML root element in its first %(kb)d KB.")
        % {"name": name, "kb": XML_PROLOG_BYTES // 1024}
    )


def check_raster_size(*, width: int, height: int, bands: int, name: str) -> None:
    """Refuse a raster whose header declares more pixels or bands than allowed."""
    limits = upload_limits()
    if bands > limits["raster_bands"]:
        raise UploadRefused(
            _("%(name)s declares %(bands)d bands; at most %(max)d are read.")
            % {"name": name, "bands": bands, "max": limits["raster_bands"]}
        )
    if width * height > limits["raster_pixels"]:
        raise UploadRefused(
            _(
                "%(name)s declares %(width)d x %(height)d pixels, more than the "
                "%(max)d pixels a hazard raster may have."
            )
            % {
                "name": name,
                "width": width,
                "height": height,
                "max": limits["raster_pixels"],
            }
        )


class _Root(Exception):
    """The parser reached the root element: the prolog is over."""


def _expect(ok: bool, name: str, what: str) -> None:
    if not ok:
        raise UploadRefused(
            _(
                "%(name)s: not a readable %(what)s (its content does not match "
                "its name)."
            )
            % {"name": name, "what": what}
        )


def _refuse_members(name: str, count: int, limit: int) -> None:
    raise UploadRefused(
        _("%(name)s holds %(count)d members; at most %(max)d are read.")
        % {"name": name, "count": count, "max": limit}
    )


def _check_member(name: str, member: zipfile.ZipInfo, ratio: int) -> None:
    """Refuse a member with an unsafe name, a link, or an absurd expansion."""
    filename = member.filename
    parts = PurePosixPath(filename.replace("\\", "/")).parts
    unsafe = (
        filename.startswith(("/", "\\"))
        or "\\" in filename
        or "\x00" in filename
        or (len(filename) > 1 and filename[1] == ":")
        or ".." in parts
    )
    if unsafe:
        raise UploadRefused(
            _("%(name)s: member %(member)r has an unsafe path.")
            % {"name": name, "member": filename}
        )
    if member.create_system == 3 and stat.S_ISLNK(member.external_attr >> 16):
        raise UploadRefused(
            _("%(name)s: member %(member)r is a link.")
            % {"name": name, "member": filename}
        )
    expands = member.file_size / max(member.compress_size, 1)
    if member.file_size > RATIO_FROM_BYTES and expands > ratio:
        raise UploadRefused(
            _(
                "%(name)s: member %(member)r expands %(ratio)d times (at most "
                "%(max)d): a zip bomb?"
            )
            % {"name": name, "member": filename, "ratio": expands, "max": ratio}
        )


def _zip_entry_count(path: Path, name: str) -> int:
    """The entry count the zip's end record declares, read before the central
    directory is loaded (0 when there is no end record: zipfile then refuses)."""
    size = path.stat().st_size
    tail = min(size, 22 + 65535 + 20)
    with path.open("rb") as stream:
        stream.seek(size - tail)
        data = stream.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(data):
        return 0
    count = int(struct.unpack_from("<H", data, at + 10)[0])
    locator = at - 20
    if (
        count == 0xFFFF
        and locator >= 0
        and data[locator : locator + 4] == b"PK\x06\x07"
    ):
        offset = int(struct.unpack_from("<Q", data, locator + 8)[0])
        if offset + 56 > size:
            raise UploadRefused(
                _("%(name)s: not a readable zip file.") % {"name": name}
            )
        with path.open("rb") as stream:
            stream.seek(offset)
            record = stream.read(56)
        if record[:4] == b"PK\x06\x06":
            count = int(struct.unpack_from("<Q", record, 32)[0])
    return count


def _check_zipped_xml(path: Path, names: list[str], label: str) -> None:
    """Check the XML parts of an Office file (XLSX) for DOCTYPEs; only the prolog
    of each is read."""
    with zipfile.ZipFile(path) as archive:
        for member in names:
            if member.lower().endswith(XML_MEMBERS):
                with archive.open(member) as stream:
                    check_xml(stream, name=f"{label} [{member}]")
