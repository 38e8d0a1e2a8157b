"""The GIFT parser against Moodle's own importer tests (question/format/gift/tests/
giftformat_test.php) and the rules of question/format/gift/format.php."""

from __future__ import annotations

import pytest

from web.quiz.gift import GiftError, parse_gift
from web.quiz.model import BLANK, Format, QType, Text
from web.quiz.weights import FRACTIONS


def one(text: str):
    bank = parse_gift(text, "t.gift")
    assert len(bank.questions) == 1, bank.questions
    return bank.questions[0]


def test_multichoice_single_with_feedback_and_formats():
    # giftformat_test.php test_import_multichoice
    q = one(
        """
// multiple choice with specified feedback for right and wrong answers
::Q2:: What's between orange and green in the spectrum?
{
    =yellow # right; good!
    ~red # [html]wrong, it's yellow
    ~[plain]blue # wrong, it's yellow
}"""
    )
    assert q.qtype is QType.MULTICHOICE and q.single
    assert q.name == "Q2"
    assert q.text == Text("What's between orange and green in the spectrum?", Format.MOODLE)
    assert [c.text for c in q.choices] == [
        Text("yellow"),
        Text("red"),
        Text("blue", Format.PLAIN),
    ]
    assert [c.fraction for c in q.choices] == [1.0, 0.0, 0.0]
    assert [c.feedback for c in q.choices] == [
        Text("right; good!"),
        Text("wrong, it's yellow", Format.HTML),
        Text("wrong, it's yellow", Format.MOODLE),
    ]


def test_multichoice_multiple_answers_with_negative_weights():
    # test_import_multichoice_multi
    q = one(
        """::colours:: What's between orange and green in the spectrum?
{
    ~%50%yellow # right; good!
    ~%-100%red # [html]wrong
    ~%50%off-beige # right; good!
    ~%-100%[plain]blue # wrong
}"""
    )
    assert not q.single
    assert [c.fraction for c in q.choices] == [0.5, -1.0, 0.5, -1.0]
    assert [c.text.text for c in q.choices] == ["yellow", "red", "off-beige", "blue"]
    assert q.choices[1].feedback == Text("wrong", Format.HTML)


def test_multichoice_tricky_full_weight_with_tilde():
    # test_import_multichoice_multi_tricky: ~%100% does not make it single-answer.
    q = one("::c:: Q? {~%100%yellow # right ~%-50%red # wrong ~%-50%blue # wrong}")
    assert not q.single
    assert [c.fraction for c in q.choices] == [1.0, -0.5, -0.5]


def test_equals_answer_keeps_full_weight_even_with_a_percent():
    q = one("Q? {=%50%half? ~no}")
    assert q.choices[0].fraction == 1.0 and q.choices[0].text.text == "%50%half?"


def test_truefalse_with_wrong_and_right_feedback():
    # test_import_truefalse: the first feedback is for a wrong answer, the second for a right one.
    q = one(
        """// true/false
::Q1:: 42 is the Absolute Answer to everything.{
FALSE#42 is the Ultimate Answer.#You gave the right answer.}"""
    )
    assert q.qtype is QType.TRUEFALSE and q.correct is False
    assert q.feedback_wrong.text == "42 is the Ultimate Answer."
    assert q.feedback_right.text == "You gave the right answer."


@pytest.mark.parametrize(("token", "correct"), [("T", True), ("TRUE", True), ("F", False)])
def test_truefalse_tokens(token, correct):
    q = one(f"::2-08 TSL::TSL is blablabla.{{{token}}}")
    assert q.qtype is QType.TRUEFALSE and q.correct is correct and q.name == "2-08 TSL"


def test_lowercase_true_is_a_short_answer_as_in_moodle():
    q = one("Sky is blue.{true}")
    assert q.qtype is QType.SHORTANSWER and q.alternatives[0].text == "true"


def test_shortanswer_weights_wildcard_and_general_feedback():
    # test_import_shortanswer_with_general_feedback
    q = one(
        """::Shortanswer::Which is the best animal?{
    =Frog#Good!
    =%50%Cat#What is it with Moodlers and cats?
    =%0%*#Completely wrong
    ####[html]Here is some general feedback!
}"""
    )
    assert q.qtype is QType.SHORTANSWER
    assert [(a.text, a.fraction) for a in q.alternatives] == [
        ("Frog", 1.0),
        ("Cat", 0.5),
        ("*", 0.0),
    ]
    assert q.alternatives[2].feedback.text == "Completely wrong"
    assert q.general_feedback == Text("Here is some general feedback!", Format.HTML)


