"""Habits the repository keeps: the checks `make test` runs, and a licence that says what the
README says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _recipe(target: str) -> list[str]:
    """The command lines of a Makefile target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_test_checks_format_and_types():
    recipe = _recipe("test")
    assert any(re.search(r"ruff format --check", line) for line in recipe), recipe
    assert any(re.search(r"\bmypy\b", line) for line in recipe), recipe
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert set(config["files"]) >= {"sandbox_chain", "grader", "web"}


def test_every_type_ignore_in_the_library_says_why():
    # A `# type: ignore` silences the checker; the line above it must say what it knows that
    # the checker does not (mypy's warn_unused_ignores removes the ones no longer needed).
    unexplained = []
    for path in sorted((ROOT / "sandbox_chain").rglob("*.py")):
        lines = path.read_text().splitlines()
        for n, line in enumerate(lines):
            if "# type: ignore" not in line:
                continue
            before = [lines[i].strip() for i in range(max(0, n - 3), n)]
            if not any(b.startswith("#") for b in before):
                unexplained.append(f"{path.relative_to(ROOT)}:{n + 1}")
    assert not unexplained, unexplained


def test_the_licence_is_the_one_the_readme_names():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in licence
    assert "Licence: MIT" in (ROOT / "README.md").read_text()
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
