"""`manage.py export`: the API's exports for scripts, read back with GDAL."""

from __future__ import annotations

import csv
import re
import subprocess

import pytest
from django.core.management import CommandError, call_command

from tests.maps.export_data import K1_KM, make_export_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(users):
    return make_export_data()


def ogrinfo(path, *args: str) -> str:
    return subprocess.run(
        ["ogrinfo", "-ro", "-al", *args, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_exports_a_filtered_geopackage_with_checklist_details(data, tmp_path):
    """As an administrator sees it: critical gaps included; the filters are
    the API's (two Kampot schools at high or very high risk: only K1)."""
    out = tmp_path / "kampot.gpkg"
    call_command(
        "export",
        "schools",
        "--format",
        "gpkg",
        "--out",
        str(out),
        "--province",
        "07",
        "--risk-class",
        "high,very_high",
    )
    text = ogrinfo(out)
    assert "Feature Count: 1" in ogrinfo(out, "-so")
    assert "code (String) = K1" in text
    assert f"name_km (String) = {K1_KM}" in text
    assert "critical_gaps (String) = P2.01" in text
    assert "POINT (104.151235 10.601235)" in text


@pytest.mark.parametrize("fmt", ["geojson", "kml", "csv"])
def test_every_format_reads_back_with_all_schools(data, tmp_path, fmt):
    out = tmp_path / f"schools.{fmt}"
    call_command("export", "schools", "--format", fmt, "--out", str(out))
    assert "Feature Count: 4" in ogrinfo(out, "-so")
    assert K1_KM in ogrinfo(out)


def test_sensitive_services_only_when_asked(data, tmp_path):
    out = tmp_path / "services.csv"

    def codes() -> set[str]:
        with out.open(encoding="utf-8-sig") as file:
            return {r["code"] for r in csv.DictReader(file)} - {"#service+code"}

    call_command("export", "services", "--format", "csv", "--out", str(out))
    assert codes() == {"SRV-HC"}
    call_command(
        "export",
        "services",
        "--format",
        "csv",
        "--out",
        str(out),
        "--include-sensitive",
        "--hxl",
    )
    assert codes() == {"SRV-HC", "SRV-KS", "SRV-PS"}
    assert (
        out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("#service+code,")
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["schools", "--format", "csv", "--province", "7"], "--province"),
        (["schools", "--format", "csv", "--risk-class", "awful"], "--risk-class"),
        (["schools", "--format", "csv", "--kind", "ccwc"], "--kind"),
        (["services", "--format", "kml"], "KML"),
        (["services", "--format", "csv", "--aoi", "999"], "--aoi"),
    ],
)
def test_bad_filters_exit_2_naming_the_option(data, tmp_path, args, message):
    out = tmp_path / "x.csv"
    with pytest.raises(CommandError) as raised:
        call_command("export", *args, "--out", str(out))
    assert raised.value.returncode == 2
    assert message in str(raised.value)
    assert not out.exists()


def test_the_command_exits_2_in_a_shell(tmp_path):
    """Run as a script, a bad filter is exit status 2 with the message on stderr
    (no database needed: the filter is refused first)."""
    done = subprocess.run(
        [
            ".venv/bin/python",
            "manage.py",
            "export",
            "schools",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "x.csv"),
            "--province",
            "7",
        ],
        capture_output=True,
        text=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert re.search(r"--province: Expected an NCDD code of 2 digits", done.stderr)
