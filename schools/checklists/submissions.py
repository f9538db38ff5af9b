"""Import KoboToolbox / ODK Central submissions of the checklist XLSForm.

A submissions export (CSV with `,` or `;`, or XLSX) becomes submitted
assessments, in one transaction and with a few queries whatever its length:

- Headers are matched case-insensitively; group paths are stripped, whether
  KoboToolbox's `p2/P2.04` or ODK Central's `p2-P2.04`, so the column names the
  item `P2.04`. Kobo/ODK metadata columns (`_id`, `start`, `__version__`, ...)
  are ignored, but a column that looks like an item code and is not an item of
  the framework version refuses the whole file.
- Each submission is keyed by its `_uuid` (KoboToolbox) or `instanceID` /
  `meta/instanceID` / `KEY` (ODK), without a leading `uuid:`. A submission
  already imported is skipped, so importing a cumulative export again only adds
  the new submissions.
- A bad row (unknown school, school outside the uploader's areas, invalid or
  missing answer, bad date, duplicate submission id, other framework version)
  is reported by its row number in the file, the field and the reason. Unless
  `skip_bad_rows`, any bad row writes nothing (`ImportRejected`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from preparedness.access import may_edit_in_area
from preparedness.audit import Change, audit
from preparedness.readers import (
    ImportRejected,
    InputError,
    ReadError,
    Row,
    RowError,
    Table,
    read_table,
)
from schools.checklists.answers import parse_answer
from schools.checklists.framework import Framework
from schools.checklists.scoring import AnswerValue, score
from schools.checklists.selectors import (
    AUDIT_SUBJECT,
    User,
    framework_get,
    framework_rules,
)
from schools.checklists.services import school_context, school_safety_refresh
from schools.checklists.xlsform import (
    ASSESSED_ON,
    ASSESSOR_NAME,
    FRAMEWORK_VERSION,
    NOTES,
    SCHOOL_CODE,
)
from schools.models import Answer, Assessment, SafetyFramework, School

# Columns read besides the items, each from the first of its columns present
# (names after the group path is stripped, lower-case).
ID_COLUMNS = ("_uuid", "instanceid", "key")
DATE_COLUMNS = (ASSESSED_ON, "today", "_submission_time", "submissiondate")
ASSESSOR_COLUMNS = (ASSESSOR_NAME, "username", "_submitted_by")
OWN_COLUMNS = frozenset(
    {
        SCHOOL_CODE,
        NOTES,
        FRAMEWORK_VERSION,
        *ID_COLUMNS,
        *DATE_COLUMNS,
        *ASSESSOR_COLUMNS,
    }
)
# An item code as a header, e.g. "p2.04" (headers arrive lower-case).
ITEM_LIKE = re.compile(r"^[a-z][a-z0-9]*\.\d{2}$")
DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}")
BATCH = 2000  # rows per INSERT
MAX_ID = Assessment._meta.get_field("submission_uuid").max_length or 64
MAX_ASSESSOR = Assessment._meta.get_field("assessor_name").max_length or 150
# Two imports queue on this lock rather than race to create the same submission.
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('schools.submissions'))"


class FrameworkUnknown(InputError):
    """The framework version asked for is not loaded."""

    field = "framework"


@dataclass(frozen=True)
class SubmissionImportResult:
    """What an import did: rows read, assessments created, submissions skipped."""

    read: int
    created: int
    skipped_existing: int
    rejected: list[RowError] = field(default_factory=list)
    assessment_ids: list[int] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class _Columns:
    """Which column of the file holds each field (None when absent)."""

    submission_id: str  # the first id column; others fill in its blanks
    submission_ids: tuple[str, ...]
    school_code: str
    items: dict[str, str]  # item code -> column
    dates: tuple[str, ...]
    assessors: tuple[str, ...]
    notes: str | None
    framework_version: str | None


@dataclass
class _Clean:
    row: int
    submission_id: str
    school: School
    assessed_on: dt.date
    assessor_name: str
    notes: str
    answers: dict[str, AnswerValue]


def framework_for_import(version: str | None) -> SafetyFramework:
    """The framework version asked for (latest by default), or a clear refusal."""
    try:
        return framework_get(version)
    except Http404:
        if version:
            raise FrameworkUnknown(
                _("No framework version %(version)s is loaded.") % {"version": version}
            ) from None
        raise FrameworkUnknown(
            _("No safety framework is loaded; run `manage.py load_framework`.")
        ) from None


@transaction.atomic
def submissions_import(
    *,
    path: Path | str,
    by: User = None,
    framework_version: str | None = None,
    skip_bad_rows: bool = False,
    filename: str | None = None,
) -> SubmissionImportResult:
    """Create submitted assessments from a KoboToolbox / ODK Central export.

    `by` (an uploader) may only import schools of their areas; None is the
    command line. `filename` names the file in the audit trail (default: the
    name of `path`). Raises `ImportRejected` if a row is bad and not
    `skip_bad_rows`, `InputError` if the file as a whole cannot be read.
    """
    framework = framework_for_import(framework_version)
    rules = framework_rules(framework)
    table = read_table(path)
    columns = _columns(table, rules)
    with connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)
    errors: list[RowError] = []
    ids = [_submission_id(row, columns) for row in table.rows]
    existing = _existing_ids({i for i in ids if i})
    codes = {row.values.get(columns.school_code, "").strip() for row in table.rows}
    schools = {
        s.code: s
        for s in School.objects.filter(code__in=codes - {""}).only(
            "id", "code", "commune_id", "hazard_levels", "evacuation_centre"
        )
    }
    today = timezone.localdate()
    seen: dict[str, int] = {}
    clean: list[_Clean] = []
    skipped = 0
    for row, submission_id in zip(table.rows, ids, strict=True):
        if submission_id and submission_id in existing:
            skipped += 1
            continue
        checked = _check_row(
            row,
            submission_id,
            columns=columns,
            rules=rules,
            schools=schools,
            seen=seen,
            today=today,
            by=by,
        )
        if isinstance(checked, _Clean):
            clean.append(checked)
        else:
            errors.extend(checked)
    if errors and not skip_bad_rows:
        raise ImportRejected(errors, read=len(table.rows))
    name = filename or Path(path).name
    created = _create(clean, framework=framework, rules=rules, by=by, name=name)
    return SubmissionImportResult(
        read=len(table.rows),
        created=len(created),
        skipped_existing=skipped,
        rejected=errors,
        assessment_ids=[a.pk for a in created],
    )


# ---------------------------------------------------------------- columns


def field_name(header: str) -> str:
    """A header without its group path: `p2/p2.04` and `p2-p2.04` -> `p2.04`."""
    return re.split(r"[/-]", header.strip().lower())[-1]


def _columns(table: Table, rules: Framework) -> _Columns:
    item_codes = {code.lower(): code for code in rules.items}
    read = {*item_codes, *OWN_COLUMNS}
    by_name: dict[str, str] = {}
    for column in table.columns:
        name = field_name(column)
        if name in by_name and name in read:
            # Other columns (Kobo/ODK metadata, ...) may share a name: unread.
            raise ReadError(
                _("%(file)s: columns %(a)s and %(b)s both give %(name)s.")
                % {"file": table.name, "a": by_name[name], "b": column, "name": name}
            )
        by_name.setdefault(name, column)
    items: dict[str, str] = {}
    unknown: list[str] = []
    for name, column in by_name.items():
        if name in item_codes:
            items[item_codes[name]] = column
        elif ITEM_LIKE.match(name):
            unknown.append(column)
    if unknown:
        raise ReadError(
            _(
                "%(file)s: column %(columns)s is not an item of framework version "
                "%(version)s; import the file with the version of its form."
            )
            % {
                "file": table.name,
                "columns": ", ".join(unknown),
                "version": rules.version,
            }
        )
    absent = [code for code in rules.items if code not in items]
    if absent:
        raise ReadError(
            _(
                "%(file)s has no column for items %(codes)s of framework version "
                "%(version)s; export the submissions of the form of this version."
            )
            % {"file": table.name, "codes": ", ".join(absent), "version": rules.version}
        )
    if SCHOOL_CODE not in by_name:
        raise ReadError(
            _("%(file)s has no %(column)s column.")
            % {"file": table.name, "column": SCHOOL_CODE}
        )
    submission_ids = tuple(by_name[c] for c in ID_COLUMNS if c in by_name)
    if not submission_ids:
        raise ReadError(
            _(
                "%(file)s has no submission id column (_uuid, instanceID or KEY); "
                "export it with the submission metadata."
            )
            % {"file": table.name}
        )
    return _Columns(
        submission_id=submission_ids[0],
        submission_ids=submission_ids,
        school_code=by_name[SCHOOL_CODE],
        items=items,
        dates=tuple(by_name[c] for c in DATE_COLUMNS if c in by_name),
        assessors=tuple(by_name[c] for c in ASSESSOR_COLUMNS if c in by_name),
        notes=by_name.get(NOTES),
        framework_version=by_name.get(FRAMEWORK_VERSION),
    )


def _submission_id(row: Row, columns: _Columns) -> str:
    """The row's id from the first id column with a value, without `uuid:`."""
    for column in columns.submission_ids:
        value = row.values.get(column, "").strip()
        if value.lower().startswith("uuid:"):
            value = value[5:].strip()
        if value:
            return value
    return ""


