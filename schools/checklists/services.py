"""Writes of checklists: frameworks, assessments, answers, evidence, current scores.

Every change goes through here so that permissions, optimistic locking, scoring
and the audit trail are applied the same way from the web form, the API and
KoboToolbox/ODK imports.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from preparedness.access import Role, access_for, account, may_edit_in_area
from preparedness.audit import Change, audit
from preparedness.errors import check_version
from schools.checklists.answers import clean_answers, missing_items
from schools.checklists.framework import (
    Framework,
    FrameworkError,
    read_framework_file,
    rules_differ,
    shipped_framework_files,
)
from schools.checklists.scoring import AnswerValue, SchoolContext, score
from schools.checklists.selectors import (
    AUDIT_SUBJECT,
    User,
    assessment_answers,
    framework_latest,
    framework_rules,
)
from schools.models import (
    Answer,
    Assessment,
    ChecklistItem,
    Evidence,
    FrameworkArea,
    SafetyFramework,
    School,
)
from schools.risk.services import risk_recompute
from schools.sql import school_safety_upsert

EVIDENCE_MAX_BYTES = 8 * 1024 * 1024
EVIDENCE_FORMATS = {"JPEG", "PNG", "WEBP"}
EVIDENCE_MAX_SIDE = 1280  # pixels: enough to read a crack or a sign on a phone


# ---------------------------------------------------------------- frameworks


@dataclass(frozen=True)
class FrameworkLoad:
    version: str
    created: bool
    wording_updated: bool


@transaction.atomic
def framework_load(path: Path | str) -> FrameworkLoad:
    """Load a framework file; a version already loaded may only change its wording."""
    rules, document = read_framework_file(path)
    existing = SafetyFramework.objects.select_for_update().filter(version=rules.version)
    framework = existing.first()
    if framework is None:
        _framework_create(rules, document)
        return FrameworkLoad(rules.version, created=True, wording_updated=False)
    if framework.document == document:
        return FrameworkLoad(rules.version, created=False, wording_updated=False)
    changed = rules_differ(framework.document, document)
    if changed:
        raise FrameworkError(
            f"version {rules.version} is already loaded with other scoring rules "
            f"({', '.join(changed[:5])}); give the changed framework a new version"
        )
    framework.title_en, framework.title_km = rules.title_en, rules.title_km
    framework.document = document
    framework.save()
    areas = {a.code: a for a in framework.areas.all()}
    for area in rules.areas:
        row = areas[area.code]
        row.name_en, row.name_km, row.km_reviewed = (
            area.name_en,
            area.name_km,
            area.km_reviewed,
        )
    FrameworkArea.objects.bulk_update(
        areas.values(), ["name_en", "name_km", "km_reviewed"]
    )
    items = list(framework.items.all())
    for item_row in items:
        item = rules.items[item_row.code]
        item_row.question_en, item_row.question_km = item.question_en, item.question_km
        item_row.help_en, item_row.help_km = item.help_en, item.help_km
        item_row.km_reviewed = item.km_reviewed
    ChecklistItem.objects.bulk_update(
        items, ["question_en", "question_km", "help_en", "help_km", "km_reviewed"]
    )
    return FrameworkLoad(rules.version, created=False, wording_updated=True)


def framework_load_shipped() -> list[FrameworkLoad]:
    """Load every framework version shipped in `schools/frameworks/`."""
    return [framework_load(path) for path in shipped_framework_files()]


def _framework_create(rules: Framework, document: dict) -> SafetyFramework:
    framework = SafetyFramework.objects.create(
        version=rules.version,
        title_en=rules.title_en,
        title_km=rules.title_km,
        published_on=dt.date.fromisoformat(rules.published_on)
        if rules.published_on
        else None,
        document=document,
    )
    order = 0
    for area_order, area in enumerate(rules.areas, start=1):
        row = FrameworkArea.objects.create(
            framework=framework,
            code=area.code,
            order=area_order,
            weight=area.weight,
            name_en=area.name_en,
            name_km=area.name_km,
            km_reviewed=area.km_reviewed,
        )
        items = []
        for item in area.items:
            order += 1
            items.append(
                ChecklistItem(
                    framework=framework,
                    area=row,
                    code=item.code,
                    order=order,
                    answer_type=item.answer_type,
                    weight=item.weight,
                    critical=item.critical is not None,
                    question_en=item.question_en,
                    question_km=item.question_km,
                    help_en=item.help_en,
                    help_km=item.help_km,
                    km_reviewed=item.km_reviewed,
                )
            )
        ChecklistItem.objects.bulk_create(items)
    return framework


# ---------------------------------------------------------------- assessments


def school_context(school: School) -> SchoolContext:
    return SchoolContext(
        hazard_levels={k: int(v) for k, v in (school.hazard_levels or {}).items()},
        evacuation_centre=school.evacuation_centre,
    )


def _require_edit(by: User, school: School) -> None:
    if not may_edit_in_area(by, school.commune_id):
        raise PermissionDenied(
            _("You may not change checklists of schools in this area.")
        )


def may_verify(by: User, assessment: Assessment) -> bool:
    """A coordinator or an official of the school's province, not the assessor."""
    access = access_for(by)
    if by is None or not by.is_authenticated or by.pk == assessment.assessor_id:
        return False
    if access.has_role(Role.COORDINATOR, Role.ADMINISTRATOR):
        return True
    return access.role == Role.EDUCATION_OFFICIAL and access.covers(
        assessment.school.commune_id[:2]
    )


