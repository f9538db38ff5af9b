"""Pages for education officials: my schools, a school's safety, the checklist form.

Server-rendered and light (no script, system fonts) so they work on a phone over
a slow link; every rule lives in `services` and `selectors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from preparedness.access import access_for, may_edit_in_area
from preparedness.errors import Conflict
from preparedness.text import search_key
from schools.checklists import selectors, services
from schools.checklists.framework import NA, NO, PARTIAL, YES, Framework
from schools.checklists.scoring import AnswerValue
from schools.models import Assessment, Evidence, SafetyFramework, School, Service
from schools.risk import selectors as risk_selectors
from schools.risk.selectors import checklist_details_visible, css_scores_visible

# Labels as the Khmer help texts quote them: «បាទ/ចាស» «មួយផ្នែក» «ទេ» «មិនពាក់ព័ន្ធ».
CHOICE_LABELS = {
    YES: pgettext_lazy("checklist answer", "Yes"),
    PARTIAL: pgettext_lazy("checklist answer", "Partly"),
    NO: pgettext_lazy("checklist answer", "No"),
    NA: pgettext_lazy("checklist answer", "Not applicable"),
}
ANSWER_PREFIX, COMMENT_PREFIX = "a-", "c-"


def _km() -> bool:
    return (get_language() or "en").startswith("km")


def _pick(obj: Any, name: str) -> str:
    """The Khmer or English text of `name`, by the page language (English fallback)."""
    if _km():
        return getattr(obj, f"{name}_km", "") or getattr(obj, f"{name}_en", "")
    return getattr(obj, f"{name}_en", "") or getattr(obj, f"{name}_km", "")


def _show(value: AnswerValue | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(CHOICE_LABELS.get(str(value), value))


def _grade_labels(framework: SafetyFramework) -> dict[str, str]:
    key = "label_km" if _km() else "label_en"
    return {
        g["code"]: g.get(key) or g["label_en"] for g in framework.document["grades"]
    }


# ---------------------------------------------------------------- my schools


@login_required
def my_schools(request: HttpRequest) -> HttpResponse:
    """Schools in the user's areas (nationwide roles: all), searchable, 50 a page."""
    access = access_for(request.user)
    schools: QuerySet[School] = (
        School.objects.filter(access.scope_q("commune__code"))
        .filter(status=School.Status.OPEN)
        .select_related("safety")
        .only(
            "code",
            "name_en",
            "name_km",
            "commune",
            "hazard_level",
            "safety__score",
            "safety__grade",
            "safety__assessed_on",
            "safety__critical_gaps",
        )
        .order_by("code")
    )
    if not access.authenticated or not (access.nationwide or access.area_codes):
        schools = schools.none()
    query = request.GET.get("q", "").strip()[:100]
    key = search_key(query)
    if key:
        schools = schools.filter(name_key__contains=key)
    page = Paginator(schools, 50).get_page(request.GET.get("page"))
    framework = SafetyFramework.objects.order_by("-published_on", "-id").first()
    grades = _grade_labels(framework) if framework else {}
    for school in page:
        safety = getattr(school, "safety", None)
        school.grade_label = grades.get(safety.grade, "") if safety else ""  # type: ignore[attr-defined]
    return render(request, "checklists/my_schools.html", {"page": page, "q": query})


# ---------------------------------------------------------------- school page


def _school_or_404(code: str) -> School:
    try:
        return School.objects.select_related("safety", "commune", "risk", "access").get(
            code=code
        )
    except School.DoesNotExist:
        raise Http404(_("No school has this code.")) from None


def _chart(assessments: list[Assessment], area_codes: list[str]) -> dict[str, Any]:
    """An SVG line per area: score (0-100) by assessment, oldest left."""
    width, height, pad = 320, 120, 14
    points = [a for a in reversed(assessments) if a.score is not None]
    if len(points) < 2:
        return {}
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    lines = []
    for n, code in enumerate(area_codes):
        coords = [
            (pad + i * step, pad + (height - 2 * pad) * (1 - a.area_scores[code] / 100))
            for i, a in enumerate(points)
            if a.area_scores.get(code) is not None
        ]
        lines.append(
            {
                "code": code,
                "n": n,
                "points": " ".join(f"{x:.0f},{y:.0f}" for x, y in coords),
                "last": coords[-1] if coords else None,
            }
        )
    return {
        "width": width,
        "height": height,
        "lines": lines,
        "dates": [points[0].assessed_on, points[-1].assessed_on],
    }


