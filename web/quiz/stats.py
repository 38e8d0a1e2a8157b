"""Item statistics as Moodle's quiz statistics report computes them.

From question/classes/statistics/questions/calculator.php, for each question, over the attempts
in which it appeared (x = its mark, X = the attempt's total, O = X − x the rest of the test,
s = number of attempts, variances and covariances over s − 1):

* facility index F = mean(x) / max mark (as a percentage);
* standard deviation SD = sqrt(Σ(x − x̄)² / (s − 1)) / max mark (percentage);
* discrimination index D = 100 · Cov(x, O) / sqrt(V(x) · V(O));
* discriminative efficiency DE = 100 · Cov(x, O) / Cov_max(x, O), where Cov_max pairs the
  sorted marks with the sorted rest-of-test scores (the largest covariance these two
  distributions allow).

For the quiz (mod/quiz/report/statistics): the coefficient of internal consistency (Cronbach's
alpha) CIC = 100 · P/(P − 1) · (1 − Σ V(slot marks) / V(X)) over the P slots of the attempts,
a slot being a drawn position as in a Moodle quiz with random questions; error ratio
ER = 100 · sqrt(1 − CIC/100) and standard error SE = ER · SD(X) / 100. Every attempt counts with
the statistics' `which` option: all finished attempts, or each learner's first.

The score distribution is drawn by the portal's `web.services.charts.histogram` from `percents`.

Flags follow Moodle's documentation of the report: facility below 10 % or above 90 %,
discrimination index below 20 (below 0 is invalid), discriminative efficiency below 15.
Marks are per question out of 1 (every question is worth one mark).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AttemptMarks:
    """One finished attempt: `marks[i]` = (question id, mark out of 1) of slot i."""

    learner: str
    number: int
    marks: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        return sum(m for _, m in self.marks)


@dataclass(frozen=True)
class QuestionStats:
    """Moodle's per-question statistics; None where Moodle shows nothing (too few attempts)."""

    question_id: str
    attempts: int
    facility: float | None
    sd: float | None
    discrimination: float | None
    efficiency: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class QuizStats:
    """The quiz's statistics and its questions'."""

    attempts: int
    mean_percent: float | None
    median_percent: float | None
    sd_percent: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None
    percents: tuple[float, ...]  # each attempt's score, for the distribution chart
    questions: tuple[QuestionStats, ...]


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _cov(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 2:
        return None
    mx, my = _mean(xs), _mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (len(xs) - 1)


def _flags(facility, discrimination, efficiency) -> tuple[str, ...]:
    flags = []
    if facility is not None and facility < 10:
        flags.append("very-hard")
    if facility is not None and facility > 90:
        flags.append("very-easy")
    if discrimination is not None and discrimination < 0:
        flags.append("negative-discrimination")
    elif discrimination is not None and discrimination < 20:
        flags.append("weak-discrimination")
    if efficiency is not None and efficiency < 15:
        flags.append("low-efficiency")
    return tuple(flags)


def question_stats(question_id: str, pairs: Sequence[tuple[float, float]]) -> QuestionStats:
    """Statistics of one question from (its mark, the attempt's total) pairs."""
    xs = [x for x, _ in pairs]
    others = [total - x for x, total in pairs]
    s = len(xs)
    facility = 100 * _mean(xs) if s else None
    var_x, var_o, cov = _cov(xs, xs), _cov(others, others), _cov(xs, others)
    sd = 100 * math.sqrt(var_x) if var_x is not None else None
    discrimination = None
    if cov is not None and var_x and var_o:
        discrimination = 100 * cov / math.sqrt(var_x * var_o)
    efficiency = None
    cov_max = _cov(sorted(xs), sorted(others))
    if cov is not None and cov_max:
        efficiency = 100 * cov / cov_max
    return QuestionStats(
        question_id,
        s,
        facility,
        sd,
        discrimination,
        efficiency,
        _flags(facility, discrimination, efficiency),
    )


def _median(xs: Sequence[float]) -> float:
    ys = sorted(xs)
    mid = len(ys) // 2
    return ys[mid] if len(ys) % 2 else (ys[mid - 1] + ys[mid]) / 2


def quiz_stats(attempts: Sequence[AttemptMarks], which: str = "all") -> QuizStats:
    """Statistics over finished attempts (`which` = "all" or "first" per learner)."""
    if which == "first":
        firsts: dict[str, AttemptMarks] = {}
        for a in sorted(attempts, key=lambda a: a.number):
            firsts.setdefault(a.learner, a)
        attempts = list(firsts.values())
    elif which != "all":
        raise ValueError(f"which must be 'all' or 'first', not {which!r}")
    per_question: dict[str, list[tuple[float, float]]] = {}
    for a in attempts:
        total = a.total
        for qid, m in a.marks:
            per_question.setdefault(qid, []).append((m, total))
    questions = tuple(question_stats(qid, pairs) for qid, pairs in sorted(per_question.items()))
    n = len(attempts)
    if not n:
        return QuizStats(0, None, None, None, None, None, None, (), questions)
    size = len(attempts[0].marks)
    percents = [100 * a.total / len(a.marks) if a.marks else 0.0 for a in attempts]
    totals = [a.total for a in attempts]
    var_total = _cov(totals, totals)
    sd_percent = 100 * math.sqrt(var_total) / size if var_total is not None and size else None
    cic = error_ratio = standard_error = None
    same_shape = all(len(a.marks) == size for a in attempts)
    if same_shape and size > 1 and var_total:
        slot_var = sum(_cov(col, col) or 0.0 for col in _slot_columns(attempts, size))
        cic = 100 * size / (size - 1) * (1 - slot_var / var_total)
        if cic <= 100:
            error_ratio = 100 * math.sqrt(max(0.0, 1 - cic / 100))
            standard_error = error_ratio * math.sqrt(var_total) / 100
    return QuizStats(
        attempts=n,
        mean_percent=_mean(percents),
        median_percent=_median(percents),
        sd_percent=sd_percent,
        cic=cic,
        error_ratio=error_ratio,
        standard_error=standard_error,
        percents=tuple(percents),
        questions=questions,
    )


def _slot_columns(attempts: Sequence[AttemptMarks], size: int) -> list[list[float]]:
    return [[a.marks[i][1] for a in attempts] for i in range(size)]


CSV_COLUMNS = (
    "question_id",
    "type",
    "attempts",
    "facility_percent",
    "sd_percent",
    "discrimination_index",
    "discriminative_efficiency",
    "flags",
)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def to_csv(stats: QuizStats, types: Mapping[str, str] | None = None) -> str:
    """The per-question table as CSV (one header row; empty cells where a statistic is None)."""
    types = types or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for q in stats.questions:
        writer.writerow(
            [
                q.question_id,
                types.get(q.question_id, ""),
                q.attempts,
                _fmt(q.facility),
                _fmt(q.sd),
                _fmt(q.discrimination),
                _fmt(q.efficiency),
                " ".join(q.flags),
            ]
        )
    return out.getvalue()
