"""The safety framework as data: the shipped version, bad files, and versioning."""

import copy
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from schools.checklists import services
from schools.checklists.framework import (
    FrameworkError,
    parse_framework,
    read_framework_file,
    shipped_framework_files,
)
from schools.models import Assessment, ChecklistItem, SafetyFramework
from tests.factories import ALL_YES, framework_document, make_framework, make_school

KHMER = re.compile("[\u1780-\u17ff]")


def test_the_shipped_framework_covers_the_cssf_in_english_and_khmer():
    (path,) = shipped_framework_files()
    framework, _ = read_framework_file(path)
    assert [a.code for a in framework.areas] == ["F", "P1", "P2", "P3"]
    assert 40 <= len(framework.items) <= 46
    for item in framework.items.values():
        assert KHMER.search(item.question_km), item.code
        assert KHMER.search(item.help_km), item.code
        assert not item.km_reviewed  # no native speaker has reviewed it yet
    critical = {c for c, i in framework.items.items() if i.critical}
    # No evacuation plan, no drills, structural damage, no safeguarding
    # reporting channel, shelter without a plan for classes.
    assert {"P2.01", "P2.04", "P1.04", "F.06", "P2.11"} <= critical
    assert framework.items["P2.11"].critical.evacuation_centre


def _broken(path, value):
    document = framework_document()
    target = document
    *parents, last = path
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("areas", 0, "items", 0, "question_km"), KeyError, "item F.01.question_km"),
        (("areas", 0, "items", 0, "answer_type"), "maybe", "item F.01.answer_type"),
        (("areas", 0, "items", 0, "weight"), 0, "item F.01.weight"),
        (("areas", 0, "items", 1, "code"), "F.01", "item F.01: code used twice"),
        (("areas", 0, "items", 1, "code"), "P1.09", "must look like F.01"),
        (
            ("areas", 1, "items", 0, "number", "scores"),
            [[0, 1], [1.5, 0], [0.5, 0.5]],
            "item P1.01.number.scores: thresholds must increase",
        ),
        (
            ("areas", 1, "items", 0, "number", "scores"),
            [[0, 1], [1, 2]],
            "value must be within 0-1",
        ),
        (
            ("areas", 1, "items", 0, "critical", "unless", "item"),
            "Z.01",
            "unknown item Z.01",
        ),
        (
            ("areas", 0, "items", 1, "critical"),
            {"below": 2},
            "below and at_least are for number items",
        ),
        (("critical_gap_caps_grade_at",), "awful", "not a grade code"),
    ],
)
def test_a_bad_framework_is_refused_naming_the_fault(path, value, message):
    with pytest.raises(FrameworkError, match=re.escape(message)):
        parse_framework(_broken(path, value))


def test_load_framework_exits_2_and_writes_nothing_for_a_bad_file(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(("areas", 0, "items", 0, "weight"), -1)))
    with pytest.raises(CommandError, match=r"item F\.01\.weight") as error:
        call_command("load_framework", str(path))
    assert error.value.returncode == 2
    assert not SafetyFramework.objects.exists()


def test_wording_may_be_corrected_but_rules_need_a_new_version(tmp_path, db):
    framework = make_framework(tmp_path)
    reviewed = framework_document()
    reviewed["areas"][0]["items"][0]["question_km"] = "សំណួរដែលបានពិនិត្យ?"
    reviewed["areas"][0]["items"][0]["km_reviewed"] = True
    path = tmp_path / "reviewed.json"
    path.write_text(json.dumps(reviewed, ensure_ascii=False), encoding="utf-8")
    assert services.framework_load(path).wording_updated
    item = ChecklistItem.objects.get(framework=framework, code="F.01")
    assert (item.question_km, item.km_reviewed) == ("សំណួរដែលបានពិនិត្យ?", True)

    reweighted = copy.deepcopy(reviewed)
    reweighted["areas"][0]["items"][0]["weight"] = 3
    path.write_text(json.dumps(reweighted, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(FrameworkError, match=r"areas\[0\].items\[0\].weight"):
        services.framework_load(path)
    assert ChecklistItem.objects.get(framework=framework, code="F.01").weight == 2


def test_a_new_version_never_changes_older_scores(tmp_path, users):
    make_framework(tmp_path)
    school = make_school("KPT-1", lon=104.15, lat=10.6, commune="070101")
    answers = {**ALL_YES, "F.01": "no"}
    old = services.assessment_create(
        school=school, by=users["official_07"], answers=answers, submit=True
    )
    stricter = framework_document("test.2", published_on="2026-09-01")
    stricter["areas"][0]["items"][0]["weight"] = 3
    stricter["areas"][0]["items"][0]["critical"] = {"answers": ["no"]}
    make_framework(tmp_path, stricter)
    new = services.assessment_create(
        school=school, by=users["official_07"], answers=answers, submit=True
    )
    old.refresh_from_db()
    assert old.framework.version == "test.1"
    assert (old.area_scores["F"], old.critical_gaps) == (60.0, [])
    assert (new.area_scores["F"], new.critical_gaps) == (50.0, ["F.01"])
    services.assessment_update(
        assessment_id=old.pk,
        by=users["official_07"],
        version=old.version,
        notes="checked again",
    )
    old.refresh_from_db()
    assert old.area_scores["F"] == 60.0
    assert Assessment.objects.count() == 2


def test_the_framework_api_lists_items_with_their_rules_in_few_queries(
    api, tmp_path, db, django_assert_max_num_queries
):
    make_framework(tmp_path)
    with django_assert_max_num_queries(5):
        body = api.get("/api/frameworks/test.1/").json()
    assert [a["code"] for a in body["areas"]] == ["F", "P1", "P2", "P3"]
    p2 = {i["code"]: i for i in body["items"]}["P2.01"]
    assert p2["critical_rule"] == {"below": 1}
    assert p2["number"]["scores"] == [[0, 0], [1, 0.5], [2, 1]]
    assert {i["code"]: i for i in body["items"]}["P2.02"]["question_km"] == "សំណួរ P2.02?"
