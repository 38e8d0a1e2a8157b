"""Marks as Moodle's question types compute them (the rules cited in web/quiz/scoring.py)."""

from __future__ import annotations

import pytest

from web.quiz.gift import parse_gift
from web.quiz.scoring import feedback, mark, parse_number, right_answer, wildcard_match


def q(text: str):
    return parse_gift(text, "t.gift").questions[0]


SINGLE = q("Q? {=right#Yes ~%50%half#Half ~wrong#No ~%-50%bad#Minus}")
MULTI = q("Q? {~%50%a ~%50%b ~%-100%c ~d}")
TF = q("Q? {TRUE#wrong fb#right fb}")
SHORT = q("Q? {=Satoshi Nakamoto#Yes =%50%*Nakamoto#Surname =%0%*#No}")
NUM = q("Q? {#=21000000:0#Exact =%50%20000000..22000000#Close ~#No}")
MATCH = q("Q? {=a -> 1 =b -> 2 =c -> 3 = -> 4}")
ESSAY = q("Q? {}")


def test_single_answer_mark_is_the_chosen_weight_even_negative():
    assert [mark(SINGLE, i) for i in range(4)] == [1.0, 0.5, 0.0, -0.5]
    assert mark(SINGLE, None) == 0.0


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ({0, 1}, 1.0),
        ({0}, 0.5),
        ({0, 1, 3}, 1.0),
        ({0, 2}, 0.0),  # 0.5 - 1.0 floored at 0
        ({0, 1, 2}, 0.0),
        ({3}, 0.0),
        (set(), 0.0),
    ],
)
def test_multiple_answers_sum_of_weights_floored_at_zero(chosen, expected):
    assert mark(MULTI, frozenset(chosen)) == expected


def test_truefalse():
    assert mark(TF, True) == 1.0 and mark(TF, False) == 0.0
    assert feedback(TF, False).specific[0].text == "wrong fb"
    assert feedback(TF, True).specific[0].text == "right fb"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Satoshi Nakamoto", 1.0),
        ("  satoshi nakamoto ", 1.0),  # case ignored, trimmed, as usecase = 0
        ("Dorian Nakamoto", 0.5),  # wildcard
        ("Nakamoto", 0.5),
        ("Hal Finney", 0.0),
        ("", 0.0),
    ],
)
def test_short_answer_first_match_wins(response, expected):
    assert mark(SHORT, response) == expected


def test_wildcard_escapes_and_regex_characters():
    assert wildcard_match("a.b", "a.b") and not wildcard_match("a.b", "axb")
    assert wildcard_match("2\\*3", "2*3") and not wildcard_match("2\\*3", "223")
    assert wildcard_match("é", "e\u0301")  # NFC


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("21000000", 1.0),
        ("21 000 000", 1.0),
        ("2.1e7", 1.0),
        ("21000000,0", 1.0),  # decimal comma
        ("20000000", 0.5),  # range bounds are inclusive
        ("22000000", 0.5),
        ("19999999", 0.0),
        ("lots", 0.0),
    ],
)
def test_numerical_tolerance(response, expected):
    assert mark(NUM, response) == expected


def test_numerical_epsilon_as_moodle():
    q3 = q("Q? {#0.3:0}")
    assert mark(q3, str(0.1 + 0.2)) == 1.0  # 0.30000000000000004 is within Moodle's epsilon


def test_parse_number():
    assert parse_number("1\u202f234,5") == 1234.5
    assert parse_number("1,234.5") is None  # ambiguous: refused rather than guessed
    assert parse_number("") is None


def test_matching_share_of_correct_pairs():
    assert mark(MATCH, {0: 0, 1: 1, 2: 2}) == 1.0
    assert mark(MATCH, {0: 0, 1: 2, 2: 1}) == pytest.approx(1 / 3)
    assert mark(MATCH, {0: 3}) == 0.0  # the distractor
    assert mark(MATCH, {}) == 0.0


def test_essay_waits_for_an_instructor():
    assert mark(ESSAY, "An answer") is None


def test_feedback_and_right_answer():
    fb = feedback(SINGLE, 1)
    assert [t.text for t in fb.specific] == ["Half"] and fb.right_answer == "right"
    assert right_answer(MULTI) == "a, b"
    assert right_answer(NUM) == "21000000"
    assert right_answer(MATCH) == "a → 1, b → 2, c → 3"
    assert feedback(NUM, "20500000").specific[0].text == "Close"