ACTIONS = {
    "created": gettext_lazy("started"),
    "changed": gettext_lazy("changed"),
    "submitted": gettext_lazy("submitted"),
    "verified": gettext_lazy("verified"),
    "imported": gettext_lazy("imported"),
    "evidence_added": gettext_lazy("added a photo to"),
}


def _describe(changes: Mapping[str, Any]) -> list[str]:
    lines = []
    for field, values in changes.items():
        before, after = (
            ([*values, None, None])[:2] if isinstance(values, list) else (None, values)
        )
        lines.append(f"{field}: {_show(before)} → {_show(after)}")
    return lines


def school_page(request: HttpRequest, code: str) -> HttpResponse:
    """A school's safety: current score and gaps, assessments over time, history."""
    school = _school_or_404(code)
    may_read = selectors.may_read_assessments(request.user, school.commune_id)
    safety = getattr(school, "safety", None)
    assessments = (
        list(selectors.assessment_list(user=request.user, school=school))
        if may_read
        else []
    )
    framework = safety.assessment.framework if safety and safety.assessment else None
    framework = (
        framework or SafetyFramework.objects.order_by("-published_on", "-id").first()
    )
    areas = list(framework.areas.all()) if framework else []
    # Overall score and grade may be public (setting); gaps and area scores not.
    details = checklist_details_visible(request.user)
    scores = css_scores_visible(request.user)
    gaps = []
    if details and safety and safety.critical_gaps and framework:
        by_code = {
            i.code: i for i in framework.items.filter(code__in=safety.critical_gaps)
        }
        gaps = [
            (c, _pick(by_code[c], "question"))
            for c in safety.critical_gaps
            if c in by_code
        ]
    history = []
    if may_read:
        for entry in selectors.assessment_history([a.pk for a in assessments])[:50]:
            history.append(
                {
                    "entry": entry,
                    "action": ACTIONS.get(entry.action, entry.action),
                    "lines": _describe(entry.changes),
                }
            )
    return render(
        request,
        "checklists/school.html",
        {
            "school": school,
            "safety": safety if scores else None,
            "assessed": safety is not None,
            "details": details,
            "areas": [
                (
                    a.code,
                    _pick(a, "name"),
                    (safety.area_scores or {}).get(a.code) if safety else None,
                )
                for a in areas
            ]
            if details
            else [],
            "gaps": gaps,
            "assessments": assessments,
            "may_read": may_read,
            "may_edit": may_edit_in_area(request.user, school.commune_id),
            "chart": _chart(assessments, [a.code for a in areas]),
            "history": history,
            "grades": _grade_labels(framework) if framework else {},
            "name": _pick(school, "name"),
            "risk": getattr(school, "risk", None),
            "nearest": _nearest_rows(request, school),
        },
    )


def _nearest_rows(request: HttpRequest, school: School) -> list[dict[str, Any]]:
    """The nearest service of each kind, masked as in the priority list."""
    access = getattr(school, "access", None)
    if access is None:
        return []
    codes = risk_selectors.sensitive_codes([school])
    visible = risk_selectors.sensitive_visible(request.user, codes)
    fields = risk_selectors.nearest_fields(access.nearest, visible)
    labels = dict(Service.Kind.choices)
    rows = []
    for kind in risk_selectors.ACCESS_KINDS:
        if fields[f"nearest_{kind}_km"] is None:
            continue
        rows.append(
            {
                "kind": labels[kind],
                "code": fields[f"nearest_{kind}_code"],
                "km": fields[f"nearest_{kind}_km"],
                "unavailable": fields[f"nearest_{kind}_unavailable"],
                "available_code": fields[f"nearest_available_{kind}_code"],
                "available_km": fields[f"nearest_available_{kind}_km"],
            }
        )
    return rows


@require_POST
@login_required
def assessment_start(request: HttpRequest, code: str) -> HttpResponse:
    """Start a draft for a school and open its form."""
    school = _school_or_404(code)
    try:
        assessment = services.assessment_create(school=school, by=request.user)
    except PermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("assessment-edit", pk=assessment.pk)


# ---------------------------------------------------------------- the form


