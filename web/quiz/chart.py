"""The score distribution as a hand-written SVG bar chart: no script, no external resource.

The portal serves it inline or as image/svg+xml; it works offline and under a
Content-Security-Policy without inline script, and every text in it is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 520, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 34, 44
_QUOTE = {'"': "&quot;"}


def distribution_svg(
    bands: Sequence[int],
    title: str = "Score distribution",
    x_label: str = "Score (%)",
    y_label: str = "Attempts",
) -> str:
    """Bars for the attempts per 10 % band (`stats.distribution`), with axes and labels."""
    if len(bands) != 10:
        raise ValueError("ten bands of 10 % are expected")
    peak = max(max(bands), 1)
    plot_w = WIDTH - _LEFT - _RIGHT
    plot_h = HEIGHT - _TOP - _BOTTOM
    bar_w = plot_w / 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title, _QUOTE)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{WIDTH / 2:.0f}" y="18" text-anchor="middle" font-size="14">'
        f"{escape(title)}</text>",
    ]
    base = _TOP + plot_h
    for tick in range(0, peak + 1, max(1, peak // 5)):
        y = base - plot_h * tick / peak
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, count in enumerate(bands):
        h = plot_h * count / peak
        x = _LEFT + i * bar_w
        label = f"{i * 10}–{i * 10 + 10}%: {count}"
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
            f'fill="#3b6ea5"><title>{escape(label)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{base + 14}" text-anchor="middle">{i * 10}</text>'
        )
    parts.append(
        f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}" stroke="#333"/>'
    )
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}" stroke="#333"/>')
    parts.append(
        f'<text x="{_LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text x="12" y="{_TOP + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {_TOP + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
