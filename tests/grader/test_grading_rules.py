"""Pure pieces of the grader: late policy, trusted comparison, collection, exports, CLI errors."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.checks import Case, Exercise, calls_for, json_equal, judge
from grader.collect import collect
from grader.course.config import LatePolicy, load_course
from grader.errors import GraderError, SubmissionRejected
from grader.execution import CallOutcome
from grader.job import SubmissionResult, parse_notebook
from grader.progress import Progress
from grader.report import CSV_COLUMNS, histogram, summary_table, to_csv
from web.cli import main

COURSE = Path(__file__).parent / "fixtures" / "tiny-course"
DAY = 86400


@pytest.mark.parametrize(
    ("seconds_late", "fraction"),
    [
        (0, 0.0),
        (14 * 60, 0.0),  # inside the 15-minute grace
        (16 * 60, 0.1),  # a started day
        (DAY + 15 * 60, 0.1),
        (DAY + 16 * 60, 0.2),
        (20 * DAY, 0.5),  # floor: never below 50 % of the earned score
    ],
)
def test_late_policy_rounds_started_periods_up_with_a_floor(seconds_late, fraction):
    policy = LatePolicy(per="day", percent=10, floor=50, grace_minutes=15)
    assert policy.penalty_fraction(seconds_late) == pytest.approx(fraction)


def test_hourly_policy():
    assert LatePolicy(per="hour", percent=5, floor=0).penalty_fraction(3601) == pytest.approx(0.1)


def test_course_toml_is_read(tmp_path):
    course = load_course(COURSE)
    mod = course.module("01-tiny")
    assert mod.due == datetime(2026, 1, 10, 12, tzinfo=UTC)
    assert mod.late_policy == LatePolicy("day", 10, 50, 15)
    with pytest.raises(GraderError, match="no module '99-nope'"):
        course.module("99-nope")
    (tmp_path / "course.toml").write_text(
        'id = "x"\ntitle = "X"\npass_mark = 50\n[late_policy]\nper = "week"\n'
    )
    with pytest.raises(GraderError, match="per: must be one of day, hour"):
        load_course(tmp_path)


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        (1, 1, True),
        (1, True, False),
        (1, 1.0, False),
        ("ab", "ab", True),
        ({"$bytes": "00"}, {"$bytes": "00"}, True),
        ([1, [2]], [1, [2]], True),
        ([1, 2], [1, 2, 3], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
    ],
)
def test_json_equal_is_type_strict(expected, actual, equal):
    assert json_equal(expected, actual) is equal


def test_float_tolerance():
    assert json_equal(0.1 + 0.2, 0.3, tolerance=1e-9)
    assert not json_equal(0.1 + 0.2, 0.3)


def test_expected_values_never_enter_the_sandbox_and_judging_counts_cases():
    ex = Exercise("f", ("f_visible", "f_hidden"), (Case([1], {}, 2), Case([2], {}, 4)))
    calls = calls_for([ex])
    assert calls == [
        {"function": "f", "args": [1], "kwargs": {}},
        {"function": "f", "args": [2], "kwargs": {}},
    ]
    got = judge([ex], [CallOutcome(True, 2), CallOutcome(False, error="ValueError")])
    assert (got[0].passed, got[0].total) == (1, 2)


@pytest.mark.parametrize(
    "data", [b"not json", b"{}", b'{"cells": 5}', b"[" * 100_000, b"\xff\xfe", b"x" * (9 << 20)]
)
def test_bad_notebooks_are_rejected_cleanly(data):
    with pytest.raises(SubmissionRejected):
        parse_notebook(data)


def test_collect_from_lms_zip_without_extracting(tmp_path):
    archive = tmp_path / "cohort.zip"
    nb = (COURSE / "source" / "01-tiny" / "01-tiny.ipynb").read_bytes()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("01-tiny_alice_attempt_2026-01-09-10-00-00_01-tiny.ipynb", nb)
        z.writestr("01-tiny_alice_attempt_2026-01-11-10-00-00_01-tiny.ipynb", nb)
        z.writestr("bob/01-tiny.ipynb", nb)
        z.writestr("../../evil/../x.ipynb", nb)
        z.writestr("readme.txt", b"hello")
    subs, skipped = collect(archive)
    assert sorted((s.learner, s.timestamp.day) for s in subs if s.learner == "alice") == [
        ("alice", 9),
        ("alice", 11),
    ]
    assert {s.learner for s in subs} == {"alice", "bob"}
    assert len(skipped) == 1 and "evil" in skipped[0]
    assert not (tmp_path / "evil").exists()


def test_collect_from_folder(tmp_path):
    nb = (COURSE / "source" / "01-tiny" / "01-tiny.ipynb").read_bytes()
    (tmp_path / "carol.ipynb").write_bytes(nb)
    (tmp_path / "bad name!.ipynb").write_bytes(nb)
    subs, skipped = collect(tmp_path)
    assert [s.learner for s in subs] == ["carol"]
    assert len(skipped) == 1


def _result(learner: str, score: float) -> SubmissionResult:
    return SubmissionResult(
        module="01-tiny",
        learner=learner,
        timestamp="2026-01-09T12:00:00+00:00",
        status="graded",
        raw_score=score,
        score=score,
        max_score=6,
    )


def test_csv_has_nbgrader_export_columns():
    rows = list(csv.DictReader(io.StringIO(to_csv([_result("a", 6), _result("b", 3)]))))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["student_id"], float(r["score"])) for r in rows] == [("a", 6.0), ("b", 3.0)]


def test_summary_table_and_histogram():
    assert histogram([0.0, 0.05, 0.5, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    table = summary_table("01-tiny", [_result("a", 6), _result("b", 3), _result("c", 0)])
    assert "mean" in table and "median" in table
    assert " 3.00 " in table  # mean and median


def test_cli_reports_bad_input_in_one_line(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        main, ["grade", "99-nope", "--course", str(COURSE), "--submissions", str(tmp_path)]
    )
    assert res.exit_code != 0
    assert "no module '99-nope'" in res.output
    assert "Traceback" not in res.output


def test_progress_bar_prints_eta_lines_when_not_a_tty():
    out = io.StringIO()
    bar = Progress(4, label="grading", enabled=True, stream=out)
    for _ in range(4):
        bar.advance()
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("grading [") and "4/4" in lines[-1] and "ETA" in lines[-1]


def test_cli_refuses_when_the_sandbox_cannot_start(tmp_path, monkeypatch):
    import grader.sandbox as sb

    monkeypatch.setattr(sb, "BWRAP", "/nonexistent/bwrap")
    monkeypatch.setattr(sb, "_PROBED", {})
    res = CliRunner().invoke(
        main, ["grade", "01-tiny", "--course", str(COURSE), "--submissions", str(tmp_path)]
    )
    assert res.exit_code != 0
    assert "sandbox cannot start" in res.output and "--unsafe-no-sandbox" in res.output
    assert "Traceback" not in res.output
