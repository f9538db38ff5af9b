"""KoboToolbox / ODK exchange: the XLSForm, and submissions imported as assessments."""

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pyxform.xls2xform import convert

from preparedness.models import AuditEntry
from preparedness.readers import ImportRejected, ReadError
from schools.checklists import xlsform
from schools.checklists.submissions import submissions_import
from schools.models import Answer, Assessment, SchoolSafety
from tests.factories import ALL_YES, framework_document, make_framework, make_school

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/api/assessments/import/"
FORM_URL = "/checklists/xlsform.xlsx"
KHMER_NOTE = "ជណ្ដើរខាងជើងបាក់ — ត្រូវជួសជុល"

# Where each item sits in the test framework's form: its group.
GROUP = {code: code.split(".")[0].lower() for code in ALL_YES}
KOBO_META_BEFORE = ["start", "end", "today"]
KOBO_META_AFTER = [
    "meta/instanceID",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
]


@pytest.fixture
def framework(tmp_path, db):
    return make_framework(tmp_path)


@pytest.fixture
def schools(geography):
    """KPT-1 and KPT-2 in commune 070101 (official_07's province); PP-1 outside."""
    return {
        "KPT-1": make_school("KPT-1", lon=104.15, lat=10.6, commune="070101"),
        "KPT-2": make_school("KPT-2", lon=104.2, lat=10.65, commune="070101"),
        "PP-1": make_school("PP-1"),
    }


def submission(n, school="KPT-1", **answers):
    """One submission's values: ALL_YES unless `answers` says otherwise."""
    return {
        "school_code": school,
        "assessed_on": "2026-03-02",
        "assessor_name": f"Assessor {n}",
        "framework_version": "test.1",
        "notes": "",
        "uuid": f"0b1c2d3e-0000-4000-8000-{n:012d}",
        "answers": {code: str(value) for code, value in {**ALL_YES, **answers}.items()},
    }


def kobo_rows(subs):
    """KoboToolbox "XML values and headers" export: `group/name` headers."""
    header = [
        *KOBO_META_BEFORE,
        "school_code",
        "assessed_on",
        "assessor_name",
        "framework_version",
        *(f"{GROUP[code]}/{code}" for code in ALL_YES),
        "notes",
        *KOBO_META_AFTER,
    ]
    rows = []
    for i, s in enumerate(subs, start=1):
        meta = {
            "start": "2026-03-02T08:00:00.000+07:00",
            "end": "2026-03-02T08:40:00.000+07:00",
            "today": "2026-03-02",
            "meta/instanceID": f"uuid:{s['uuid']}",
            "_id": str(1000 + i),
            "_uuid": s["uuid"],
            "_submission_time": "2026-03-02T01:45:00",
            "_validation_status": "",
            "_notes": "",
            "_status": "submitted_via_web",
            "_submitted_by": "kobo_user",
            "__version__": "vAbCdEf",
            "_tags": "",
            "_index": str(i),
        }
        values = {
            **meta,
            **{k: v for k, v in s.items() if k not in ("uuid", "answers")},
            **{f"{GROUP[c]}/{c}": v for c, v in s["answers"].items()},
        }
        rows.append([values.get(h, "") for h in header])
    return header, rows


def odk_central_rows(subs):
    """ODK Central CSV export: `group-name` headers, SubmissionDate, KEY."""
    header = [
        "SubmissionDate",
        "school_code",
        "assessor_name",
        "framework_version",
        *(f"{GROUP[code]}-{code}" for code in ALL_YES),
        "notes",
        "meta-instanceID",
        "KEY",
        "SubmitterID",
        "SubmitterName",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Status",
        "ReviewState",
        "DeviceID",
        "Edits",
        "FormVersion",
    ]
    rows = []
    for s in subs:
        values = {
            "SubmissionDate": "2026-03-04T02:03:04.567Z",
            "meta-instanceID": f"uuid:{s['uuid']}",
            "KEY": f"uuid:{s['uuid']}",
            "SubmitterID": "5",
            "SubmitterName": "collect-phone-3",
            "FormVersion": "test.1",
            **{k: v for k, v in s.items() if k not in ("uuid", "answers")},
            **{f"{GROUP[c]}-{c}": v for c, v in s["answers"].items()},
        }
        rows.append([values.get(h, "") for h in header])
    return header, rows


