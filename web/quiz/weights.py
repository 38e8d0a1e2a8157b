"""Moodle's grade options: the only answer weights a Moodle import accepts.

question/engine/bank.php (`ensure_fraction_options_initialised`) lists every fraction p/q for
q <= 6, p/10, 1/q for q <= 10 and 1/20, with seven decimals, and their negatives; the importer
(question/format.php → `match_grade_options(..., 'error')`) accepts a weight only if it lies
within 0.00001 of one of them and stores that option's value.
"""

from __future__ import annotations

_POSITIVE = (
    1.0,
    0.9,
    0.8333333,
    0.8,
    0.75,
    0.7,
    0.6666667,
    0.6,
    0.5,
    0.4,
    0.3333333,
    0.3,
    0.25,
    0.2,
    0.1666667,
    0.1428571,
    0.125,
    0.1111111,
    0.1,
    0.05,
)

# Moodle's fraction_options_full(): 0, the positives, and their negatives down to -100 %.
FRACTIONS: tuple[float, ...] = (0.0, *_POSITIVE, *(-f for f in _POSITIVE))

_TOLERANCE = 0.00001


def match_fraction(fraction: float) -> float | None:
    """The grade option `fraction` matches as Moodle's importer sees it, or None."""
    for option in FRACTIONS:
        if abs(fraction - option) < _TOLERANCE:
            return option
    return None


def nearest_fraction(fraction: float) -> float:
    """The grade option closest to `fraction` (for error messages)."""
    return min(FRACTIONS, key=lambda option: abs(fraction - option))


def percent_text(fraction: float) -> str:
    """A fraction as GIFT writes it between % signs: 0.3333333 → '33.33333'."""
    text = f"{fraction * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
