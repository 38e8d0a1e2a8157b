"""Fixtures of the course tests (helpers live in coursekit.py)."""

from __future__ import annotations

import pytest
from coursekit import good_cells, good_checks, write_course


@pytest.fixture
def toy_course(tmp_path):
    """A one-module course that passes every check."""
    return write_course(tmp_path / "toy", {"m1": (good_cells(), good_checks("m1"))})