def write_csv(path: Path, header, rows, delimiter=",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=delimiter)
        out.writerow(header)
        out.writerows(rows)
    return path


def write_xlsx(path: Path, header, rows) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(header)
    for row in rows:
        # Numbers as numbers, as KoboToolbox writes them.
        ws.append([float(v) if re.fullmatch(r"\d+(\.\d+)?", v) else v for v in row])
    book.save(path)
    return path


def kobo_csv(tmp_path, subs, name="kobo.csv", delimiter=","):
    return write_csv(tmp_path / name, *kobo_rows(subs), delimiter=delimiter)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rejected(*args) -> str:
    with pytest.raises(CommandError) as info:
        run(*args)
    assert info.value.returncode == 2
    return str(info.value)


def upload(path: Path, name: str | None = None) -> io.BytesIO:
    file = io.BytesIO(path.read_bytes())
    file.name = name or path.name
    return file


def post(client, path, **data):
    return client.post(UPLOAD_URL, {"file": upload(path), **data}, format="multipart")


# --- the XLSForm ------------------------------------------------------------------


def xform_of(framework) -> str:
    buffer = io.BytesIO()
    xlsform.xlsform_write(framework, buffer)
    warnings: list[str] = []
    result = convert(buffer.getvalue(), warnings=warnings, pretty_print=True)
    return result.xform


def test_xlsform_has_the_sheets_and_converts_with_pyxform(framework):
    """survey/choices/settings sheets that pyxform turns into an XForm with every
    item bound (required), the Khmer labels and the school code."""
    buffer = io.BytesIO()
    xlsform.xlsform_write(framework, buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["survey", "choices", "settings"]
    survey = [
        dict(zip(xlsform.SURVEY_COLUMNS, r, strict=True))
        for r in book["survey"].iter_rows(min_row=2, values_only=True)
    ]
    names = [r["name"] for r in survey]
    assert names[:4] == [
        "school_code",
        "assessed_on",
        "assessor_name",
        "framework_version",
    ]
    assert names[-1] == "notes"
    assert [r["type"] for r in survey if r["name"] == "p2"] == [
        "begin_group",
        "end_group",
    ]
    by_name = {r["name"]: r for r in survey}
    assert by_name["F.02"]["type"] == "select_one ynp"
    assert by_name["P2.01"]["type"] == "integer"
    assert by_name["P1.01"]["type"] == "decimal"
    assert by_name["P1.01"]["constraint"] == ". >= 0 and . <= 20"
    assert by_name["framework_version"]["calculation"] == "'test.1'"
    settings = list(book["settings"].iter_rows(values_only=True))
    assert settings[1] == (
        "Test checklist",
        "salasafe_cssf_test_1",
        "test.1",
        "English (en)",
    )
    choices = {
        (r[0], r[1]): r[3]
        for r in book["choices"].iter_rows(min_row=2, values_only=True)
    }
    assert choices[("ynpna", "na")] == "មិនពាក់ព័ន្ធ"
    assert choices[("yes_no", "yes")] == "បាទ/ចាស"

    xform = xform_of(framework)
    assert '<data id="salasafe_cssf_test_1" version="test.1">' in xform
    for code in ALL_YES:
        bind = re.search(
            rf'<bind nodeset="/data/{GROUP[code]}/{re.escape(code)}"'
            r'[^>]*required="true\(\)"',
            xform,
        )
        assert bind, code
    assert 'nodeset="/data/school_code" type="string" required="true()"' in xform
    assert 'constraint=". &gt;= 0 and . &lt;= 50"' in xform  # P2.01
    for khmer in (
        "បាទ/ចាស",
        "ទេ",
        "មួយផ្នែក",
        "មិនពាក់ព័ន្ធ",
        "សំណួរ P2.03?",
        "លេខកូដសាលា (EMIS)",
        "ការគ្រប់គ្រងសុវត្ថិភាពសាលា",
    ):
        assert khmer in xform
    assert '<translation lang="Khmer (km)">' in xform


def test_shipped_framework_converts_with_pyxform(tmp_path, db):
    """The 45 items of the shipped CSSF version make a valid form too."""
    run("load_framework")
    out, _ = run("export_xlsform", tmp_path / "cssf.xlsx")
    assert "Framework 2026.1" in out
    xform = convert(str(tmp_path / "cssf.xlsx")).xform
    assert (
        len(re.findall(r'<bind nodeset="/data/p\d?/', xform))
        + len(re.findall(r'<bind nodeset="/data/f/', xform))
        == 45
    )


def test_export_command_and_unknown_version(framework, tmp_path):
    doc = framework_document("test.2", published_on="2026-06-01")
    make_framework(tmp_path, doc)
    run("export_xlsform", tmp_path / "latest.xlsx")
    book = openpyxl.load_workbook(tmp_path / "latest.xlsx")
    assert book["settings"]["C2"].value == "test.2"
    run("export_xlsform", "--framework", "test.1", tmp_path / "old.xlsx")
    assert openpyxl.load_workbook(tmp_path / "old.xlsx")["settings"]["C2"].value == (
        "test.1"
    )
    message = rejected("export_xlsform", "--framework", "9.9", tmp_path / "x.xlsx")
    assert "No framework version 9.9" in message
    assert not (tmp_path / "x.xlsx").exists()


def test_form_download_is_public(client, framework):
    response = client.get(FORM_URL, {"framework": "test.1"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="salasafe-cssf-test.1.xlsx"'
    )
    assert response["Content-Type"] == xlsform.CONTENT_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["survey", "choices", "settings"]
    assert client.get(FORM_URL).status_code == 200  # latest
    assert client.get(FORM_URL, {"framework": "nope"}).status_code == 404


# --- imports ----------------------------------------------------------------------


def test_kobo_csv_creates_submitted_scored_assessments(framework, schools, tmp_path):
    """A KoboToolbox CSV (group/name headers, metadata columns) becomes submitted,
    scored, audited assessments; Khmer notes round-trip."""
    subs = [
        {**submission(1), "notes": KHMER_NOTE, "assessor_name": "សុខ ចាន់"},
        submission(2, school="KPT-2", **{"P2.01": 0, "F.02": "partial"}),
    ]
    out, err = run("import_submissions", kobo_csv(tmp_path, subs))
    assert "kobo.csv: read 2, created 2, already imported 0, rejected 0" in out
    assert not err
    first = Assessment.objects.get(submission_uuid=subs[0]["uuid"])
    assert first.status == Assessment.Status.SUBMITTED
    assert first.source == Assessment.Source.KOBO
    assert first.submitted_at is not None
    assert first.notes == KHMER_NOTE
    assert first.assessor_name == "សុខ ចាន់"
    assert first.assessor is None
    assert str(first.assessed_on) == "2026-03-02"
    assert first.framework == framework
    assert (first.score, first.grade, first.critical_gaps) == (100.0, "good", [])
    assert first.context == {"hazard_levels": {}, "evacuation_centre": False}
    assert first.answers.count() == 8
    second = Assessment.objects.get(submission_uuid=subs[1]["uuid"])
    assert second.critical_gaps == ["P2.01"]
    assert second.grade == "needs_improvement"
    # F: (2 + 1.5) / 5; P2: (0 + 3 + 2) / 8 -> rounded as the services do
    assert second.area_scores["F"] == 70.0
    assert second.area_scores["P2"] == 62.5
    assert second.score == round((70 + 100 + 62.5 + 100) / 4, 1)
    answers = dict(second.answers.values_list("item__code", "number"))
    assert answers["P2.01"] == 0.0
    assert second.answers.get(item__code="F.02").choice == "partial"
    assert SchoolSafety.objects.get(school=schools["KPT-2"]).assessment == second
    entries = AuditEntry.objects.filter(subject_type="assessment", action="imported")
    assert entries.count() == 2
    entry = entries.get(subject_id=str(first.pk))
    assert entry.actor_name == "import: kobo.csv"
    assert entry.changes["F.01"] == [None, "yes"]
    assert entry.changes["P2.01"] == [None, 2.0]


def test_odk_central_csv_with_semicolons(framework, schools, tmp_path):
    """ODK Central headers (p2-P2.01, meta-instanceID, KEY), `;` delimiter and the
    date from SubmissionDate when there is no assessed_on column."""
    subs = [submission(1, **{"P1.01": "0,5"}), submission(2, school="KPT-2")]
    header, rows = odk_central_rows(subs)
    path = write_csv(tmp_path / "central.csv", header, rows, delimiter=";")
    out, _ = run("import_submissions", path, "--framework", "test.1")
    assert "read 2, created 2, already imported 0, rejected 0" in out
    first = Assessment.objects.get(submission_uuid=subs[0]["uuid"])
    assert str(first.assessed_on) == "2026-03-04"
    assert first.answers.get(item__code="P1.01").number == 0.5
    assert first.assessor_name == "Assessor 1"


def test_xlsx_export_with_number_cells(framework, schools, tmp_path):
    subs = [{**submission(1), "notes": KHMER_NOTE}, submission(2)]
    path = write_xlsx(tmp_path / "kobo.xlsx", *kobo_rows(subs))
    out, _ = run("import_submissions", path)
    assert "read 2, created 2" in out
    assert Assessment.objects.get(submission_uuid=subs[0]["uuid"]).notes == KHMER_NOTE
    assert set(
        Answer.objects.filter(item__code="P2.01").values_list("number", flat=True)
    ) == {2.0}


def test_reimport_of_a_cumulative_export_is_idempotent(framework, schools, tmp_path):
    subs = [submission(1), submission(2, school="KPT-2")]
    out, _ = run("import_submissions", kobo_csv(tmp_path, subs))
    assert "read 2, created 2, already imported 0" in out
    # The next export holds the same two and a new one.
    subs.append(submission(3))
    out, _ = run("import_submissions", kobo_csv(tmp_path, subs))
    assert "read 3, created 1, already imported 2, rejected 0" in out
    out, _ = run("import_submissions", kobo_csv(tmp_path, subs))
    assert "read 3, created 0, already imported 3, rejected 0" in out
    assert Assessment.objects.count() == 3
    assert AuditEntry.objects.filter(action="imported").count() == 3


def test_bad_rows_are_reported_by_row_and_nothing_is_written(
    framework, schools, tmp_path
):
    """Rows as numbered in the file (header = row 1), with field and reason."""
    subs = [
        submission(1),
        submission(2, school="NOPE-9"),
        submission(3, **{"F.01": "partial"}),
        submission(4, **{"P2.01": "51"}),
        submission(5, **{"P3.01": ""}),
        {**submission(6), "assessed_on": "02/03/2026"},
        {**submission(7), "assessed_on": "2999-01-01"},
        {**submission(8), "uuid": submission(1)["uuid"]},
        {**submission(9), "framework_version": "test.0"},
        submission(10, **{"F.01": "na"}),
    ]
    path = kobo_csv(tmp_path, subs)
    with pytest.raises(ImportRejected) as info:
        submissions_import(path=path)
    got = {(e.row, e.field): e.reason for e in info.value.errors}
    assert got[(3, "school_code")] == "No school has the code NOPE-9."
    assert "'partial' is not an answer here" in got[(4, "f/f.01")]
    assert got[(5, "p2/p2.01")] == "Give a number from 0 to 50."
    assert "required" in got[(6, "p3/p3.01")]
    assert "not a date" in got[(7, "assessed_on")]
    assert "future" in got[(8, "assessed_on")]
    assert "also in row 2" in got[(9, "_uuid")]
    assert "framework version test.0" in got[(10, "framework_version")]
    assert "not applicable" in got[(11, "f/f.01")]
    assert not any(e.row == 2 for e in info.value.errors)
    assert info.value.read == 10
    assert not Assessment.objects.exists()
    assert not Answer.objects.exists()
    assert not AuditEntry.objects.exists()

    message = rejected("import_submissions", path, "--all-or-nothing")
    assert "9 of 10 rows rejected; nothing was written" in message
    assert "row 3 (school_code): No school has the code NOPE-9." in message
    assert not Assessment.objects.exists()


def test_skip_bad_rows_imports_the_good_ones_and_writes_a_report(
    framework, schools, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    subs = [submission(1), submission(2, school="NOPE-9"), submission(3)]
    path = kobo_csv(tmp_path, subs, name="week.csv")
    out, err = run("import_submissions", path, "--skip-bad-rows")
    assert "read 3, created 2, already imported 0, rejected 1" in out
    assert "row 3 (school_code)" in err
    report = tmp_path / "week-rejected.csv"
    lines = list(csv.DictReader(report.open(encoding="utf-8")))
    assert lines == [
        {
            "row": "3",
            "code": "NOPE-9",
            "field": "school_code",
            "reason": "No school has the code NOPE-9.",
        }
    ]
    assert set(Assessment.objects.values_list("submission_uuid", flat=True)) == {
        subs[0]["uuid"],
        subs[2]["uuid"],
    }
    # Fixed in Kobo and exported again: only the fixed row is new.
    subs[1]["school_code"] = "KPT-2"
    path = kobo_csv(tmp_path, subs, name="week.csv")
    out, _ = run("import_submissions", path, "--report", tmp_path / "r.csv")
    assert "read 3, created 1, already imported 2, rejected 0" in out


def test_submission_id_falls_back_to_the_instance_id(framework, schools, tmp_path):
    """A blank _uuid is read from meta/instanceID; a row with no id is refused."""
    header, rows = kobo_rows([submission(1), submission(2)])
    uuid, instance = header.index("_uuid"), header.index("meta/instanceID")
    rows[0][uuid] = ""
    rows[1][uuid] = rows[1][instance] = ""
    path = write_csv(tmp_path / "kobo.csv", header, rows)
    with pytest.raises(ImportRejected) as info:
        submissions_import(path=path)
    assert [(e.row, e.field, e.reason) for e in info.value.errors] == [
        (3, "_uuid", "The submission id is missing.")
    ]
    result = submissions_import(path=path, skip_bad_rows=True)
    assert result.created == 1
    assert Assessment.objects.get().submission_uuid == submission(1)["uuid"]


def rename(old, new):
    return lambda row: {new if k == old else k: v for k, v in row.items()}


def drop(*names):
    return lambda row: {k: v for k, v in row.items() if k not in names}


@pytest.mark.parametrize(
    "change, message",
    [
        (rename("f/F.01", "f/P9.99"), "column f/p9.99 is not an item"),
        (drop("_uuid", "meta/instanceID"), "no submission id column"),
        (drop("p3/P3.01"), "no column for items P3.01"),
        (drop("school_code"), "no school_code column"),
        (rename("notes", "p3-notes"), "both give notes"),
    ],
)
def test_whole_file_errors_name_the_column(
    framework, schools, tmp_path, change, message
):
    header, rows = kobo_rows([submission(1)])
    row = change(dict(zip(header, rows[0], strict=True)))
    if "p3-notes" in row:
        row["notes"] = "twice"
    path = write_csv(tmp_path / "kobo.csv", list(row), [list(row.values())])
    with pytest.raises(ReadError) as info:
        submissions_import(path=path)
    assert message in str(info.value)
    assert message in rejected("import_submissions", path)
    assert not Assessment.objects.exists()


def test_unknown_framework_version_exits_2(framework, schools, tmp_path):
    message = rejected(
        "import_submissions", kobo_csv(tmp_path, [submission(1)]), "--framework", "9.9"
    )
    assert "No framework version 9.9" in message


def test_queries_do_not_grow_with_rows(
    framework, schools, tmp_path, users, django_assert_max_num_queries
):
    """A few queries per import (with the uploader's area check), 3 rows or 30."""

    def export(n: int, name: str) -> Path:
        subs = [
            submission(i + 100 * n, school=("KPT-1", "KPT-2")[i % 2]) for i in range(n)
        ]
        return kobo_csv(tmp_path, subs, name=name)

    def official():
        # A fresh user object: its role and areas are read once in each import.
        return type(users["official_07"]).objects.get(username="official_07")

    few, many = export(3, "few.csv"), export(30, "many.csv")
    user = official()
    with CaptureQueriesContext(connection) as ctx:
        assert submissions_import(path=few, by=user).created == 3
    # Reading, checking, writing, the current-state refresh and the risk
    # recompute of the schools concerned: a fixed number, whatever the rows.
    assert len(ctx.captured_queries) <= 30
    user = official()
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert submissions_import(path=many, by=user).created == 30


# --- the upload API ---------------------------------------------------------------


def test_official_uploads_an_export(api_as, framework, schools, tmp_path):
    path = kobo_csv(tmp_path, [submission(1), submission(2, school="KPT-2")])
    response = post(api_as("official_07"), path)
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "read": 2,
        "created": 2,
        "skipped_existing": 0,
        "rejected": 0,
        "rows": [],
    }
    entry = AuditEntry.objects.filter(action="imported").first()
    assert entry.actor_name == "official_07"
    assert "kobo.csv row 2" in entry.note or "kobo.csv row 3" in entry.note
    again = post(api_as("official_07"), path).json()
    assert (again["created"], again["skipped_existing"]) == (0, 2)


def test_upload_rows_outside_the_area_are_refused(api_as, framework, schools, tmp_path):
    path = kobo_csv(tmp_path, [submission(1), submission(2, school="PP-1")])
    response = post(api_as("official_07"), path)
    assert response.status_code == 400
    body = response.json()
    assert "1 of 2 rows rejected" in body["file"][0]
    assert body["rows"] == [
        {
            "row": 3,
            "field": "school_code",
            "code": "PP-1",
            "reason": "You may not change checklists of schools in this area.",
        }
    ]
    assert not Assessment.objects.exists()
    # An administrator covers every area.
    assert post(api_as("admin"), path).json()["created"] == 2


def test_upload_with_skip_bad_rows_lists_the_bad_ones(
    api_as, framework, schools, tmp_path
):
    path = kobo_csv(tmp_path, [submission(1), submission(2, **{"F.01": "maybe"})])
    response = post(api_as("official_07"), path, skip_bad_rows="true")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["rows"][0]["row"] == 3
    assert body["rows"][0]["field"] == "f/f.01"


@pytest.mark.parametrize("role", ["planner", "coordinator"])
def test_other_roles_may_not_upload(api_as, framework, schools, tmp_path, role):
    response = post(api_as(role), kobo_csv(tmp_path, [submission(1)]))
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_anonymous_may_not_upload(api, framework, schools, tmp_path):
    assert post(api, kobo_csv(tmp_path, [submission(1)])).status_code in (401, 403)


def test_upload_refuses_other_files_and_big_ones(
    api_as, framework, schools, tmp_path, monkeypatch
):
    client = api_as("official_07")
    path = kobo_csv(tmp_path, [submission(1)])
    response = client.post(
        UPLOAD_URL, {"file": upload(path, "kobo.txt")}, format="multipart"
    )
    assert response.status_code == 400
    assert ".csv or .xlsx" in response.json()["file"][0]
    monkeypatch.setattr("schools.checklists.kobo_views.UPLOAD_MAX_BYTES", 100)
    response = post(client, path)
    assert response.status_code == 400
    assert "larger than" in response.json()["file"][0]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    monkeypatch.undo()
    response = post(client, broken)
    assert response.status_code == 400
    assert "broken.xlsx: not a readable XLSX workbook" in response.json()["file"][0]
    response = post(client, path, framework="9.9")
    assert response.status_code == 400
    assert "No framework version 9.9" in response.json()["framework"][0]
    assert not Assessment.objects.exists()


# --- round trip -------------------------------------------------------------------


def test_form_round_trip(framework, schools, tmp_path):
    """An export whose headers are the XForm's own paths (as KoboToolbox writes
    them) imports back: the form and the import agree on every name."""
    xform = xform_of(framework)
    paths = re.findall(r'<bind nodeset="/data/([^"]+)"', xform)
    assert "meta/instanceID" in paths
    values = {
        "school_code": "KPT-1",
        "assessed_on": "2026-03-02",
        "assessor_name": "Dara",
        "framework_version": "test.1",
        "notes": KHMER_NOTE,
        "meta/instanceID": "uuid:round-trip-1",
    }
    row = [values.get(p, str(ALL_YES.get(p.split("/")[-1], ""))) for p in paths]
    path = write_csv(tmp_path / "roundtrip.csv", paths, [row])
    out, _ = run("import_submissions", path)
    assert "read 1, created 1" in out
    assessment = Assessment.objects.get(submission_uuid="round-trip-1")
    assert assessment.score == 100.0
    assert assessment.notes == KHMER_NOTE
    assert assessment.answers.count() == len(ALL_YES)


def test_the_upload_page_imports_and_lists_bad_rows(
    client, users, framework, schools, tmp_path
):
    client.force_login(users["official_07"])
    good = kobo_csv(tmp_path, [submission(1), submission(2, school="KPT-2")])
    response = client.post("/checklists/import/", {"file": upload(good)})
    assert response.status_code == 200
    assert "2 rows read, 2 assessments created, 0 already imported." in (
        response.content.decode()
    )
    bad = kobo_csv(
        tmp_path, [submission(3), submission(4, school="NOPE")], name="bad.csv"
    )
    response = client.post("/checklists/import/", {"file": upload(bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 of 2 rows rejected; nothing was written." in page
    assert "<td>3</td><td>NOPE</td>" in page  # row 3 of the file: header is row 1
    assert Assessment.objects.count() == 2
    client.force_login(users["planner"])
    assert client.get("/checklists/import/").status_code == 403