def _existing_ids(ids: Iterable[str]) -> set[str]:
    wanted = sorted(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 10_000):
        batch = wanted[start : start + 10_000]
        found.update(
            uuid
            for uuid in Assessment.objects.filter(
                submission_uuid__in=batch
            ).values_list("submission_uuid", flat=True)
            if uuid
        )
    return found


# ---------------------------------------------------------------- rows


def _check_row(
    row: Row,
    submission_id: str,
    *,
    columns: _Columns,
    rules: Framework,
    schools: Mapping[str, School],
    seen: dict[str, int],
    today: dt.date,
    by: User,
) -> _Clean | list[RowError]:
    """The clean values of one row, or why it is refused."""
    values = row.values
    code = values.get(columns.school_code, "").strip()
    errors: list[RowError] = []

    def refuse(field: str, reason: str) -> None:
        errors.append(RowError(row.number, field, reason, code))

    if not submission_id:
        refuse(columns.submission_id, _("The submission id is missing."))
    elif len(submission_id) > MAX_ID:
        refuse(
            columns.submission_id,
            _("The submission id is longer than %(n)d characters.") % {"n": MAX_ID},
        )
    elif submission_id in seen:
        refuse(
            columns.submission_id,
            _("Submission %(id)s is also in row %(row)d.")
            % {"id": submission_id, "row": seen[submission_id]},
        )
    else:
        seen[submission_id] = row.number

    school = schools.get(code)
    if not code:
        refuse(columns.school_code, _("The school code is missing."))
    elif school is None:
        refuse(
            columns.school_code,
            _("No school has the code %(code)s.") % {"code": code},
        )
    elif by is not None and not may_edit_in_area(by, school.commune_id):
        refuse(
            columns.school_code,
            _("You may not change checklists of schools in this area."),
        )

    version_column = columns.framework_version
    version = values.get(version_column, "").strip() if version_column else ""
    if version_column and version and version != rules.version:
        refuse(
            version_column,
            _(
                "This submission used the form of framework version %(theirs)s, "
                "not %(ours)s; import it with framework %(theirs)s."
            )
            % {"theirs": version, "ours": rules.version},
        )

    assessed_on = _date(row, columns, today, refuse)

    answers: dict[str, AnswerValue] = {}
    for item_code, column in columns.items.items():
        try:
            value = parse_answer(rules.items[item_code], values.get(column, ""))
        except ValueError as exc:
            refuse(column, str(exc))
            continue
        if value is None:
            refuse(column, _("Answer this question; it is required."))
        else:
            answers[item_code] = value

    assessor = next(
        (v for c in columns.assessors if (v := values.get(c, "").strip())), ""
    )
    if len(assessor) > MAX_ASSESSOR:
        refuse(
            columns.assessors[0],
            _("The name is longer than %(n)d characters.") % {"n": MAX_ASSESSOR},
        )
    if errors or school is None or assessed_on is None:
        return errors
    notes = values.get(columns.notes, "").strip() if columns.notes else ""
    return _Clean(
        row=row.number,
        submission_id=submission_id,
        school=school,
        assessed_on=assessed_on,
        assessor_name=assessor,
        notes=notes,
        answers=answers,
    )