def _locked(pk: int) -> Assessment:
    try:
        return (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("school", "framework")
            .get(pk=pk)
        )
    except Assessment.DoesNotExist:
        raise ValidationError({"assessment": _("No such assessment.")}) from None


def _check_version(assessment: Assessment, version: Any) -> None:
    check_version(
        assessment.version,
        version,
        _(
            "This checklist was changed by someone else since you opened it "
            "(version %(theirs)s, yours %(yours)s). Nothing was saved: reload "
            "it, check their answers, and make your changes again."
        ),
    )


@transaction.atomic
def assessment_create(
    *,
    school: School,
    by: User,
    framework: SafetyFramework | None = None,
    assessed_on: dt.date | None = None,
    answers: Mapping[str, Any] | None = None,
    comments: Mapping[str, str] | None = None,
    notes: str = "",
    source: str = Assessment.Source.WEB,
    submit: bool = False,
) -> Assessment:
    """Start an assessment of a school (a draft unless `submit`)."""
    _require_edit(by, school)
    framework = framework or framework_latest()
    today = timezone.localdate()
    assessed_on = assessed_on or today
    if assessed_on > today:
        raise ValidationError({"assessed_on": _("The date cannot be in the future.")})
    assessment = Assessment.objects.create(
        school=school,
        framework=framework,
        assessed_on=assessed_on,
        assessor=account(by),
        assessor_name=account(by).get_username() if account(by) else "",
        notes=notes,
        source=source,
        context=school_context(school).as_json(),
    )
    changes = _write_answers(assessment, answers or {}, comments or {})
    _rescore(assessment)
    assessment.save()
    audit(by, [Change(AUDIT_SUBJECT, assessment.pk, "created", changes)])
    if submit:
        return assessment_submit(
            assessment_id=assessment.pk, by=by, version=assessment.version
        )
    return assessment


