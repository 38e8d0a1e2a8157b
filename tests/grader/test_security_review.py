"""Security review findings: learner markup reaching an instructor's browser, cheap DoS, sockets."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert.filters import markdown2html

from grader.course.config import load_course
from grader.errors import GraderError, SubmissionRejected
from grader.execution import _clean_outputs
from grader.job import inert_markup, parse_notebook
from grader.sandbox import RESULT_FD_ENV, Limits, Sandbox, probe, runtime_binds
from grader.workspace import prepare_module

TINY = Path(__file__).parent / "fixtures" / "tiny-course"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def active_markup(rendered: str) -> list:
    """Elements a browser would run script for: script/img/svg/iframe, on* handlers, script URLs."""
    parser = _Tags()
    parser.feed(rendered)
    bad = []
    for tag, attrs in parser.found:
        if tag in ("script", "img", "svg", "iframe", "object", "embed", "style"):
            bad.append(tag)
        for key, value in attrs:
            scheme = "".join((value or "").split()).lower()
            if key.startswith("on") or scheme.startswith(("javascript:", "vbscript:")):
                bad.append((tag, key, value))
    return bad


def test_active_mime_outputs_are_dropped_text_plain_kept():
    # nbgrader's formgrader renders the autograded notebook's outputs as raw HTML.
    outputs = [
        {
            "output_type": "display_data",
            "data": {
                "text/plain": "<IPython.core.display.HTML object>",
                "text/html": "<script>fetch('/api/kernels')</script>",
                "application/javascript": "alert(1)",
                "image/svg+xml": "<svg onload=alert(1)></svg>",
                "text/markdown": "<img src=x onerror=alert(1)>",
                "text/latex": "$x$",
                "image/png": 'AAAA"><script>alert(1)</script>',
                "image/jpeg": "/9j/4AAQSkZJRg==\n",
            },
        }
    ]
    (clean,) = _clean_outputs(outputs)
    assert clean["data"] == {
        "text/plain": "<IPython.core.display.HTML object>",
        "image/jpeg": "/9j/4AAQSkZJRg==\n",
    }


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVa\tScRiPt:alert(1))",
        "[x](jav&#x61;script:alert(1))",
        "[x](jav&amp;#x61;script:alert(1))",
        "[x](&#106;avascript:alert(1))",
    ],
)
def test_learner_markdown_renders_inert(source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])
    inert_markup(nb)
    rendered = markdown2html(nb.cells[0].source)
    assert active_markup(rendered) == [], rendered


def test_learner_markdown_still_reads_the_same():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a < b && **c**")])
    inert_markup(nb)
    assert markdown2html(nb.cells[0].source) == markdown2html("a &lt; b &amp;&amp; **c**")
    assert "<strong>c</strong>" in markdown2html(nb.cells[0].source)


def test_raw_html_cells_lose_their_format():
    cell = nbformat.v4.new_raw_cell("<script>alert(1)</script>")
    cell.metadata["format"] = "text/html"
    cell.metadata["raw_mimetype"] = "text/html"
    nb = nbformat.v4.new_notebook(cells=[cell])
    inert_markup(nb)
    assert "format" not in nb.cells[0].metadata
    assert "raw_mimetype" not in nb.cells[0].metadata


def test_cell_count_is_checked_before_nbformat_parses_the_cells():
    # 200,000 cells fit in 8 MiB; nbformat would spend seconds on them before the cap.
    data = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1] * 5000})
    with pytest.raises(SubmissionRejected, match="more than 1000 cells"):
        parse_notebook(data.encode())


def test_no_abstract_unix_socket_to_the_host(tmp_path):
    probe()
    name = f"\0lune-review-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX)
    server.bind(name)
    server.listen(1)
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({name!r}); r = 'connected'\n"
        "except OSError:\n"
        "    r = 'refused'\n"
        f"import os; os.write(int(os.environ['{RESULT_FD_ENV}']), r.encode())\n"
    )
    try:
        box = Sandbox(Limits(wall_seconds=20))
        res = box.run([sys.executable, "-I", "-c", code], binds=runtime_binds())
    finally:
        server.close()
    assert res.output == b"refused"


def test_only_capped_places_are_writable(tmp_path):
    # bwrap's root and /dev tmpfs have no size limit, and tmpfs pages escape RLIMIT_AS: a
    # learner filling them could take the host's memory.
    probe()
    code = (
        "import json\n"
        "got = {}\n"
        "for d in ('/', '/dev', '/dev/shm', '/sandbox', '/tmp'):\n"
        "    n = 0\n"
        "    try:\n"
        "        for i in range(96):\n"
        "            with open(f'{d}/f{i}', 'wb') as f:\n"
        "                f.write(b'x' * (1 << 20))\n"
        "            n += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "    got[d] = n\n"
        f"import os; os.write(int(os.environ['{RESULT_FD_ENV}']), json.dumps(got).encode())\n"
    )
    limits = Limits(wall_seconds=30, tmp_bytes=16 << 20)
    res = Sandbox(limits).run([sys.executable, "-I", "-c", code], binds=runtime_binds())
    got = json.loads(res.output or b"{}")
    assert got["/"] == got["/dev"] == got["/sandbox"] == 0
    assert got["/dev/shm"] <= 8
    assert got["/tmp"] <= 16


def test_a_test_cell_without_trusted_checks_is_refused(tmp_path):
    # The sandbox's cells.jsonl is learner-writable: an uncapped test cell could be forged.
    course_dir = tmp_path / "course"
    shutil.copytree(TINY, course_dir)
    checks_path = course_dir / "checks" / "01-tiny.json"
    checks = json.loads(checks_path.read_text())
    checks["exercises"][0]["cells"].remove("sha256_hex_hidden")
    checks_path.write_text(json.dumps(checks))
    course = load_course(course_dir)
    with pytest.raises(GraderError, match="sha256_hex_hidden"):
        prepare_module(course, course.module("01-tiny"), tmp_path / "work")
