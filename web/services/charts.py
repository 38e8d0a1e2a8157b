"""Charts as server-rendered SVG: readable without JavaScript, nothing fetched from elsewhere.

Every label is escaped; sizes are fixed so the page layout does not jump.
"""

from __future__ import annotations

from html import escape


def bar_chart(
    bars: list[tuple[str, float]],
    *,
    title: str,
    threshold: float | None = None,
    threshold_label: str = "",
    width: int = 640,
    height: int = 260,
) -> str:
    """Horizontal axis of labels, bars of fractions 0–1, an optional dashed threshold line."""
    left, bottom, top = 40, 50, 24
    plot_h = height - bottom - top
    n = max(1, len(bars))
    slot = (width - left - 10) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{pct}%</text>'
        )
    for i, (label, value) in enumerate(bars):
        v = min(1.0, max(0.0, value))
        h = plot_h * v
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(label)}: {v * 100:.0f}%</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'class="axis">{escape(label)}</text>'
        )
    if threshold is not None:
        y = top + plot_h * (1 - min(1.0, max(0.0, threshold)))
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" class="threshold"/>'
            f'<text x="{width - 12}" y="{y - 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(threshold_label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    fractions: list[float], *, title: str, bins: int = 10, width: int = 640, height: int = 220
) -> str:
    """Distribution of scores (fractions 0–1) in `bins` equal bins; counts above the bars."""
    counts = [0] * bins
    for f in fractions:
        counts[min(bins - 1, max(0, int(f * bins)))] += 1
    peak = max(counts) or 1
    left, bottom, top = 30, 36, 20
    plot_h = height - bottom - top
    slot = (width - left - 10) / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'class="grid"/>',
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / peak
        x = left + i * slot + 2
        lo, hi = i * 100 // bins, (i + 1) * 100 // bins
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot - 4:.1f}" height="{h:.1f}" '
            f'class="bar"><title>{lo}–{hi}%: {c}</title></rect>'
            f'<text x="{x + (slot - 4) / 2:.1f}" y="{top + plot_h - h - 4:.1f}" '
            f'text-anchor="middle" class="axis">{c}</text>'
            f'<text x="{x + (slot - 4) / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'class="axis">{lo}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