@transaction.atomic
def assessment_update(
    *,
    assessment_id: int,
    by: User,
    version: Any,
    answers: Mapping[str, Any] | None = None,
    comments: Mapping[str, str] | None = None,
    notes: str | None = None,
    assessed_on: dt.date | None = None,
) -> Assessment:
    """Change answers, comments, notes or date; `version` must be the one read."""
    assessment = _locked(assessment_id)
    _require_edit(by, assessment.school)
    _check_version(assessment, version)
    changes = _write_answers(assessment, answers or {}, comments or {})
    if notes is not None and notes != assessment.notes:
        changes["notes"] = [assessment.notes, notes]
        assessment.notes = notes
    if assessed_on is not None and assessed_on != assessment.assessed_on:
        if assessed_on > timezone.localdate():
            raise ValidationError(
                {"assessed_on": _("The date cannot be in the future.")}
            )
        changes["assessed_on"] = [str(assessment.assessed_on), str(assessed_on)]
        assessment.assessed_on = assessed_on
    if not changes:
        return assessment
    if assessment.status == Assessment.Status.VERIFIED:
        # A changed answer needs a new verification.
        changes["status"] = [assessment.status, Assessment.Status.SUBMITTED]
        assessment.status = Assessment.Status.SUBMITTED
        assessment.verified_at = assessment.verified_by = None
    changes.update(_rescore(assessment))
    assessment.version += 1
    assessment.save()
    audit(by, [Change(AUDIT_SUBJECT, assessment.pk, "changed", changes)])
    if assessment.status != Assessment.Status.DRAFT:
        school_safety_refresh([assessment.school_id])
    return assessment


@transaction.atomic
def assessment_submit(*, assessment_id: int, by: User, version: Any) -> Assessment:
    """Submit a draft once every item is answered; it becomes the current one."""
    assessment = _locked(assessment_id)
    _require_edit(by, assessment.school)
    _check_version(assessment, version)
    if assessment.status != Assessment.Status.DRAFT:
        raise ValidationError({"status": _("This assessment is already submitted.")})
    rules = framework_rules(assessment.framework)
    missing = missing_items(rules, assessment_answers(assessment))
    if missing:
        raise ValidationError(
            {
                "answers": _(
                    "Answer every question before submitting; missing: %(codes)s."
                )
                % {"codes": ", ".join(missing)}
            }
        )
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.context = school_context(assessment.school).as_json()
    changes: dict[str, Any] = {"status": [Assessment.Status.DRAFT, assessment.status]}
    changes.update(_rescore(assessment))
    assessment.version += 1
    assessment.save()
    audit(by, [Change(AUDIT_SUBJECT, assessment.pk, "submitted", changes)])
    school_safety_refresh([assessment.school_id])
    return assessment


@transaction.atomic
def assessment_verify(*, assessment_id: int, by: User, version: Any) -> Assessment:
    """Verify a submitted assessment (not by its assessor)."""
    assessment = _locked(assessment_id)
    if not may_verify(by, assessment):
        raise PermissionDenied(
            _(
                "A coordinator or an official of the school's province, other than "
                "the assessor, verifies an assessment."
            )
        )
    _check_version(assessment, version)
    if assessment.status != Assessment.Status.SUBMITTED:
        raise ValidationError(
            {"status": _("Only a submitted assessment can be verified.")}
        )
    assessment.status = Assessment.Status.VERIFIED
    assessment.verified_at = timezone.now()
    assessment.verified_by = account(by)
    assessment.version += 1
    assessment.save()
    audit(
        by,
        [
            Change(
                AUDIT_SUBJECT,
                assessment.pk,
                "verified",
                {"status": [Assessment.Status.SUBMITTED, assessment.status]},
            )
        ],
    )
    school_safety_refresh([assessment.school_id])
    return assessment


