"""Backups: the PostGIS database (pg_dump) and the media files in one tar.

`backup_write` writes `<timestamp>.tar` holding `manifest.json`,
`database.dump` (pg_dump's custom format, without owners or privileges, so it
restores under another role) and `media/`. `backup_restore` checks every
member before anything is written (no absolute paths, no `..`, no links, known
names only), restores the dump in one transaction and swaps the media folder
in whole, so a bad or interrupted restore leaves the old data in place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from django.utils import timezone

DUMP = "database.dump"
MANIFEST = "manifest.json"
MEDIA = "media"
FORMAT = 1


class BackupError(Exception):
    """A backup that cannot be written or restored; the message says why."""


def libpq_env(database: Mapping[str, Any]) -> dict[str, str]:
    """Environment for pg_dump/pg_restore from a Django DATABASES entry."""
    env = dict(os.environ)
    for key, name in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if database.get(key):
            env[name] = str(database[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def backup_write(
    out_dir: Path, *, database: Mapping[str, Any], media_root: Path
) -> Path:
    """Write a backup into `out_dir` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    final = out_dir / f"{stamp}.tar"
    partial = out_dir / f".{stamp}.tar.part"
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / DUMP
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "-f",
                str(dump),
            ],
            libpq_env(database),
        )
        manifest = Path(tmp) / MANIFEST
        media_files = (
            [p for p in media_root.rglob("*") if p.is_file()]
            if media_root.exists()
            else []
        )
        manifest.write_text(
            json.dumps(
                {
                    "format": FORMAT,
                    "created_at": timezone.now().isoformat(),
                    "database": database.get("NAME"),
                    "media_files": len(media_files),
                }
            )
        )
        try:
            with tarfile.open(partial, "w") as tar:
                tar.add(manifest, arcname=MANIFEST)
                tar.add(dump, arcname=DUMP)
                for path in media_files:
                    tar.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root)}")
            partial.rename(final)  # a crash leaves a .part, never a broken .tar
        finally:
            partial.unlink(missing_ok=True)
    return final


def _checked_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    names = set()
    for member in members:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise BackupError(f"unsafe path in the backup: {member.name}")
        if not (member.isfile() or member.isdir()):
            raise BackupError(f"links and devices are not restored: {member.name}")
        if path.parts[0] not in (MANIFEST, DUMP, MEDIA):
            raise BackupError(f"not a SalaSafe backup member: {member.name}")
        names.add(path.parts[0])
    if not {MANIFEST, DUMP} <= names:
        raise BackupError(
            "not a SalaSafe backup: manifest.json or database.dump missing"
        )
    return members


def backup_restore(
    path: Path, *, database: Mapping[str, Any], media_root: Path
) -> dict[str, Any]:
    """Restore a backup into `database` and `media_root`; return its manifest."""
    try:
        tar = tarfile.open(path, "r:")  # noqa: SIM115  (closed by the `with` below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{path}: not a readable tar file ({exc})") from None
    with tar, tempfile.TemporaryDirectory() as tmp:
        members = _checked_members(tar)
        tar.extractall(tmp, members=members, filter="data")
        manifest = json.loads((Path(tmp) / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "-d",
                str(database.get("NAME")),
                str(Path(tmp) / DUMP),
            ],
            libpq_env(database),
        )
        restored = Path(tmp) / MEDIA
        if not restored.exists():
            restored.mkdir()
        media_root.parent.mkdir(parents=True, exist_ok=True)
        old = media_root.with_name(media_root.name + ".before-restore")
        shutil.rmtree(old, ignore_errors=True)
        if media_root.exists():
            media_root.rename(old)
        shutil.move(str(restored), str(media_root))
        shutil.rmtree(old, ignore_errors=True)
    return manifest