def test_shortanswer_without_equals_sign_is_one_full_answer():
    q = one("Two plus two? {four}")
    assert q.qtype is QType.SHORTANSWER and q.alternatives[0].fraction == 1.0


def test_numerical_tolerance_and_wrong_feedback():
    # test_import_numerical: `~#…` becomes a catch-all '*' answer worth 0.
    q = one("::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}")
    assert q.qtype is QType.NUMERICAL
    assert [(n.value, n.tolerance, n.fraction) for n in q.numbers] == [
        (3.0, 2.0, 1.0),
        (None, 0.0, 0.0),
    ]
    assert q.numbers[1].feedback.text == "Completely wrong"


def test_numerical_range_and_several_weighted_answers():
    q = one("When was Grant born? {#=1822:0 =%50%1820..1824#Close ~#No}")
    assert [(n.value, n.tolerance, n.fraction) for n in q.numbers] == [
        (1822.0, 0.0, 1.0),
        (1822.0, 2.0, 0.5),
        (None, 0.0, 0.0),
    ]
    assert q.numbers[1].feedback.text == "Close"


def test_numerical_negative_and_exponent_values():
    q = one("Q {#-1.5e3:0.5}")
    assert (q.numbers[0].value, q.numbers[0].tolerance) == (-1500.0, 0.5)


def test_matching_pairs_formats_and_distractor():
    # test_import_match
    q = one(
        """::Moodle activities::[html]Match the <b>activity</b> to the description.{
    =[html]An activity supporting asynchronous discussions. -> Forum
    =[moodle]A teacher asks a question and specifies a choice of multiple responses. -> Choice
    =[plain]A bank of record entries which participants can add to. -> Database
    =[markdown]A collection of web pages that anyone can add to or edit. -> Wiki
    = -> Chat
}"""
    )
    assert q.qtype is QType.MATCH
    assert q.text.format is Format.HTML and q.general_feedback.format is Format.HTML
    assert [p.answer for p in q.pairs] == ["Forum", "Choice", "Database", "Wiki", "Chat"]
    assert [p.question.format for p in q.pairs] == [
        Format.HTML,
        Format.MOODLE,
        Format.PLAIN,
        Format.MARKDOWN,
        Format.HTML,
    ]
    assert q.pairs[4].question.text == "" and len(q.stems) == 4
    assert q.match_choices == ("Forum", "Choice", "Database", "Wiki", "Chat")