def _write_answers(
    assessment: Assessment, raw: Mapping[str, Any], comments: Mapping[str, str]
) -> dict[str, Any]:
    """Apply answers and comments; return {code: [before, after]} of what changed."""
    rules = framework_rules(assessment.framework)
    clean, errors = clean_answers(rules, raw)
    for code in comments:
        if rules.item(code) is None:
            errors[code] = _(
                "%(code)s is not an item of framework version %(version)s."
            ) % {
                "code": code,
                "version": rules.version,
            }
    if errors:
        raise ValidationError({code: [message] for code, message in errors.items()})
    rows = {a.item.code: a for a in assessment.answers.select_related("item")}
    item_ids = dict(assessment.framework.items.values_list("code", "pk"))
    changes: dict[str, Any] = {}
    create, update, delete = [], [], []
    for code in sorted(set(clean) | set(comments)):
        row = rows.get(code)
        before: AnswerValue | None = row.value if row else None
        if before == "":
            before = None
        after = clean.get(code, before)
        comment = comments.get(code, row.comment if row else "")
        if after is None:
            if row is not None:
                delete.append(row.pk)
                changes[code] = [before, None]
            continue
        if row is None:
            row = Answer(assessment=assessment, item_id=item_ids[code])
            create.append(row)
        elif before == after and row.comment == comment:
            continue
        else:
            update.append(row)
        if before != after:
            changes[code] = [before, after]
        if row.comment != comment:
            changes[f"{code} comment"] = [row.comment, comment]
        row.comment = comment
        if isinstance(after, float):
            row.number, row.choice = after, ""
        else:
            row.number, row.choice = None, after
    Answer.objects.filter(pk__in=delete).delete()
    Answer.objects.bulk_create(create)
    Answer.objects.bulk_update(update, ["choice", "number", "comment"])
    return changes


def _rescore(assessment: Assessment) -> dict[str, Any]:
    """Score the assessment from its stored answers; return what changed."""
    rules = framework_rules(assessment.framework)
    result = score(
        rules,
        assessment_answers(assessment),
        SchoolContext.from_json(assessment.context),
    )
    before = (assessment.score, assessment.grade, list(assessment.critical_gaps or []))
    assessment.score = None if result.overall is None else round(result.overall, 1)
    assessment.area_scores = {
        code: None if value is None else round(value, 1)
        for code, value in result.areas.items()
    }
    assessment.critical_gaps = list(result.critical_gaps)
    assessment.grade = result.grade or ""
    after = (assessment.score, assessment.grade, assessment.critical_gaps)
    changes: dict[str, Any] = {}
    for name, old, new in zip(
        ("score", "grade", "critical_gaps"), before, after, strict=True
    ):
        if old != new:
            changes[name] = [old, new]
    return changes


def school_safety_refresh(school_ids: Iterable[int] | None = None) -> int:
    """Copy each school's current assessment (latest submitted or verified) to its
    current state row, then recompute the risk of those schools; None refreshes
    every school. Returns the state rows written."""
    ids = None if school_ids is None else sorted(set(school_ids))
    written = school_safety_upsert(ids)
    risk_recompute(ids)
    return written


# ---------------------------------------------------------------- evidence


@transaction.atomic
def evidence_add(*, answer: Answer, by: User, upload: UploadedFile) -> Evidence:
    """Attach a photo to an answer, checked and resized for slow links."""
    school = answer.assessment.school
    _require_edit(by, school)
    if upload.size is None or upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "photo": _("The photo is larger than %(mb)d MB.")
                % {"mb": EVIDENCE_MAX_BYTES // 2**20}
            }
        )
    try:
        with Image.open(upload) as original:
            if original.format not in EVIDENCE_FORMATS:
                raise ValidationError({"photo": _("Send a JPEG, PNG or WebP photo.")})
            if original.width * original.height > 50_000_000:
                raise ValidationError({"photo": _("The photo has too many pixels.")})
            image = ImageOps.exif_transpose(original).convert("RGB")
            image.thumbnail((EVIDENCE_MAX_SIDE, EVIDENCE_MAX_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=75, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError(
            {"photo": _("This file is not a photo that can be read.")}
        ) from None
    data = buffer.getvalue()
    evidence = Evidence(
        answer=answer,
        uploaded_by=account(by),
        size_bytes=len(data),
        width=image.width,
        height=image.height,
    )
    evidence.image.save(
        f"{answer.assessment_id}-{answer.item_id}.jpg", ContentFile(data), save=False
    )
    evidence.save()
    audit(
        by,
        [
            Change(
                AUDIT_SUBJECT,
                answer.assessment_id,
                "evidence_added",
                {f"{answer.item.code} photo": [None, evidence.image.name]},
            )
        ],
    )
    return evidence
