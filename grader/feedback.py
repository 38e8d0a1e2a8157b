"""Per-learner feedback, built by Lune (nbgrader's `generate_feedback` leaks hidden tests).

Shown: score per exercise, how many trusted checks passed, and the output of each *visible*
test cell. Never shown: hidden test cells (source, outputs or tracebacks) and the checks'
inputs or expected values. Visible outputs are learner-controlled text, so any line that
repeats a line of hidden-test source is redacted, and everything is escaped (HTML) or
indented as code (Markdown) so it cannot inject markup.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_OUTPUT = 4000


def _hidden_lines(source_nb) -> set[str]:
    """Lines that appear only inside hidden-test regions of the source notebook."""
    hidden: set[str] = set()
    public: set[str] = set()
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif len(stripped) >= 8:
                (hidden if inside else public).add(stripped)
    return hidden - public


def visible_output(cell, hidden: set[str]) -> str:
    """Plain text of a visible test cell's outputs, ANSI stripped, hidden lines redacted."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind == "error":
            parts.append("\n".join(out.get("traceback", [])) or f"{out.ename}: {out.evalue}")
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    text = ANSI.sub("", "\n".join(p if isinstance(p, str) else "".join(p) for p in parts))
    lines = [
        "[redacted: hidden test]" if any(h in line for h in hidden) else line
        for line in text.splitlines()
    ]
    text = "\n".join(lines)
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + "\n[... output truncated]"


def collect_visible(autograded_nb, source_nb, exercises) -> dict[str, str]:
    """{function: visible test output} for each exercise."""
    hidden = _hidden_lines(source_nb)
    by_id = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c
        for c in autograded_nb.cells
        if c.cell_type == "code"
    }
    shown = {}
    for ex in exercises:
        visible = [cid for cid in ex.cells if cid.endswith("_visible")] or list(ex.cells[:1])
        texts = [visible_output(by_id[cid], hidden) for cid in visible if cid in by_id]
        shown[ex.function] = "\n".join(t for t in texts if t)
    return shown


def _checks_line(ex: dict) -> str:
    if not ex.get("checks_run", True):
        return "Checks not run: the tests above already failed."
    return f"Checks passed: {ex['checks_passed']} of {ex['checks_total']}."


def render_markdown(result: dict) -> str:
    lines = [
        f"# Feedback: {result['module']}",
        "",
        f"Learner: `{result['learner']}`  ",
        f"Score: **{result['score']:g} / {result['max_score']:g}**",
    ]
    if result.get("late_penalty"):
        lines.append(f"(raw {result['raw_score']:g}, late penalty −{result['late_penalty']:g})")
    if result.get("status") != "graded":
        lines += ["", f"Not graded: {result.get('error', '')}"]
    for notice in result.get("notices", []):
        lines += ["", f"Note: {notice}"]
    for ex in result.get("exercises", []):
        lines += [
            "",
            f"## `{ex['function']}` — {ex['score']:g} / {ex['max_score']:g}",
            "",
            _checks_line(ex),
        ]
        if ex.get("visible_output"):
            lines += ["", "Visible test output:", ""]
            lines += ["    " + line for line in ex["visible_output"].splitlines()]
    return "\n".join(lines) + "\n"


def render_html(result: dict) -> str:
    e = html.escape
    rows = []
    for ex in result.get("exercises", []):
        out = ex.get("visible_output") or ""
        rows.append(
            f"<section><h2><code>{e(ex['function'])}</code> — {ex['score']:g} / "
            f"{ex['max_score']:g}</h2><p>{e(_checks_line(ex))}</p>"
            + (f"<p>Visible test output:</p><pre>{e(out)}</pre>" if out else "")
            + "</section>"
        )
    late = ""
    if result.get("late_penalty"):
        late = f"<p>Raw {result['raw_score']:g}, late penalty −{result['late_penalty']:g}</p>"
    status = ""
    if result.get("status") != "graded":
        status = f"<p>Not graded: {e(str(result.get('error', '')))}</p>"
    status += "".join(f"<p>Note: {e(str(n))}</p>" for n in result.get("notices", []))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Feedback {e(result['module'])} — {e(result['learner'])}</title>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        f"</head><body><h1>Feedback: {e(result['module'])}</h1>"
        f"<p>Learner: <code>{e(result['learner'])}</code> — Score: "
        f"<strong>{result['score']:g} / {result['max_score']:g}</strong></p>"
        f"{late}{status}{''.join(rows)}</body></html>\n"
    )


def write_feedback(folder: Path, result: dict) -> tuple[Path, Path]:
    """Write `<learner>.md` and `<learner>.html` (each replaced atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"{result['learner']}.md"
    page = folder / f"{result['learner']}.html"
    for path, text in ((md, render_markdown(result)), (page, render_html(result))):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return md, page
