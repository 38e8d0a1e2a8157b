"""parse → write → parse is the identity, for generated questions of every type (hypothesis),
and for a hand-written bank using every feature."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web.quiz.gift import parse_gift, php_trim
from web.quiz.gift_writer import GiftWriteError, write_gift
from web.quiz.model import (
    Alternative,
    Choice,
    Format,
    NumericAnswer,
    Pair,
    QType,
    Question,
    Text,
)
from web.quiz.weights import FRACTIONS

CATEGORY = "$course$/top/lune-101/00-onboarding"
# GIFT's special characters, over-represented so every escape and ambiguity gets exercised.
SPECIALS = list("\\:#={}~\n[]%-></$*0 \t") + ["->", "####", "//", "_____", "[html]", "$CATEGORY:"]
CHAR = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\r\ue000\ue001\ue002\ue003\ue004\ue005\ue006",
)
RAW = st.lists(st.one_of(st.sampled_from(SPECIALS), CHAR), max_size=12).map("".join)
TEXT = RAW.map(php_trim)
NONEMPTY = TEXT.filter(bool)
NO_ARROW = TEXT.filter(lambda t: "->" not in t)
FORMATS = st.sampled_from(list(Format))
FRACTION = st.sampled_from(FRACTIONS)
NUMBER = st.floats(allow_nan=False, allow_infinity=False, width=64)


def texts(default: Format, body=TEXT):
    return st.builds(lambda t, f: Text(t, f if t else default), body, FORMATS)


COMMENT = st.lists(CHAR.filter(lambda c: c != "\n"), max_size=20).map(
    lambda cs: php_trim("// " + "".join(cs))
)


@st.composite
def questions(draw):
    qtype = draw(st.sampled_from(list(QType)))
    text = draw(texts(Format.MOODLE))
    fmt = text.format
    common = dict(
        category=CATEGORY,
        name=draw(st.none() | TEXT),
        text=text,
        general_feedback=Text("", fmt) if qtype is QType.DESCRIPTION else draw(texts(fmt)),
        comments=tuple(draw(st.lists(COMMENT, max_size=3))),
        feedback_wrong=Text("", fmt),
        feedback_right=Text("", fmt),
    )
    if qtype is QType.MULTICHOICE:
        single = draw(st.booleans())
        n = draw(st.integers(2, 5))
        choices = [
            Choice(draw(texts(fmt, NONEMPTY)), draw(FRACTION), draw(texts(fmt))) for _ in range(n)
        ]
        if single and not any(c.fraction == 1.0 for c in choices):
            i = draw(st.integers(0, n - 1))
            choices[i] = Choice(choices[i].text, 1.0, choices[i].feedback)
        return Question(qtype, **common, choices=tuple(choices), single=single)
    if qtype is QType.TRUEFALSE:
        common.update(feedback_wrong=draw(texts(fmt)), feedback_right=draw(texts(fmt)))
        return Question(qtype, **common, correct=draw(st.booleans()))
    if qtype is QType.SHORTANSWER:
        alts = draw(
            st.lists(
                st.builds(
                    Alternative,
                    NO_ARROW.filter(bool),
                    FRACTION,
                    texts(fmt, NO_ARROW),
                ),
                min_size=1,
                max_size=4,
            )
        )
        return Question(qtype, **common, alternatives=tuple(alts))
    if qtype is QType.NUMERICAL:
        nums = draw(
            st.lists(
                st.builds(NumericAnswer, st.none() | NUMBER, NUMBER, FRACTION, texts(fmt)),
                min_size=1,
                max_size=4,
            )
        )
        return Question(qtype, **common, numbers=tuple(nums))
    if qtype is QType.MATCH:
        stems = draw(
            st.lists(
                st.builds(Pair, texts(fmt, NO_ARROW.filter(bool)), NONEMPTY), min_size=2, max_size=4
            )
        )
        distractors = draw(st.lists(st.builds(Pair, st.just(Text("", fmt)), NONEMPTY), max_size=2))
        return Question(qtype, **common, pairs=tuple(stems + distractors))
    return Question(qtype, **common)


@settings(max_examples=250, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=4))
def test_write_then_parse_is_identity(qs):
    text = write_gift(qs)
    parsed = parse_gift(text, "generated.gift").questions
    assert list(parsed) == qs, text
    assert write_gift(parsed) == text


BANK = r"""$CATEGORY: $course$/top/lune-101/04-keys-signatures

// [id:m04-nonce-reuse] [tag:ecdsa] [tag:scenario]
// source: https://en.bitcoin.it/wiki/Elliptic_Curve_Digital_Signature_Algorithm
::m04-nonce-reuse::[markdown]Two signatures share *r*. What can an attacker do?{
    =Recover the private key # [html]Yes: <i>k</i> follows from the two s values.
    ~Nothing # No, the nonce leaks.
    ~%-50%Forge a block # No.
    #### RFC 6979 derives k from the key and the message\: no reuse.
}

// [id:m04-lows]
::m04-lows::High-S signatures are non-standard.{TRUE#Low S is BIP 62's rule.#Right.}

::m04-g::Name the secp256k1 order's bit length.{#256:0#Yes ~#It is 256 bits.}

::m04-sa::Encoding of a compressed key starts with 02 or ...{=03#Yes =%50%0x03#Hex prefix ok}

::m04-match::Match{=SEC -> public key =DER -> signature = -> WIF}

An ECDSA {~public key =signature ~address} proves ownership.

::m04-essay::Explain RFC 6979 \{ briefly \}.{####Deterministic nonces.}

::m04-intro::[html]<p>Keys\: the next questions.</p>
"""


def test_a_hand_written_bank_round_trips():
    first = parse_gift(BANK, "m04.gift").questions
    assert [q.qtype for q in first] == [
        QType.MULTICHOICE,
        QType.TRUEFALSE,
        QType.NUMERICAL,
        QType.SHORTANSWER,
        QType.MATCH,
        QType.MULTICHOICE,
        QType.ESSAY,
        QType.DESCRIPTION,
    ]
    again = parse_gift(write_gift(first), "m04.gift").questions
    assert again == first


@pytest.mark.parametrize(
    "question",
    [
        Question(
            QType.SHORTANSWER,
            CATEGORY,
            "q",
            Text("Q"),
            Text(""),
            alternatives=(Alternative("a->b", 1.0, Text("")),),
        ),
        Question(QType.ESSAY, CATEGORY, " q", Text("Q"), Text("")),
        Question(QType.DESCRIPTION, CATEGORY, "q", Text("Q"), Text("gf")),
        Question(
            QType.MULTICHOICE,
            CATEGORY,
            "q",
            Text("Q"),
            Text(""),
            single=True,
            choices=(Choice(Text("a"), 0.5, Text("")), Choice(Text("b"), 0.0, Text(""))),
        ),
        Question(
            QType.MULTICHOICE,
            CATEGORY,
            "q",
            Text("Q"),
            Text(""),
            single=False,
            choices=(Choice(Text("a"), 0.33, Text("")), Choice(Text("b"), 0.0, Text(""))),
        ),
    ],
)
def test_what_gift_cannot_hold_is_refused_not_mangled(question):
    with pytest.raises(GiftWriteError):
        write_gift([question])