def _date(
    row: Row, columns: _Columns, today: dt.date, refuse: Callable[[str, str], None]
) -> dt.date | None:
    """The date of assessment from the first date column with a value."""
    for column in columns.dates:
        text = row.values.get(column, "").strip()
        if not text:
            continue
        try:
            if not DATE_PREFIX.match(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            refuse(
                column,
                _("%(value)r is not a date (YYYY-MM-DD).") % {"value": text},
            )
            return None
        if day > today:
            refuse(column, _("The date cannot be in the future."))
            return None
        return day
    refuse(
        columns.dates[0] if columns.dates else ASSESSED_ON,
        _("The date of assessment is missing."),
    )
    return None


# ---------------------------------------------------------------- writes


def _create(
    rows: list[_Clean],
    *,
    framework: SafetyFramework,
    rules: Framework,
    by: User,
    name: str,
) -> list[Assessment]:
    """Bulk-create the assessments, their answers and audit entries."""
    if not rows:
        return []
    now = timezone.now()
    assessments = []
    for row in rows:
        context = school_context(row.school)
        result = score(rules, row.answers, context)
        assessments.append(
            Assessment(
                school=row.school,
                framework=framework,
                assessed_on=row.assessed_on,
                assessor_name=row.assessor_name,
                status=Assessment.Status.SUBMITTED,
                notes=row.notes,
                source=Assessment.Source.KOBO,
                submission_uuid=row.submission_id,
                context=context.as_json(),
                score=None if result.overall is None else round(result.overall, 1),
                area_scores={
                    code: None if value is None else round(value, 1)
                    for code, value in result.areas.items()
                },
                critical_gaps=list(result.critical_gaps),
                grade=result.grade or "",
                submitted_at=now,
            )
        )
    Assessment.objects.bulk_create(assessments, batch_size=BATCH)
    item_ids = dict(framework.items.values_list("code", "pk"))
    answers = [
        Answer(
            assessment=assessment,
            item_id=item_ids[code],
            choice="" if isinstance(value, float) else value,
            number=value if isinstance(value, float) else None,
        )
        for assessment, row in zip(assessments, rows, strict=True)
        for code, value in row.answers.items()
    ]
    Answer.objects.bulk_create(answers, batch_size=BATCH * 10)
    audit(
        by,
        [
            Change(
                AUDIT_SUBJECT,
                assessment.pk,
                "imported",
                {code: [None, value] for code, value in row.answers.items()},
                note=f"{name} row {row.row}, submission {row.submission_id}",
            )
            for assessment, row in zip(assessments, rows, strict=True)
        ],
        source=f"import: {name}",
    )
    school_safety_refresh({row.school.pk for row in rows})
    return assessments
