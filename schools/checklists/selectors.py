"""Reads of checklists: framework versions, assessments in a user's scope, scores."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from preparedness.access import Role, access_for
from preparedness.models import AuditEntry
from schools.checklists.framework import Framework, parse_framework
from schools.checklists.scoring import AnswerValue
from schools.models import Assessment, SafetyFramework, School

User = AbstractBaseUser | AnonymousUser | None
AUDIT_SUBJECT = "assessment"

_rules_cache: dict[tuple[int, object], Framework] = {}


def framework_latest() -> SafetyFramework:
    """The newest framework version (the one new assessments use)."""
    framework = SafetyFramework.objects.order_by("-published_on", "-id").first()
    if framework is None:
        raise Http404("No safety framework is loaded; run `manage.py load_framework`.")
    return framework


def framework_get(version: str | None) -> SafetyFramework:
    if not version:
        return framework_latest()
    try:
        return SafetyFramework.objects.get(version=version)
    except SafetyFramework.DoesNotExist:
        raise Http404(f"No framework version {version!r}.") from None


def framework_rules(framework: SafetyFramework) -> Framework:
    """The scoring rules of a stored version (parsed once per load)."""
    key = (framework.pk, framework.loaded_at)
    rules = _rules_cache.get(key)
    if rules is None:
        rules = _rules_cache[key] = parse_framework(framework.document)
    return rules


def may_read_assessments(user: User, commune_code: str) -> bool:
    access = access_for(user)
    if access.nationwide:
        return True
    return access.role == Role.EDUCATION_OFFICIAL and access.covers(commune_code)


def assessments_visible_q(user: User) -> Q:
    """Assessments a user may read: nationwide roles all, officials their areas."""
    access = access_for(user)
    if access.nationwide:
        return Q()
    if access.role == Role.EDUCATION_OFFICIAL:
        return access.scope_q("school__commune__code")
    return Q(pk__in=[])


def assessment_list(
    *, user: User, school: School | None = None
) -> QuerySet[Assessment]:
    qs = Assessment.objects.filter(assessments_visible_q(user)).select_related(
        "school", "framework", "assessor", "verified_by"
    )
    if school is not None:
        qs = qs.filter(school=school)
    return qs.order_by("-assessed_on", "-id")


def assessment_get(*, user: User, pk: int) -> Assessment:
    """One assessment in the user's scope (404 outside it: ids reveal nothing)."""
    try:
        return assessment_list(user=user).get(pk=pk)
    except (Assessment.DoesNotExist, ValueError):
        raise Http404("No such assessment.") from None


def assessment_answers(assessment: Assessment) -> dict[str, AnswerValue]:
    """Item code -> answer of one assessment."""
    return {
        code: number if number is not None else choice
        for code, choice, number in assessment.answers.values_list(
            "item__code", "choice", "number"
        )
    }


def assessment_comments(assessment: Assessment) -> dict[str, str]:
    return dict(
        assessment.answers.exclude(comment="").values_list("item__code", "comment")
    )


def previous_answers(assessment: Assessment) -> dict[str, AnswerValue]:
    """Answers of the school's assessment before this one (shown beside each item)."""
    earlier = (
        Assessment.objects.filter(school_id=assessment.school_id)
        .exclude(pk=assessment.pk)
        .exclude(status=Assessment.Status.DRAFT)
        .filter(
            Q(assessed_on__lt=assessment.assessed_on)
            | Q(assessed_on=assessment.assessed_on, pk__lt=assessment.pk)
        )
        .order_by("-assessed_on", "-id")
        .first()
    )
    return assessment_answers(earlier) if earlier else {}


def assessment_history(assessment_ids: list[int]) -> QuerySet[AuditEntry]:
    """Audit entries of these assessments, newest first."""
    return AuditEntry.objects.filter(
        subject_type=AUDIT_SUBJECT, subject_id__in=[str(i) for i in assessment_ids]
    ).order_by("-at", "-id")
