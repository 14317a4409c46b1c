"""Inline SVG charts built on the server: no JavaScript library, no CDN, no build step.

Pure functions from numbers to markup; Jinja2 escapes nothing here because every
value written is a number we formatted or a label we escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
HEIGHT = 200
PAD = 28


def _scale(values: Sequence[float], lo: float, hi: float, size: float) -> list[float]:
    span = hi - lo or 1.0
    return [size - (v - lo) / span * size for v in values]


def number_text(value: float) -> str:
    """A number as an axis or bar label: thousands in full (`10,590`, not `1.059e+04`),
    small numbers to four significant figures, and never `-0`."""
    value += 0.0  # -0.0 + 0.0 is 0.0
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def line_chart(title: str, values: Sequence[float], *, color: str = "#2563eb") -> str:
    """A polyline of `values` left to right with its min and max labelled;
    an empty chart says so in words rather than drawing nothing."""
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )
    if not values:
        return f'{head}<text x="{PAD}" y="{HEIGHT / 2}">no data yet</text></svg>'
    lo, hi = min(values), max(values)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    ys = _scale(values, lo, hi, inner_h)
    step = inner_w / max(len(values) - 1, 1)
    points = " ".join(f"{PAD + i * step:.1f},{PAD + y:.1f}" for i, y in enumerate(ys))
    return (
        f"{head}"
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>'
        f'<text x="2" y="{PAD - 8}" font-size="11">{number_text(hi)}</text>'
        f'<text x="2" y="{HEIGHT - 6}" font-size="11">{number_text(lo)}</text>'
        "</svg>"
    )


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, color: str = "#059669") -> str:
    """Horizontal bars, one per label (model comparison: a metric per version)."""
    row = 22
    height = max(row * len(bars) + 2 * PAD, 60)
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )
    if not bars:
        return f'{head}<text x="{PAD}" y="{height / 2}">no data yet</text></svg>'
    top = max(abs(v) for _, v in bars) or 1.0
    label_w = 140
    full = WIDTH - label_w - 2 * PAD
    parts = [head]
    for i, (label, value) in enumerate(bars):
        y = PAD + i * row
        w = abs(value) / top * full
        fill = color if value >= 0 else "#dc2626"
        parts.append(
            f'<text x="4" y="{y + 14}" font-size="12">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{fill}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="11">{number_text(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
