"""Backups: a backup restored into a fresh database holds the same data (Khmer
names, geometries, audit) and media files; a bad archive is refused whole."""

import io
import subprocess
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from preparedness.backup import BackupError, backup_restore, backup_write, libpq_env
from preparedness.models import AuditEntry
from tests.factories import make_geography, make_school

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_connection():
    env = libpq_env(settings.DATABASES["default"])
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ), env


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    admin, _env = _admin_connection()
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield {**settings.DATABASES["default"], "NAME": name}
    admin, _env = _admin_connection()
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _query(database, sql):
    env = libpq_env(database)
    out = subprocess.run(
        ["psql", "-tA", "-c", sql], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_a_backup_restores_the_same_data_into_a_fresh_database(
    tmp_path, fresh_database
):
    make_geography()
    make_school("KH-1", lon=104.92, lat=11.56, name_km="សាលាបឋមសិក្សាទន្លេបាសាក់")
    AuditEntry.objects.create(
        at="2026-11-01T00:00:00Z",
        actor_name="official_07",
        subject_type="school",
        subject_id="KH-1",
        action="changed",
        changes={"name_km": [None, "សាលា"]},
    )
    media = tmp_path / "media"
    (media / "evidence").mkdir(parents=True)
    (media / "evidence" / "photo.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    path = backup_write(
        tmp_path / "backups",
        database=connection.settings_dict,
        media_root=media,
    )
    assert path.suffix == ".tar" and path.parent.name == "backups"

    restored_media = tmp_path / "restored-media"
    manifest = backup_restore(path, database=fresh_database, media_root=restored_media)
    assert manifest["media_files"] == 1
    assert (
        _query(
            fresh_database,
            "SELECT name_km || ' ' || ST_AsText(location) FROM schools_school",
        )
        == "សាលាបឋមសិក្សាទន្លេបាសាក់ POINT(104.92 11.56)"
    )
    assert (
        _query(
            fresh_database,
            "SELECT count(*) || ' ' || ST_AsText(ST_Envelope(ST_Union(boundary))) "
            "FROM preparedness_adminarea WHERE level = 'province'",
        )
        == "3 POLYGON((103.9 10.4,103.9 11.7,105.2 11.7,105.2 10.4,103.9 10.4))"
    )
    assert _query(
        fresh_database, "SELECT changes->>'name_km' FROM preparedness_auditentry"
    ) == ('[null, "សាលា"]')
    assert (restored_media / "evidence" / "photo.jpg").read_bytes() == (
        b"\xff\xd8 not really a jpeg"
    )


def _tar_with(path: Path, name: str) -> Path:
    with tarfile.open(path, "w") as tar:
        for member in ("manifest.json", "database.dump", name):
            info = tarfile.TarInfo(member)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
    return path


@pytest.mark.parametrize(
    "member, words",
    [("../evil.txt", "unsafe path"), ("/etc/evil", "unsafe path"), ("other", "not a")],
)
def test_a_bad_archive_is_refused_and_nothing_is_touched(
    tmp_path, fresh_database, member, words
):
    media = tmp_path / "media"
    media.mkdir()
    (media / "keep.txt").write_text("still here")
    with pytest.raises(BackupError, match=words):
        backup_restore(
            _tar_with(tmp_path / "bad.tar", member),
            database=fresh_database,
            media_root=media,
        )
    assert (media / "keep.txt").read_text() == "still here"
    assert not (tmp_path / "evil.txt").exists()
    assert (
        _query(
            fresh_database, "SELECT count(*) FROM pg_tables WHERE schemaname='public'"
        )
        == "0"
    )


def test_the_restore_command_asks_for_confirmation_and_exits_2(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(tmp_path / "x.tar"))
    assert refused.value.returncode == 2 and "--yes" in str(refused.value)
    not_tar = tmp_path / "x.tar"
    not_tar.write_text("hello")
    with pytest.raises(CommandError) as bad:
        call_command("restore", str(not_tar), "--yes")
    assert bad.value.returncode == 2 and "not a readable tar" in str(bad.value)