def test_missing_word_puts_a_blank_where_the_answers_were():
    q = one("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert q.text.text == f"Grant is {BLANK} in Grant's tomb."
    assert q.has_blank and q.name is None


def test_answers_at_the_end_leave_no_blank():
    q = one("Who is buried in Grant's tomb?{~Grant =no one}")
    assert not q.has_blank and q.text.text == "Who is buried in Grant's tomb?"


def test_essay_and_essay_with_general_feedback():
    q = one("// essay\n::Q8:: How are you? {}")
    assert q.qtype is QType.ESSAY and q.text.text == "How are you?"
    q = one("::Q9:: Explain a reorg. {####Mention cumulative work.}")
    assert q.qtype is QType.ESSAY and q.general_feedback.text == "Mention cumulative work."


def test_description_has_no_answer_block():
    q = one("::intro:: The next questions are about hashing.")
    assert q.qtype is QType.DESCRIPTION and not q.scored


def test_every_escape():
    q = one(r"::e\:1:: a\:b \#c \=d \{e\} \~f \\g \n h \\n{}")
    assert q.name == "e:1"
    assert q.text.text == "a:b #c =d {e} ~f \\g \n h \\n"


def test_escaped_backslash_before_a_brace_leaves_the_brace_real():
    # `\\{` is a backslash, then the answer block (Moodle replaces `\\` first: MDL-34171).
    q = one(r"A \\{}")
    assert q.qtype is QType.ESSAY and q.text.text == "A \\"


def test_html_with_escaped_braces_in_pre():
    # test_import_pre_content
    q = one(
        "::Q001::[html]<p>What would running the test method print?</p>\n<pre>\n"
        "    public void test() \\{\n        method1();\n    \\}\n</pre>\n{}"
    )
    assert q.text.format is Format.HTML
    assert q.text.text == (
        "<p>What would running the test method print?</p>\n<pre>\n"
        "public void test() {\nmethod1();\n}\n</pre>"
    )  # Moodle trims every line before joining them


def test_unknown_bracket_is_text():
    q = one("[latex]x^2{}")
    assert q.text == Text("[latex]x^2", Format.MOODLE)


def test_comments_give_id_tags_and_sources():
    # test_import_question_with_tags, plus our source convention.
    q = one(
        """// This question is to test importing tags: [tag:tag] [tag:other-tag].
// And an idnumber: [id:myid].
// source: https://developer.bitcoin.org/reference/block_chain.html
::Question name:: How are you? {}"""
    )
    assert q.idnumber == "myid" and q.id == "myid"
    assert q.tags == ("tag", "other-tag")
    assert q.sources == ("https://developer.bitcoin.org/reference/block_chain.html",)


def test_comment_lines_inside_a_question_are_dropped():
    q = one("Q?{\n=yes\n// not an answer ~no\n~no}")
    assert [c.text.text for c in q.choices] == ["yes", "no"]
    assert q.comments == ("// not an answer ~no",)


def test_url_in_text_is_not_a_comment():
    q = one("See https\\://example.org {}")
    assert q.text.text == "See https://example.org"


def test_categories_blank_lines_and_php_empty_zero_line():
    bank = parse_gift(
        "\ufeff$CATEGORY: $course$/top/lune-101/m1\n\n::a:: A {}\n0\n::b:: B {T}\r\n\r\n"
        "$CATEGORY: $course$/top/lune-101/m2\n\n::c:: C {F}\n",
        "t.gift",
    )
    assert [(q.name, q.category) for q in bank.questions] == [
        ("a", "$course$/top/lune-101/m1"),
        ("b", "$course$/top/lune-101/m1"),
        ("c", "$course$/top/lune-101/m2"),
    ]
    assert [q.line for q in bank.questions] == [3, 5, 9]


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_every_moodle_grade_option_is_accepted(fraction):
    percent = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    q = one(f"Q? {{~%{percent}%a ~%100%b}}")
    assert q.choices[0].fraction == fraction


def test_weights_within_moodle_tolerance_are_snapped():
    q = one("Q? {~%33.3333%a ~%33.33333%b ~%33.333333%c}")
    assert [c.fraction for c in q.choices] == [0.3333333] * 3


@pytest.mark.parametrize(
    ("gift", "line", "message"),
    [
        (
            "\n\n::q:: Q? {\n~%100%a\n~%33%b\n}",
            5,
            "weight 33% is not one Moodle accepts (33.33333%)",
        ),
        ("Q? {~%15%a ~b}", 1, "weight 15% is not one Moodle accepts (14.28571%)"),
        ("Q? {~%-35%a ~b}", 1, "weight -35% is not one Moodle accepts (-33.33333%)"),
        ("Q? {=%150%a}", 1, "weight 150% is not one Moodle accepts (100%)"),
        ("Q? {~%--50%a ~b}", 1, "weight %--50% is not a number"),
        ("Q? {~a}", 1, "a multiple-choice question needs at least 2 answers"),
        ("Q? {~a ~ ~b}", 1, "answer 2 is empty"),
        ("Q?\n{=a -> b}", 2, "a matching question needs at least 2 pairs"),
        ("Q? {=a -> b =c d}", 1, "matching pair 2 has no '->' between question and answer"),
        ("Q? {=a -> b =c -> }", 1, "matching pair 2 has no answer after '->'"),
        ("Q? {= -> b = -> c =d -> e}", 1, "a matching question needs at least 2 pairs with a"),
        ("Q? {#}", 1, "a numerical question needs at least one answer"),
        ("Q? {#abc}", 1, "answer 'abc' is not a number"),
        ("Q? {#3:x}", 1, "tolerance 'x' is not a number"),
        ("Q? {#5..1}", 1, "range 5..1 has its minimum above its maximum"),
        ("Q? {#1..y}", 1, "range maximum 'y' is not a number"),
        ("Q? {=}", 1, "accepted answer 1 is empty"),
        ("::n:: Q?\n{=a", 2, "'{' without a closing '}'"),
        ("Q? a}", 1, "'}' without a '{'"),
        ("Q? } {=a}", 1, "'}' before the answer block's '{'"),
        ("Q? {=a {=b}", 1, "'{' inside an answer block"),
        ("Q? {=a}\nmore {=b}", 2, "a second '{' after the answer block"),
        ("Q \ue001 {}", 1, "characters U+E000..U+E006 are reserved"),
    ],
)
def test_errors_name_file_line_and_problem(gift, line, message):
    with pytest.raises(GiftError) as err:
        parse_gift(gift, "quizzes/m04.gift")
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"quizzes/m04.gift:{line}: {message}"), first


def test_every_problem_of_a_file_is_reported():
    with pytest.raises(GiftError) as err:
        parse_gift("Q1? {~%33%a ~b}\n\nQ2? {#abc}\n\nQ3? {=a}", "m.gift")
    assert [line for _, line, _ in err.value.problems] == [1, 3]
