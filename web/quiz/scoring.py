"""Marking one response as Moodle's question types mark it (fraction of the question's mark).

* multichoice, one answer: the chosen answer's fraction (a negative weight gives a negative mark,
  as in Moodle's qtype_multichoice_single_question);
* multichoice, several answers: the sum of the chosen answers' fractions, clamped to 0..1
  (qtype_multichoice_multi_question::grade_response);
* truefalse: 1 or 0;
* shortanswer: the fraction of the first accepted answer that matches, `*` a wildcard, case
  ignored (GIFT imports `usecase` = 0), Unicode NFC, the response trimmed
  (qtype_shortanswer_question::compare_string_with_wildcard);
* numerical: the fraction of the first answer within its nominal tolerance, widened by Moodle's
  1e-14 relative epsilon (qtype_numerical_answer::get_tolerance_interval); `*` matches any number;
  a decimal comma is accepted (learners in France write 0,5);
* match: the share of stems given their right answer (qtype_match_question::grade_response);
* essay: None until an instructor grades it; description: nothing to mark.

A response is in the question's own terms (answer indices in bank order); turning what the
browser sent into one, and refusing forged indices, is the engine's job (`engine.read_response`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from web.quiz.model import Alternative, NumericAnswer, QType, Question, Text

Response = int | frozenset[int] | bool | str | Mapping[int, int] | None

_EPSILON = 1e-14  # PHP's default precision (14 digits): Moodle's epsilon
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def parse_number(text: str) -> float | None:
    """A learner's number: spaces (thousands) dropped, a lone decimal comma read as a point."""
    raw = _SPACES.sub("", text or "")
    if "," in raw and "." not in raw and raw.count(",") == 1:
        raw = raw.replace(",", ".")
    if not _NUMBER.match(raw):
        return None
    return float(raw)


def within_tolerance(answer: NumericAnswer, value: float) -> bool:
    """Moodle's nominal tolerance test, including its epsilon."""
    if answer.value is None:
        return True
    tol = answer.tolerance + _EPSILON * max(abs(answer.tolerance), abs(answer.value), _EPSILON)
    return answer.value - tol <= value <= answer.value + tol


def wildcard_match(pattern: str, response: str, ignore_case: bool = True) -> bool:
    """Moodle's compare_string_with_wildcard(): runs of unescaped `*` match anything."""
    pattern = unicodedata.normalize("NFC", pattern)
    response = unicodedata.normalize("NFC", response).strip(" \t\n\r\0\x0b")
    bits = re.split(r"(?<!\\)\*+", pattern)
    regex = "^" + ".*".join(re.escape(b.replace("\\*", "*")) for b in bits) + "$"
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.match(regex, response, flags) is not None


def matching_alternative(q: Question, response: str) -> Alternative | None:
    """The first accepted answer the response matches (Moodle's get_matching_answer)."""
    if not response or not response.strip():
        return None
    for alt in q.alternatives:
        if wildcard_match(alt.text, response):
            return alt
    return None


def matching_number(q: Question, response: str) -> NumericAnswer | None:
    """The first numerical answer whose tolerance holds the response."""
    value = parse_number(response)
    if value is None:
        return None
    for answer in q.numbers:
        if within_tolerance(answer, value):
            return answer
    return None


def mark(q: Question, response: Response) -> float | None:
    """The fraction of the mark earned; None for an essay (an instructor marks it)."""
    if q.qtype is QType.ESSAY:
        return None
    if q.qtype is QType.DESCRIPTION or response is None:
        return 0.0
    if q.qtype is QType.MULTICHOICE:
        if q.single:
            return q.choices[response].fraction if isinstance(response, int) else 0.0
        chosen = response if isinstance(response, frozenset) else frozenset()
        total = sum(q.choices[i].fraction for i in chosen)
        return min(max(0.0, total), 1.0)
    if q.qtype is QType.TRUEFALSE:
        return 1.0 if response is q.correct else 0.0
    if q.qtype is QType.SHORTANSWER:
        alt = matching_alternative(q, response) if isinstance(response, str) else None
        return alt.fraction if alt else 0.0
    if q.qtype is QType.NUMERICAL:
        num = matching_number(q, response) if isinstance(response, str) else None
        return num.fraction if num else 0.0
    if q.qtype is QType.MATCH:
        choices = q.match_choices
        stems = [i for i, p in enumerate(q.pairs) if p.question.text]
        given = response if isinstance(response, Mapping) else {}
        right = sum(
            1
            for i in stems
            if given.get(i) is not None
            and 0 <= given[i] < len(choices)
            and choices[given[i]] == q.pairs[i].answer
        )
        return right / len(stems)
    raise ValueError(f"unknown question type {q.qtype}")


@dataclass(frozen=True)
class Feedback:
    """What a review may show for one response: feedback texts and the right answer."""

    specific: tuple[Text, ...]
    general: Text
    right_answer: str


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def right_answer(q: Question, true_label: str = "True", false_label: str = "False") -> str:
    """The correct response in words, as Moodle's "The correct answer is: …"."""
    if q.qtype is QType.MULTICHOICE:
        best = max(c.fraction for c in q.choices)
        if q.single:
            return next(c.text.text for c in q.choices if c.fraction == best)
        return ", ".join(c.text.text for c in q.choices if c.fraction > 0)
    if q.qtype is QType.TRUEFALSE:
        return true_label if q.correct else false_label
    if q.qtype is QType.SHORTANSWER:
        best = max(a.fraction for a in q.alternatives)
        return next(a.text for a in q.alternatives if a.fraction == best)
    if q.qtype is QType.NUMERICAL:
        exact = [n for n in q.numbers if n.value is not None]
        if not exact:
            return "*"
        best = max(exact, key=lambda n: n.fraction)
        value = _plain(best.value)
        return f"{value} ± {_plain(best.tolerance)}" if best.tolerance else value
    if q.qtype is QType.MATCH:
        return ", ".join(f"{p.question.text} → {p.answer}" for p in q.pairs if p.question.text)
    return ""


def feedback(q: Question, response: Response) -> Feedback:
    """The feedback Moodle shows for `response`: the chosen answers' and the general one."""
    specific: list[Text] = []
    if q.qtype is QType.MULTICHOICE:
        if q.single and isinstance(response, int):
            specific.append(q.choices[response].feedback)
        elif isinstance(response, frozenset):
            specific.extend(q.choices[i].feedback for i in sorted(response))
    elif q.qtype is QType.TRUEFALSE and isinstance(response, bool):
        specific.append(q.feedback_right if response is q.correct else q.feedback_wrong)
    elif q.qtype is QType.SHORTANSWER and isinstance(response, str):
        alt = matching_alternative(q, response)
        if alt:
            specific.append(alt.feedback)
    elif q.qtype is QType.NUMERICAL and isinstance(response, str):
        num = matching_number(q, response)
        if num:
            specific.append(num.feedback)
    return Feedback(
        specific=tuple(t for t in specific if t.text),
        general=q.general_feedback,
        right_answer=right_answer(q),
    )
