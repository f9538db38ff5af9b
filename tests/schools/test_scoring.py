"""CSS scoring: a hand-worked example and the properties coordinators rely on."""

from hypothesis import given, settings
from hypothesis import strategies as st

from schools.checklists.framework import CHOICES_BY_TYPE, parse_framework
from schools.checklists.scoring import SchoolContext, score
from tests.factories import ALL_YES, framework_document

SMALL = parse_framework(framework_document())


def test_all_yes_scores_100_good():
    result = score(SMALL, ALL_YES)
    assert result.overall == 100
    assert result.areas == {"F": 100, "P1": 100, "P2": 100, "P3": 100}
    assert result.critical_gaps == ()
    assert result.grade == "good"


def test_worked_example():
    answers = {
        **ALL_YES,
        "F.01": "no",  # F: (2*0 + 3*1) / 5 = 60
        "P1.01": 0.8,  # 0.5 <= 0.8 < 1.5 -> 0.5; P1: (3*0.5 + 3*1) / 6 = 75
        "P2.01": 1,  # one drill -> 0.5; P2: (3*0.5 + 3 + 2) / 8 = 81.25
        "P3.01": "na",  # P3 has no counted item: left out of the overall
    }
    result = score(SMALL, answers)
    assert result.areas == {"F": 60.0, "P1": 75.0, "P2": 81.25, "P3": None}
    assert result.overall == (60 + 75 + 81.25) / 3  # 72.08
    assert result.grade == "fair"
    assert result.counted == 7


def test_partial_counts_half_and_na_is_left_out_of_both_sides():
    half = score(SMALL, {**ALL_YES, "F.02": "partial"})
    assert half.areas["F"] == 100 * (2 + 3 * 0.5) / 5
    na = score(SMALL, {**ALL_YES, "P2.03": "na", "P2.02": "no"})
    # P2: (3*1 + 3*0) / 6, P2.03's weight 2 left out.
    assert na.areas["P2"] == 50


def test_critical_gap_caps_a_good_average():
    result = score(SMALL, {**ALL_YES, "P2.01": 0})  # no drill
    assert result.critical_gaps == ("P2.01",)
    assert result.overall > 80
    assert result.grade == "needs_improvement"


def test_conditional_critical_rules_follow_the_school():
    answers = {**ALL_YES, "P1.02": "no", "P2.03": "no"}
    quiet = score(SMALL, answers, SchoolContext(hazard_levels={"storm": 1}))
    assert quiet.critical_gaps == ()
    exposed = score(
        SMALL,
        answers,
        SchoolContext(hazard_levels={"storm": 2}, evacuation_centre=True),
    )
    assert exposed.critical_gaps == ("P1.02", "P2.03")


def test_deep_flood_is_critical_unless_the_evacuation_route_is_marked():
    assert score(SMALL, {**ALL_YES, "P1.01": 1.5}).critical_gaps == ()
    partial_route = {**ALL_YES, "P1.01": 1.5, "P2.02": "partial"}
    assert score(SMALL, partial_route).critical_gaps == ("P1.01",)


def test_nothing_answered_has_no_score_or_grade():
    result = score(SMALL, {})
    assert result.overall is None and result.grade is None
    assert set(result.areas.values()) == {None}


# ---------------------------------------------------------------- properties

GRADES = ["good", "fair", "needs_improvement", "priority"]


@st.composite
def frameworks(draw):
    """Random frameworks: 1-4 areas of 1-6 items, every type, random critical rules."""
    areas = []
    for a in range(draw(st.integers(1, 4))):
        code = f"A{a}"
        items = []
        for i in range(draw(st.integers(1, 6))):
            answer_type = draw(st.sampled_from(list(CHOICES_BY_TYPE)))
            raw = {
                "code": f"{code}.{i + 1:02d}",
                "answer_type": answer_type,
                "weight": draw(st.sampled_from([1, 2, 3, 0.5, 1.5])),
                "question_en": "q",
                "question_km": "ស",
            }
            if answer_type == "number":
                raw["number"] = {
                    "min": 0,
                    "max": 10,
                    "scores": [[0, 0], [2, 0.5], [5, 1]],
                }
                if draw(st.booleans()):
                    raw["critical"] = {"below": draw(st.sampled_from([1, 2, 5]))}
            elif draw(st.booleans()):
                raw["critical"] = {
                    "answers": draw(
                        st.sampled_from(
                            [["no"], ["no", "partial"]]
                            if answer_type != "yes_no"
                            else [["no"]]
                        )
                    )
                }
            items.append(raw)
        areas.append(
            {
                "code": code,
                "weight": draw(st.sampled_from([1, 2, 0.5])),
                "name_en": code,
                "name_km": "ក",
                "items": items,
            }
        )
    document = framework_document(areas=areas)
    return parse_framework(document)


@st.composite
def framework_and_answers(draw):
    framework = draw(frameworks())
    answers = {}
    for item in framework.items.values():
        if item.answer_type == "number":
            value = draw(st.one_of(st.none(), st.floats(0, 10, allow_nan=False)))
        else:
            value = draw(st.one_of(st.none(), st.sampled_from(item.choices)))
        if value is not None:
            answers[item.code] = value
    return framework, answers


def _scores(result):
    return [result.overall, *result.areas.values()]


@settings(max_examples=300, deadline=None)
@given(framework_and_answers())
def test_scores_stay_within_0_and_100(case):
    framework, answers = case
    for value in _scores(score(framework, answers)):
        assert value is None or 0 <= value <= 100


@settings(max_examples=300, deadline=None)
@given(framework_and_answers(), st.data())
def test_turning_a_no_into_a_yes_never_lowers_any_score(case, data):
    framework, answers = case
    noes = [code for code, value in answers.items() if value == "no"]
    if not noes:
        return
    code = data.draw(st.sampled_from(noes))
    before = score(framework, answers)
    after = score(framework, {**answers, code: "yes"})
    for old, new in zip(_scores(before), _scores(after), strict=True):
        assert (old is None) == (new is None)
        assert old is None or new >= old
    assert GRADES.index(after.grade) <= GRADES.index(before.grade)
    assert set(after.critical_gaps) <= set(before.critical_gaps)


@settings(max_examples=300, deadline=None)
@given(framework_and_answers(), st.data())
def test_not_applicable_items_change_nothing(case, data):
    framework, answers = case
    optional = [i.code for i in framework.items.values() if "na" in i.choices]
    if not optional:
        return
    code = data.draw(st.sampled_from(optional))
    without = {k: v for k, v in answers.items() if k != code}
    assert score(framework, {**without, code: "na"}) == score(framework, without)


@settings(max_examples=300, deadline=None)
@given(framework_and_answers())
def test_a_critical_gap_always_caps_the_grade(case):
    framework, answers = case
    result = score(framework, answers)
    if result.critical_gaps and result.grade is not None:
        assert GRADES.index(result.grade) >= GRADES.index("needs_improvement")
