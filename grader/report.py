"""Cohort results out: summary table (mean, median, distribution), nbgrader-style CSV, JSON."""

from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path

from grader.submission import SubmissionResult

#: The columns `nbgrader export` writes, in its order.
CSV_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]


def histogram(fractions: list[float], bins: int = 10) -> list[int]:
    """Counts of score/max in [0,10%), [10%,20%) ... [90%,100%] (100% in the last bin)."""
    counts = [0] * bins
    for f in fractions:
        counts[min(bins - 1, max(0, int(f * bins)))] += 1
    return counts


def summary_table(module: str, results: list[SubmissionResult]) -> str:
    """Mean, median, min/max and a text histogram of the counted scores of one module."""
    graded = [r for r in results if r.status == "graded"]
    lines = [f"module {module}: {len(results)} learners, {len(graded)} graded"]
    if not results:
        return lines[0] + "\n"
    scores = [r.score for r in results]
    top = max((r.max_score for r in results), default=0.0) or 1.0
    lines.append(
        f"{'module':<24} {'n':>4} {'mean':>7} {'median':>7} {'min':>6} {'max':>6} {'of':>6}"
    )
    lines.append(
        f"{module:<24} {len(scores):>4} {statistics.fmean(scores):>7.2f} "
        f"{statistics.median(scores):>7.2f} {min(scores):>6.2f} {max(scores):>6.2f} {top:>6g}"
    )
    counts = histogram([s / top for s in scores])
    width = max(counts) or 1
    lines.append("distribution (percent of max):")
    for i, n in enumerate(counts):
        low, high = i * 10, i * 10 + 10
        label = f"{low:>3}-{high:<3}%" if i < 9 else f"{low:>3}-100%"
        lines.append(f"  {label} {'█' * round(20 * n / width):<20} {n}")
    problems = [r for r in results if r.status != "graded"]
    for r in problems:
        lines.append(f"  {r.status}: {r.learner}: {r.error.splitlines()[-1] if r.error else ''}")
    return "\n".join(lines) + "\n"


def to_csv(results: list[SubmissionResult]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in results:
        writer.writerow(
            {
                "assignment": r.module,
                "duedate": r.duedate,
                "timestamp": r.timestamp,
                "student_id": r.learner,
                "last_name": "",
                "first_name": "",
                "email": "",
                "raw_score": r.raw_score,
                "late_submission_penalty": r.late_penalty,
                "score": r.score,
                "max_score": r.max_score,
            }
        )
    return out.getvalue()


def to_json(module: str, results: list[SubmissionResult], attempts: list[SubmissionResult]) -> str:
    return json.dumps(
        {
            "module": module,
            "results": [r.to_dict() for r in results],
            "attempts": [a.to_dict() for a in attempts],
        },
        indent=1,
    )


def write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
