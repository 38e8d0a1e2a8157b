"""Trusted checks files: `courses/<course>/checks/<module>.json`.

Format (the course ↔ grader contract, docs/instructor-guide.md):

    {"module": "01-hashing",
     "exercises": [{"function": "sha256_hex",
                    "cells": ["sha256_hex_visible", "sha256_hex_hidden"],
                    "cases": [{"args": [{"$bytes": "616263"}], "kwargs": {},
                               "expected": "ba78…15ad", "source": "FIPS 180-2 B.1"}]}]}

Values are JSON; bytes are `{"$bytes": "<hex>"}`; tuples are lists. Results compare by exact
equality of the encoded values (bool is not int, 1 is not 1.0) unless a case gives `tolerance`.

This is the one reader of checks files (`lune course check` and grading both load them here)
and the one value encoding: the grading sandbox's strict `encode` (exact types only: a
`bytearray`, a `str` subclass or a NaN is refused), which `lune course check` also applies to
the source solutions, so a value the check accepts is a value grading accepts.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.sandbox_runner import Unencodable
from grader.sandbox_runner import decode as decode_value
from grader.sandbox_runner import encode as encode_value

MIN_CASES = 3

__all__ = [
    "Case",
    "ChecksFileError",
    "Exercise",
    "decode_value",
    "encode_value",
    "load_checks",
    "values_equal",
]


class ChecksFileError(GraderError):
    """A checks file that is missing or malformed (one-line message)."""


@dataclass(frozen=True)
class Case:
    """One trusted case: the function's inputs and the value it must return."""

    args: list
    kwargs: dict
    expected: Any
    tolerance: float | None = None
    source: str = ""  # where the expected value comes from (a spec, a test vector)


@dataclass(frozen=True)
class Exercise:
    """One learner function, the grade cells it is worth, and its trusted cases."""

    function: str
    cells: tuple[str, ...]
    cases: tuple[Case, ...]


def values_equal(got: Any, expected: Any, tolerance: float | None = None) -> bool:
    """Exact equality of two encoded values, types included (True != 1, 1 != 1.0)."""
    if type(got) is not type(expected):
        if tolerance is not None and _is_number(got) and _is_number(expected):
            return math.isclose(got, expected, rel_tol=0.0, abs_tol=tolerance)
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(
            values_equal(g, e, tolerance) for g, e in zip(got, expected, strict=True)
        )
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(
            values_equal(got[k], expected[k], tolerance) for k in expected
        )
    if isinstance(expected, float) and tolerance is not None:
        return math.isclose(got, expected, rel_tol=0.0, abs_tol=tolerance)
    return got == expected


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def load_checks(path: Path, module_id: str | None = None) -> list[Exercise]:
    """Read and validate a checks file (ChecksFileError naming the file and the problem).

    `module_id` defaults to the file's name (`checks/<module>.json`).
    """
    path = Path(path)
    module_id = module_id if module_id is not None else path.stem
    name = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChecksFileError(f"{name}: missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChecksFileError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("module") != module_id:
        raise ChecksFileError(f'{name}: "module" must be {module_id!r}')
    raw_exercises = data.get("exercises")
    if not isinstance(raw_exercises, list) or not raw_exercises:
        raise ChecksFileError(f'{name}: "exercises" must be a non-empty list')
    out = []
    for i, ex in enumerate(raw_exercises):
        where = f"{name}: exercises[{i}]"
        if not isinstance(ex, dict) or not isinstance(ex.get("function"), str):
            raise ChecksFileError(f'{where}: needs a "function" name')
        fn = ex["function"]
        cells = ex.get("cells")
        if cells != [f"{fn}_visible", f"{fn}_hidden"]:
            raise ChecksFileError(f'{where}: "cells" must be ["{fn}_visible", "{fn}_hidden"]')
        cases = ex.get("cases")
        if not isinstance(cases, list) or len(cases) < MIN_CASES:
            raise ChecksFileError(f"{where} ({fn}): needs at least {MIN_CASES} cases")
        out.append(Exercise(fn, tuple(cells), tuple(_case(c, f"{where}.cases") for c in cases)))
    names = [e.function for e in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ChecksFileError(f"{name}: function(s) listed twice: {', '.join(dupes)}")
    return out


def _case(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict):
        raise ChecksFileError(f"{where}: each case must be an object")
    args, kwargs = raw.get("args", []), raw.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise ChecksFileError(f'{where}: "args" must be a list and "kwargs" an object')
    if "expected" not in raw:
        raise ChecksFileError(f'{where}: a case has no "expected"')
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ChecksFileError(f'{where}: every case must name its "source"')
    tolerance = raw.get("tolerance")
    if tolerance is not None and not _is_number(tolerance):
        raise ChecksFileError(f'{where}: "tolerance" must be a number')
    unknown = set(raw) - {"args", "kwargs", "expected", "source", "tolerance"}
    if unknown:
        raise ChecksFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    # Every value in its canonical form (lowercase hex bytes): what the sandbox's encoding
    # produces, so grading and the course check compare the same thing. A value the
    # encoding cannot produce (NaN, infinity) could never compare equal: refused.
    plain = []
    for name, value in (("args", args), ("kwargs", kwargs), ("expected", raw["expected"])):
        try:
            plain.append(encode_value(decode_value(value)))
        except (Unencodable, ValueError):
            raise ChecksFileError(
                f'{where}: "{name}" is not a plain JSON value: {value!r:.80}'
            ) from None
    return Case(plain[0], plain[1], plain[2], tolerance, source)


def run_solution_cases(notebook: Path, checks: Path, timeout: float = 120.0) -> dict:
    """Run the notebook's code (not its tests) in a fresh Python process and call every case.

    Returns {function: [encoded result or {"$error": "..."} per case]}. Runs out of the
    Jupyter kernel on purpose: the values compared are the ones a plain process produces.
    """
    cmd = [sys.executable, "-m", "grader.course.solution_runner", str(notebook), str(checks)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ChecksFileError(f"solution functions did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ChecksFileError(f"running the notebook's code failed: {last}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
