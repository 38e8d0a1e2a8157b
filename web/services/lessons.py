"""A module's lesson page from its release notebook: Markdown sanitized, code shown read-only.

Course notebooks are trusted content, but the sanitizer runs anyway (nh3, Ammonia's rules): the
same function renders learner-controlled Markdown in feedback, and one rule is simpler than two.
"""

from __future__ import annotations

import html
import json

import markdown
import nh3

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
_TAGS = nh3.ALLOWED_TAGS | {"img", "pre", "code", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "img": {"src", "alt", "title"}, "code": {"class"}}


def render_markdown(text: str) -> str:
    """Markdown → sanitized HTML (no script, no event handler, no javascript: URL)."""
    raw = markdown.markdown(text, extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(raw, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "data"})


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def render_lesson(notebook: bytes) -> str:
    """The notebook as one HTML fragment: lesson text, then each code cell as a listing."""
    nb = json.loads(notebook)
    parts = []
    for cell in nb.get("cells", []):
        kind = cell.get("cell_type")
        text = _source(cell)
        if kind == "markdown":
            parts.append(f'<div class="lesson-text">{render_markdown(text)}</div>')
        elif kind == "code" and text.strip():
            # The page's legend (translated) explains the two kinds by their colour.
            meta = cell.get("metadata", {}).get("nbgrader", {})
            kind_class = "exercise" if meta.get("solution") else "test" if meta.get("grade") else ""
            parts.append(
                f'<figure class="lesson-code {kind_class}">'
                f'<pre><code class="language-python">{html.escape(text)}</code></pre></figure>'
            )
    return "\n".join(parts)


def grade_ids(notebook: bytes) -> list[str]:
    nb = json.loads(notebook)
    ids = []
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if isinstance(gid, str):
            ids.append(gid)
    return ids