def _form_items(
    rules: Framework,
    framework: SafetyFramework,
    answers: Mapping[str, Any],
    comments: Mapping[str, str],
    previous: Mapping[str, AnswerValue],
    errors: Mapping[str, str],
    server: Mapping[str, AnswerValue] | None = None,
) -> list[dict[str, Any]]:
    rows = {i.code: i for i in framework.items.all()}
    areas = []
    for area_row in framework.areas.all():
        area = next(a for a in rules.areas if a.code == area_row.code)
        items = []
        for item in area.items:
            row = rows[item.code]
            value = answers.get(item.code)
            items.append(
                {
                    "code": item.code,
                    "question": _pick(row, "question"),
                    "help": _pick(row, "help"),
                    "critical": item.critical is not None,
                    "choices": [(c, CHOICE_LABELS[c]) for c in item.choices],
                    "number": item.number,
                    "unit": (item.number.unit_km if _km() else item.number.unit_en)
                    if item.number
                    else "",
                    "value": ""
                    if value is None
                    else (f"{value:g}" if isinstance(value, float) else str(value)),
                    "comment": comments.get(item.code, ""),
                    "previous": _show(previous.get(item.code))
                    if item.code in previous
                    else "",
                    "error": errors.get(item.code, ""),
                    "theirs": _show(server.get(item.code))
                    if server is not None and _differs(server.get(item.code), value)
                    else "",
                }
            )
        areas.append(
            {"code": area.code, "name": _pick(area_row, "name"), "items": items}
        )
    return areas


def _differs(a: Any, b: Any) -> bool:
    def norm(v: Any) -> str:
        if v is None or v == "":
            return ""
        try:
            return f"{float(v):g}"
        except (TypeError, ValueError):
            return str(v)

    return norm(a) != norm(b)


def _posted(
    request: HttpRequest, rules: Framework
) -> tuple[dict[str, Any], dict[str, str]]:
    answers = {code: request.POST.get(ANSWER_PREFIX + code, "") for code in rules.items}
    comments = {
        code: request.POST.get(COMMENT_PREFIX + code, "").strip()[:2000]
        for code in rules.items
        if COMMENT_PREFIX + code in request.POST
    }
    return answers, comments


@login_required
def assessment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The checklist form: grouped by area, previous answers shown, save or submit."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not may_edit_in_area(request.user, assessment.school.commune_id):
        return redirect("assessment-detail", pk=pk)
    framework = assessment.framework
    rules = selectors.framework_rules(framework)
    errors: dict[str, str] = {}
    general: list[str] = []
    server_answers: dict[str, AnswerValue] | None = None
    version = assessment.version
    if request.method == "POST":
        answers, comments = _posted(request, rules)
        notes = request.POST.get("notes", "")[:10_000]
        try:
            assessed_on = dt.date.fromisoformat(request.POST.get("assessed_on", ""))
        except ValueError:
            assessed_on = None
            errors["assessed_on"] = _("Give the date as YYYY-MM-DD.")
        if not errors:
            try:
                assessment = services.assessment_update(
                    assessment_id=pk,
                    by=request.user,
                    version=request.POST.get("version"),
                    answers=answers,
                    comments=comments,
                    notes=notes,
                    assessed_on=assessed_on,
                )
                _save_photos(request, assessment)
                if request.POST.get("action") == "submit":
                    assessment = services.assessment_submit(
                        assessment_id=pk, by=request.user, version=assessment.version
                    )
                    messages.success(request, _("Checklist submitted. Thank you."))
                    return redirect("assessment-detail", pk=pk)
                messages.success(request, _("Draft saved."))
                return redirect("assessment-edit", pk=pk)
            except Conflict as exc:
                # Keep what this person typed; show what the other person saved.
                general.append(str(exc))
                assessment.refresh_from_db()
                server_answers = selectors.assessment_answers(assessment)
                version = assessment.version
            except ValidationError as exc:
                for field, messages_ in exc.message_dict.items():
                    if field in rules.items or field == "assessed_on":
                        errors[field] = " ".join(messages_)
                    else:
                        general.extend(messages_)
                if request.POST.get("action") == "submit":
                    # The answers were saved; only the submission was refused.
                    assessment.refresh_from_db()
                    version = assessment.version
        status = 409 if server_answers is not None else 400
        form_answers, form_comments = answers, comments
        form_notes, form_date = notes, request.POST.get("assessed_on", "")
    else:
        status = 200
        form_answers = selectors.assessment_answers(assessment)
        form_comments = selectors.assessment_comments(assessment)
        form_notes, form_date = assessment.notes, assessment.assessed_on.isoformat()
    context = {
        "assessment": assessment,
        "school_name": _pick(assessment.school, "name"),
        "version": version,
        "areas": _form_items(
            rules,
            framework,
            form_answers,
            form_comments,
            selectors.previous_answers(assessment),
            errors,
            server_answers,
        ),
        "notes": form_notes,
        "assessed_on": form_date,
        "date_error": errors.get("assessed_on", ""),
        "general_errors": general,
        "conflict": server_answers is not None,
        "grades": _grade_labels(framework),
        "area_names": {a.code: _pick(a, "name") for a in framework.areas.all()},
        "gap_questions": _gap_questions(framework, assessment.critical_gaps),
        "photos": _photos(assessment),
    }
    return render(request, "checklists/assessment_form.html", context, status=status)


