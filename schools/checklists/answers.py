"""Turn answers as received (forms, API, Kobo/ODK files) into clean values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from schools.checklists.framework import NA, Framework, Item
from schools.checklists.scoring import AnswerValue

# Spellings accepted for choices (KoboToolbox/ODK exports use the choice names).
CHOICE_ALIASES = {
    "yes": "yes",
    "y": "yes",
    "no": "no",
    "n": "no",
    "partial": "partial",
    "partly": "partial",
    "p": "partial",
    "na": "na",
    "n/a": "na",
    "not_applicable": "na",
}


def parse_answer(item: Item, raw: Any) -> AnswerValue | None:
    """One answer as stored (a choice code or a number); None clears it.

    Raises ValueError with a message for the person who gave the answer.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if item.number is not None:
        rule = item.number
        if isinstance(raw, bool):
            raise ValueError(_("Give a number."))
        if isinstance(raw, str):
            try:
                value = float(raw.strip().replace(",", "."))
            except ValueError:
                raise ValueError(
                    _("Give a number, not %(value)r.") % {"value": raw}
                ) from None
        elif isinstance(raw, int | float):
            value = float(raw)
        else:
            raise ValueError(_("Give a number."))
        if not math.isfinite(value):
            raise ValueError(_("Give a finite number."))
        if rule.integer and value != int(value):
            raise ValueError(_("Give a whole number."))
        if not rule.minimum <= value <= rule.maximum:
            raise ValueError(
                _("Give a number from %(min)g to %(max)g.")
                % {"min": rule.minimum, "max": rule.maximum}
            )
        return value
    if not isinstance(raw, str):
        raise ValueError(
            _("Answer one of: %(choices)s.") % {"choices": ", ".join(item.choices)}
        )
    choice = CHOICE_ALIASES.get(raw.strip().lower())
    if choice is None or choice not in item.choices:
        if choice == NA:
            raise ValueError(_("This question cannot be answered 'not applicable'."))
        raise ValueError(
            _("%(value)r is not an answer here; answer one of: %(choices)s.")
            % {"value": raw, "choices": ", ".join(item.choices)}
        )
    return choice


def clean_answers(
    framework: Framework, raw: Mapping[str, Any]
) -> tuple[dict[str, AnswerValue | None], dict[str, str]]:
    """Clean every answer; return the clean values and errors by item code."""
    clean: dict[str, AnswerValue | None] = {}
    errors: dict[str, str] = {}
    for code, value in raw.items():
        item = framework.item(str(code))
        if item is None:
            errors[str(code)] = _(
                "%(code)s is not an item of framework version %(version)s."
            ) % {"code": code, "version": framework.version}
            continue
        try:
            clean[item.code] = parse_answer(item, value)
        except ValueError as exc:
            errors[item.code] = str(exc)
    return clean, errors


def missing_items(
    framework: Framework, answers: Mapping[str, AnswerValue | None]
) -> list[str]:
    """Codes of the items still unanswered (in framework order)."""
    return [code for code in framework.items if answers.get(code) is None]
