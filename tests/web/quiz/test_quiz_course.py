"""The real course: `lune quiz check` passes over courses/lune-101 and its quizzes run."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from quizkit import T0

from web.cli import main
from web.quiz import engine
from web.quiz.banks import load_banks
from web.quiz.check import check_course
from web.quiz.definition import Kind, load_quizzes

COURSE = Path(__file__).resolve().parents[3] / "courses" / "lune-101"


def test_lune_quiz_check_passes_on_lune_101():
    result = CliRunner().invoke(main, ["quiz", "check", str(COURSE)])
    assert result.exit_code == 0, result.output
    assert "lune-101:" in result.output and result.output.rstrip().endswith("OK")


def test_every_quiz_of_lune_101_draws_in_both_languages():
    report = check_course(COURSE)
    assert report.ok, report.problems
    banks = load_banks(COURSE)
    quizzes = load_quizzes(COURSE, banks.modules)
    kinds = {q.kind for q in quizzes}
    assert kinds == {Kind.CERTIFICATION, Kind.PRACTICE}
    for quiz in quizzes:
        pools = {p.pool: banks.pool(p.pool, "fr") for p in quiz.pools}
        state = engine.start(quiz, pools, [], T0, "seed", course_percent=100.0)
        assert len(state.slots) == quiz.size
        en, fr = banks.index("en"), banks.index("fr")
        for slot in state.slots:
            assert en[slot.question_id].qtype is fr[slot.question_id].qtype
            assert fr[slot.question_id] is not en[slot.question_id]