PHOTO_PREFIX = "p-"


def _save_photos(request: HttpRequest, assessment: Assessment) -> None:
    """Attach the photos sent with the form to their (now saved) answers."""
    uploads: dict[str, UploadedFile] = {}
    for key in request.FILES:
        upload = request.FILES.get(key)
        if key.startswith(PHOTO_PREFIX) and isinstance(upload, UploadedFile):
            uploads[key[len(PHOTO_PREFIX) :]] = upload
    if not uploads:
        return
    answers = {
        a.item.code: a
        for a in assessment.answers.select_related("item", "assessment__school").filter(
            item__code__in=list(uploads)
        )
    }
    for code, upload in uploads.items():
        answer = answers.get(code)
        if answer is None:
            messages.error(
                request,
                _("%(code)s: answer the question before adding a photo.")
                % {"code": code},
            )
            continue
        try:
            services.evidence_add(answer=answer, by=request.user, upload=upload)
        except ValidationError as exc:
            messages.error(request, f"{code}: " + " ".join(exc.messages))


def _photos(assessment: Assessment) -> dict[str, list[str]]:
    """Photo URLs of each answered item of an assessment, in one query."""
    photos: dict[str, list[str]] = {}
    for code, name in Evidence.objects.filter(
        answer__assessment=assessment
    ).values_list("answer__item__code", "image"):
        photos.setdefault(code, []).append(default_storage.url(name))
    return photos


def _gap_questions(
    framework: SafetyFramework, codes: list[str]
) -> list[tuple[str, str]]:
    if not codes:
        return []
    items = {i.code: i for i in framework.items.filter(code__in=codes)}
    return [(c, _pick(items[c], "question")) for c in codes if c in items]


@login_required
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A read-only assessment: scores, gaps and answers; verify when allowed."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    framework = assessment.framework
    rules = selectors.framework_rules(framework)
    answers = selectors.assessment_answers(assessment)
    areas = _form_items(
        rules, framework, answers, selectors.assessment_comments(assessment), {}, {}
    )
    for area in areas:
        for item in area["items"]:
            item["shown"] = _show(answers.get(item["code"]))
    return render(
        request,
        "checklists/assessment_detail.html",
        {
            "assessment": assessment,
            "school_name": _pick(assessment.school, "name"),
            "areas": areas,
            "grades": _grade_labels(framework),
            "area_names": {a.code: _pick(a, "name") for a in framework.areas.all()},
            "gap_questions": _gap_questions(framework, assessment.critical_gaps),
            "photos": _photos(assessment),
            "may_edit": may_edit_in_area(request.user, assessment.school.commune_id),
            "may_verify": assessment.status == Assessment.Status.SUBMITTED
            and services.may_verify(request.user, assessment),
        },
    )


@require_POST
@login_required
def assessment_verify(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    try:
        services.assessment_verify(
            assessment_id=assessment.pk,
            by=request.user,
            version=request.POST.get("version"),
        )
        messages.success(request, _("Assessment verified."))
    except (Conflict, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("assessment-detail", pk=pk)


# ---------------------------------------------------------------- printable checklist


def checklist_print(request: HttpRequest) -> HttpResponse:
    """The blank checklist to print, in the page language (public)."""
    framework = selectors.framework_get(request.GET.get("framework"))
    return render(request, "checklists/print.html", _print_context(framework))


def _print_context(framework: SafetyFramework) -> dict[str, Any]:
    rules = selectors.framework_rules(framework)
    return {
        "framework": framework,
        "title": _pick(framework, "title"),
        "areas": _form_items(rules, framework, {}, {}, {}, {}),
    }


def checklist_pdf(request: HttpRequest) -> HttpResponse:
    """The blank checklist as a PDF (WeasyPrint: Khmer shaped by HarfBuzz)."""
    from weasyprint import HTML

    framework = selectors.framework_get(request.GET.get("framework"))
    html = render(
        request, "checklists/print.html", {**_print_context(framework), "pdf": True}
    )
    pdf = HTML(
        string=html.content.decode(), base_url=request.build_absolute_uri("/")
    ).write_pdf()
    language = "km" if _km() else "en"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="salasafe-checklist-{framework.version}-{language}.pdf"'
    )
    return response
