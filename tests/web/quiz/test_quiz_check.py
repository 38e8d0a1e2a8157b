"""`lune quiz check` and `lune quiz export` over a small course, and the [[quiz]] format."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from quizkit import pool_gift

from web.cli import main
from web.quiz.definition import Kind, QuizConfigError, Review, load_quizzes
from web.quiz.gift import parse_gift

COURSE_TOML = """
id = "lune-101"
title = "T"
pass_mark = 70

[[module]]
id = "m1"
title = "M1"
goals = ["g"]
minutes = 10
points = 1
prerequisites = []

[[module]]
id = "m2"
title = "M2"
goals = ["g"]
minutes = 10
points = 1
prerequisites = []

[[quiz]]
id = "cert"
title = "Certification"
title_fr = "Certification"
time_limit_minutes = 20
attempts = 2
delay_minutes = 60
pass_mark = 70
review = "after_attempt"
eligibility = "course_pass_mark"
pools = [{ module = "m1", draw = 3 }, { module = "m2", draw = 2 }]

[[quiz]]
id = "practice"
kind = "practice"
title = "Practice"
title_fr = "Entraînement"
draw = 2
"""


def make_course(tmp_path: Path, toml: str = COURSE_TOML, banks: dict | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "course.toml").write_text(toml)
    quizzes = tmp_path / "quizzes"
    quizzes.mkdir()
    if banks is None:
        banks = {
            f"{m}.{lang}.gift": pool_gift(m, 4, lang) for m in ("m1", "m2") for lang in ("en", "fr")
        }
    for name, text in banks.items():
        (quizzes / name).write_text(text)
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, ["quiz", *args])


def test_a_good_course_passes(tmp_path):
    result = run("check", str(make_course(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "lune-101: 4 bank(s), 16 question(s), 3 quiz(zes): OK" in result.output


def test_quiz_definitions(tmp_path):
    quizzes = {q.id: q for q in load_quizzes(make_course(tmp_path))}
    cert = quizzes["cert"]
    assert cert.kind is Kind.CERTIFICATION and cert.size == 5
    assert cert.time_limit == timedelta(minutes=20) and cert.grace == timedelta(seconds=30)
    assert cert.attempts == 2 and cert.delay == timedelta(hours=1)
    assert cert.min_course_percent == 70.0 and cert.review is Review.AFTER_ATTEMPT
    practice = quizzes["practice-m1"]
    assert practice.kind is Kind.PRACTICE and practice.attempts is None
    assert practice.time_limit is None and practice.review is Review.IMMEDIATE
    assert set(quizzes) == {"cert", "practice-m1", "practice-m2"}


def broken(gift_en: str, gift_fr: str | None = None) -> dict:
    banks = {f"m2.{lang}.gift": pool_gift("m2", 4, lang) for lang in ("en", "fr")}
    banks["m1.en.gift"] = gift_en
    banks["m1.fr.gift"] = gift_fr if gift_fr is not None else pool_gift("m1", 4, "fr")
    return banks


GOOD = pool_gift("m1", 4)


@pytest.mark.parametrize(
    ("banks", "expected"),
    [
        (
            broken(GOOD.replace("~wrong#No", "~%33%wrong#No", 1)),
            "quizzes/m1.en.gift:8: weight 33% is not one Moodle accepts (33.33333%)",
        ),
        (broken(GOOD.replace("// source: https://example.org/m1-q0\n", "")), "no '// source"),
        (broken(GOOD.replace("// [tag:test]\n", "", 1)), "no '// [tag:…]' comment"),
        (broken(GOOD.replace("// [id:m1-q1]", "// [id:m1-q0]")), "differs from its id"),
        (
            broken(GOOD.replace("::m1-q1::", "::m1-q0::").replace("[id:m1-q1]", "[id:m1-q0]")),
            "duplicate id 'm1-q0'",
        ),
        (
            broken(GOOD.replace("#Yes", "").replace("#No", "").replace("\t####General 0\n", "")),
            "no feedback",
        ),
        (
            broken(GOOD.replace("=right#Yes\n\t~wrong#No\n\t~other#No", "=%50%right#Half")),
            "no answer is worth 100%",
        ),
        (broken(GOOD.replace("lune-101/m1", "lune-101/m9")), "needs exactly one $CATEGORY"),
        (broken(GOOD, pool_gift("m1", 3, "fr")), "'m1-q3' has no French version"),
        (
            broken(GOOD, pool_gift("m1", 4, "fr").replace("\t~other#No\n", "", 1)),
            "has 2 answers in French, 3 in English",
        ),
        (
            broken(
                GOOD,
                pool_gift("m1", 4, "fr").replace("=right#Yes\n\t~wrong", "~right#Yes\n\t=wrong", 1),
            ),
            "weights or key differ between French and English",
        ),
        (broken(GOOD.replace("{\n\t=right", "{TRUE}\n\t=right", 1)), "a second '}'"),
        (
            {**broken(GOOD), "m1.fr.gift": None},
            "quizzes/m1: no fr bank (each module needs en and fr)",
        ),
        ({**broken(GOOD), "m1.gift": "x"}, "quizzes/m1.gift: not named"),
    ],
)
def test_problems_are_reported_one_per_line(tmp_path, banks, expected):
    banks = {k: v for k, v in banks.items() if v is not None}
    result = run("check", str(make_course(tmp_path, banks=banks)))
    assert result.exit_code == 1
    assert expected in result.output, result.output
    assert "problem(s)" in result.output


def test_pool_too_small_for_its_draw(tmp_path):
    toml = COURSE_TOML.replace('module = "m1", draw = 3', 'module = "m1", draw = 5')
    result = run("check", str(make_course(tmp_path, toml)))
    assert "quiz cert: pool m1 (en) has 4 questions for a draw of 5" in result.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('review = "after_attempt"', 'review = "later"'), "quiz[0].review: must be one of"),
        (('review = "after_attempt"', 'review = "after_close"'), "needs a closing date"),
        (('module = "m2", draw = 2', 'module = "m7", draw = 2'), "'m7' is not a [[module]]"),
        (('module = "m2", draw = 2', 'module = "m2", draw = 0'), "pools[1].draw"),
        (("attempts = 2", "attempts = 1.5"), "quiz[0].attempts: must be a whole number"),
        (("pass_mark = 70\nreview", "pass_mark = 170\nreview"), "must be between 0 and 100"),
        (('eligibility = "course_pass_mark"', 'eligibility = "maybe"'), "eligibility"),
        (("delay_minutes = 60", "delay = 60"), "unknown key(s): delay"),
        (('Entraînement"\ndraw = 2', 'Entraînement"\npools = []'), "a practice quiz has none"),
    ],
)
def test_bad_quiz_tables(tmp_path, edit, message):
    old, new = edit
    assert old in COURSE_TOML
    make_course(tmp_path, COURSE_TOML.replace(old, new))
    with pytest.raises(QuizConfigError) as err:
        load_quizzes(tmp_path)
    assert message in str(err.value)
    result = run("check", str(tmp_path))
    assert result.exit_code == 1 and message in result.output


def test_unknown_course_is_one_line():
    result = run("check", "no-such-course")
    assert result.exit_code == 1 and "no course 'no-such-course'" in result.output


def test_export_writes_one_gift_moodle_imports(tmp_path):
    course = make_course(tmp_path / "c")
    out = tmp_path / "all.fr.gift"
    result = run("export", str(course), "--lang", "fr", "--output", str(out))
    assert result.exit_code == 0, result.output
    bank = parse_gift(out.read_text(), "all.fr.gift")
    assert len(bank.questions) == 8
    assert bank.categories == ("$course$/top/lune-101/m1", "$course$/top/lune-101/m2")
    assert bank.questions[0].text.text == "Question (fr) 0?"
