"""Item statistics against a worked example computed by hand (formulas in web/quiz/stats.py).

Four attempts of three questions (one mark each), the same question in each slot:

          a   b   c   total
    L1    1   1   1   3
    L2    1   1   0   2
    L3    1   0   0   1
    L4    0   0   0   0

Question a: x = 1,1,1,0, mean 0.75 → facility 75 %. Deviations .25,.25,.25,-.75, Σd² = 0.75,
V(x) = 0.75/3 = 0.25, SD = 0.5 → 50 %. Rest of test O = 2,1,0,0, mean 0.75, deviations
1.25,.25,-.75,-.75, Σ = 2.75, V(O) = 11/12. Σ dx·dO = .3125 + .0625 − .1875 + .5625 = 0.75,
Cov = 0.25. D = 100 · 0.25 / sqrt(0.25 · 11/12) = 100 · sqrt(3/11) = 52.2233.
Sorted x 0,1,1,1 against sorted O 0,0,1,2: Σ = .5625 − .1875 + .0625 + .3125 = 0.75,
Cov_max = 0.25, DE = 100.

Question b: x = 1,1,0,0, facility 50 %, V = 1/3, SD = 57.735 %. O = 2,1,1,0, mean 1,
V(O) = 2/3. Σ dx·dO = .5 + 0 + 0 + .5 = 1, Cov = 1/3, D = 100 · (1/3) / (sqrt(2)/3) = 70.7107.
Sorted: 0,0,1,1 against 0,1,1,2 gives the same sum, DE = 100.

Question c: x = 1,0,0,0, facility 25 %, V = 0.25, SD = 50 %. O = 2,2,1,0, mean 1.25, V = 11/12.
Σ dx·dO = .5625 − .1875 + .0625 + .3125 = 0.75, Cov = 0.25, D = 52.2233, DE = 100.

Quiz: totals 3,2,1,0, mean 1.5, Σd² = 5, V(X) = 5/3. Slot variances .25 + 1/3 + .25 = 5/6.
CIC = 100 · 3/2 · (1 − (5/6)/(5/3)) = 75. ER = 100 · sqrt(1 − 0.75) = 50,
SE = 50 · sqrt(5/3) / 100 = 0.645497. Percentages 100, 66.7, 33.3, 0: mean 50, median 50,
SD = 100 · sqrt(5/3) / 3 = 43.0331 %. Histogram: one attempt each in 0–10, 30–40, 60–70, 90–100.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest

from web.quiz.stats import AttemptMarks, question_stats, quiz_stats, to_csv
from web.services.charts import histogram

ROWS = {"L1": (1, 1, 1), "L2": (1, 1, 0), "L3": (1, 0, 0), "L4": (0, 0, 0)}


def attempts():
    return [
        AttemptMarks(learner, 1, tuple(zip(("a", "b", "c"), marks, strict=True)))
        for learner, marks in ROWS.items()
    ]


def test_worked_example_per_question():
    stats = {q.question_id: q for q in quiz_stats(attempts()).questions}
    a, b, c = stats["a"], stats["b"], stats["c"]
    assert a.attempts == 4
    assert (a.facility, b.facility, c.facility) == (75, 50, 25)
    assert a.sd == pytest.approx(50) and b.sd == pytest.approx(57.735, abs=1e-3)
    assert c.sd == pytest.approx(50)
    assert a.discrimination == pytest.approx(52.2233, abs=1e-4)
    assert b.discrimination == pytest.approx(70.7107, abs=1e-4)
    assert c.discrimination == pytest.approx(52.2233, abs=1e-4)
    assert [q.efficiency for q in (a, b, c)] == pytest.approx([100, 100, 100])
    assert a.flags == b.flags == c.flags == ()


def test_worked_example_per_quiz():
    s = quiz_stats(attempts())
    assert s.attempts == 4
    assert s.mean_percent == pytest.approx(50) and s.median_percent == pytest.approx(50)
    assert s.sd_percent == pytest.approx(43.0331, abs=1e-4)
    assert s.cic == pytest.approx(75)
    assert s.error_ratio == pytest.approx(50)
    assert s.standard_error == pytest.approx(0.645497, abs=1e-6)
    assert s.percents == pytest.approx((100, 200 / 3, 100 / 3, 0))


def test_flags_for_poor_items():
    # Marks 1,0,0,1 against totals 3,2,1,1 (rest of test 2,2,1,0): by hand Cov = -1/6,
    # V(x) = 1/3, V(O) = 11/12 → D = -100/sqrt(11) = -30.1511; sorted Cov_max = 0.5 → DE = -33.33.
    bad = question_stats("bad", [(1, 3), (0, 2), (0, 1), (1, 1)])
    assert bad.discrimination == pytest.approx(-30.1511, abs=1e-4)
    assert bad.efficiency == pytest.approx(-100 / 3)
    assert bad.flags == ("negative-discrimination", "low-efficiency")
    easy = question_stats("easy", [(1, 3), (1, 2), (1, 1), (1, 1)])
    assert easy.facility == 100 and easy.discrimination is None and easy.flags == ("very-easy",)
    hard = question_stats("hard", [(0, 3), (0, 2), (0, 1)])
    assert hard.flags == ("very-hard",)
    lone = question_stats("lone", [(1, 1)])
    assert lone.sd is None and lone.discrimination is None


def test_first_attempts_only():
    again = AttemptMarks("L4", 2, (("a", 1), ("b", 1), ("c", 1)))
    assert quiz_stats([*attempts(), again], which="first").cic == pytest.approx(75)
    assert quiz_stats([*attempts(), again], which="all").attempts == 5


def test_csv_export():
    rows = list(csv.DictReader(io.StringIO(to_csv(quiz_stats(attempts()), {"a": "multichoice"}))))
    assert [r["question_id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["type"] == "multichoice" and rows[0]["facility_percent"] == "75.00"
    assert rows[1]["discrimination_index"] == "70.71"


def test_distribution_chart_is_plain_svg():
    s = quiz_stats(attempts())
    svg = histogram([p / 100 for p in s.percents], title='Scores <"quiz">')
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f"{ns}rect")
    assert [b.find(f"{ns}title").text.split(": ")[1] for b in bars] == list("1001001001")
    assert "<script" not in svg and "Scores &lt;&quot;quiz&quot;&gt;" in svg
