"""Demo assessments: a realistic share of schools assessed, some several times.

About 55 % of open schools have assessments (none for the rest: unknown, not
safe), one to three over 2023-2026, each school with its own level of
preparedness that improves a little between visits. Written set-wise: the
assessments by bulk insert, their answers by COPY, scores by the same pure
scoring as every other path, then one refresh of the current state.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from preparedness.audit import Change, audit
from preparedness.demo import DemoOptions, DemoStep, register_demo_step
from schools.checklists.framework import NA, NO, PARTIAL, YES, Framework
from schools.checklists.scoring import AnswerValue, SchoolContext, score
from schools.checklists.selectors import AUDIT_SUBJECT, framework_rules
from schools.checklists.services import framework_load_shipped, school_safety_refresh
from schools.models import Assessment, SafetyFramework, School

ASSESSED_SHARE = 0.55
VISITS = ([1, 2, 3], [0.6, 0.3, 0.1])
FIRST_DAY = dt.date(2023, 1, 15)


def _answers(
    rules: Framework, rng: np.random.Generator, ready: float
) -> dict[str, AnswerValue]:
    """Answers of a school whose chance of a good answer to each item is `ready`."""
    answers: dict[str, AnswerValue] = {}
    for item in rules.items.values():
        if item.number is not None:
            low, high = item.number.minimum, item.number.maximum
            good = [t for t, v in item.number.scores if v == 1]
            bad = [t for t, v in item.number.scores if v == 0]
            if rng.random() < ready and good:
                x = good[0] if good[0] > low else low
                x = x + rng.random() * min(2, high - x) * (
                    0 if item.number.integer else 1
                )
            elif bad:
                x = bad[0]
            else:
                x = low
            answers[item.code] = float(round(x) if item.number.integer else round(x, 1))
            continue
        r = rng.random()
        if NA in item.choices and r < 0.08:
            answers[item.code] = NA
        elif r < ready:
            answers[item.code] = YES
        elif PARTIAL in item.choices and r < ready + (1 - ready) * 0.5:
            answers[item.code] = PARTIAL
        else:
            answers[item.code] = NO
    return answers


def demo_assessments(options: DemoOptions) -> str:
    from schools.exposure import exposure_recompute

    if not SafetyFramework.objects.exists():
        framework_load_shipped()
    framework = SafetyFramework.objects.order_by("-published_on", "-id").first()
    if framework is None:
        return "no framework: no assessments"
    # Critical gaps of flood- and storm-prone schools depend on hazard levels.
    exposure_recompute()
    rules = framework_rules(framework)
    item_ids = dict(framework.items.values_list("code", "pk"))
    rng = options.rng(50)
    schools = list(
        School.objects.filter(status=School.Status.OPEN)
        .only("pk", "commune_id", "hazard_levels", "evacuation_centre")
        .order_by("pk")
    )
    official = get_user_model().objects.filter(username="official_07").first()
    today = timezone.localdate()
    span = (today - FIRST_DAY).days
    now = timezone.now()
    assessments: list[Assessment] = []
    answer_sets: list[dict[str, AnswerValue]] = []
    for school in schools:
        if rng.random() > ASSESSED_SHARE:
            continue
        visits = int(rng.choice(VISITS[0], p=VISITS[1]))
        ready = float(rng.beta(2.2, 1.6))
        days = sorted(rng.choice(span, size=visits, replace=False))
        context = SchoolContext(
            hazard_levels={k: int(v) for k, v in (school.hazard_levels or {}).items()},
            evacuation_centre=school.evacuation_centre,
        )
        for n, day in enumerate(days):
            answers = _answers(rules, rng, min(0.98, ready + 0.08 * n))
            result = score(rules, answers, context)
            last = n == visits - 1
            status = (
                Assessment.Status.DRAFT
                if last and visits > 1 and rng.random() < 0.1
                else Assessment.Status.VERIFIED
                if rng.random() < 0.5
                else Assessment.Status.SUBMITTED
            )
            by_official = official is not None and school.commune_id.startswith("07")
            assessments.append(
                Assessment(
                    school_id=school.pk,
                    framework=framework,
                    assessed_on=FIRST_DAY + dt.timedelta(days=int(day)),
                    assessor=official if by_official else None,
                    assessor_name="official_07" if by_official else "demo",
                    status=status,
                    source=Assessment.Source.DEMO,
                    context=context.as_json(),
                    score=None if result.overall is None else round(result.overall, 1),
                    area_scores={
                        k: None if v is None else round(v, 1)
                        for k, v in result.areas.items()
                    },
                    critical_gaps=list(result.critical_gaps),
                    grade=result.grade or "",
                    submitted_at=None if status == Assessment.Status.DRAFT else now,
                    verified_at=now if status == Assessment.Status.VERIFIED else None,
                )
            )
            answer_sets.append(answers)
    created = Assessment.objects.bulk_create(assessments, batch_size=2000)
    with connection.cursor() as cursor:
        copy_sql = (
            "COPY schools_answer (assessment_id, item_id, choice, number, comment) "
            "FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for assessment, answers in zip(created, answer_sets, strict=True):
                for code, value in answers.items():
                    if isinstance(value, float):
                        copy.write_row((assessment.pk, item_ids[code], "", value, ""))
                    else:
                        copy.write_row((assessment.pk, item_ids[code], value, None, ""))
    audit(
        None,
        [
            Change(AUDIT_SUBJECT, a.pk, "imported", {"source": [None, "demo"]})
            for a in created
        ],
        source="demo",
    )
    school_safety_refresh()
    assessed = len({a.school_id for a in created})
    return (
        f"{len(created)} assessments of {assessed} schools "
        f"({len(schools) - assessed} never assessed)"
    )


register_demo_step(
    DemoStep("assessments", 50, demo_assessments, loaded=Assessment.objects.exists)
)


def demo_risk(options: DemoOptions) -> str:
    """Nearest services and risk of every school (again after the layers commit)."""
    from schools.risk.nearest import nearest_services_refresh
    from schools.risk.services import risk_recompute

    nearest_services_refresh()
    result = risk_recompute()
    return f"risk of {result.schools} schools in {result.seconds:.1f} s"


register_demo_step(DemoStep("risk", 60, demo_risk))
