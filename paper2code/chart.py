"""A small SVG line chart written by our own code (no plotting dependency): the changed-line
ratio over repair iterations, embedded in ``report.html``.

The y axis scales to the data (a "nice" ceiling just above the largest value, ticks at round
steps); with fewer than two points, or only zeros, there is nothing a chart would show and
:func:`line_chart_svg` returns None — the report states the figure in words instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

TICKS = 4


def nice_ceiling(value: float, ticks: int = TICKS) -> float:
    """The smallest round top (``ticks`` steps of 1, 2, 2.5 or 5 × 10^k) at or above
    ``value``."""
    if value <= 0:
        return 1.0
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step * ticks >= value * (1 - 1e-9):
            return step * ticks
    return 10 * magnitude * ticks  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 64
    right: int = 16
    top: int = 36
    bottom: int = 44

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom


def _axes(f: _Frame, top_value: float, n: int, fmt: object, labels: tuple[str, str]) -> list[str]:
    def y(v: float) -> float:
        return f.top + f.plot_h - f.plot_h * (v / top_value)

    def x(i: int) -> float:
        return f.left + f.plot_w * (i / (n - 1))

    parts = [
        f'<line x1="{f.left}" y1="{f.top + f.plot_h}" x2="{f.left + f.plot_w}" '
        f'y2="{f.top + f.plot_h}" stroke="#444"/>',
        f'<line x1="{f.left}" y1="{f.top}" x2="{f.left}" y2="{f.top + f.plot_h}" stroke="#444"/>',
    ]
    for k in range(TICKS + 1):
        v = top_value * k / TICKS
        parts.append(
            f'<line x1="{f.left - 4}" y1="{y(v):.1f}" x2="{f.left + f.plot_w}" y2="{y(v):.1f}" '
            'stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{f.left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{fmt(v)}</text>'  # type: ignore[operator]
        )
    for i in range(n):
        parts.append(
            f'<text x="{x(i):.1f}" y="{f.top + f.plot_h + 18}" text-anchor="middle">{i + 1}</text>'
        )
    x_label, y_label = labels
    mid = f.top + f.plot_h / 2
    parts.append(
        f'<text x="{f.left + f.plot_w / 2}" y="{f.height - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{mid}" text-anchor="middle" transform="rotate(-90 14 {mid})">'
        f"{escape(y_label)}</text>"
    )
    return parts


def line_chart_svg(
    values: Sequence[float],
    *,
    title: str,
    y_label: str,
    x_label: str = "iteration",
    width: int = 560,
    height: int = 260,
    percent: bool = True,
) -> str | None:
    """An SVG line chart of ``values`` at x = 1..n (percentages by default), or None when a
    chart would show nothing (fewer than two points, or only zeros)."""
    n = len(values)
    if n < 2 or not any(values):
        return None
    frame = _Frame(width, height)
    top_value = nice_ceiling(max(values))

    def fmt(v: float) -> str:
        if not percent:
            return f"{v:.3g}"
        digits = max(0, min(3, -math.floor(math.log10(top_value * 100 / TICKS)) + 1))
        return f"{100 * v:.{digits}f}%"

    def point(i: int, v: float) -> tuple[float, float]:
        return (
            frame.left + frame.plot_w * i / (n - 1),
            frame.top + frame.plot_h - frame.plot_h * (v / top_value),
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'class="chart" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        *_axes(frame, top_value, n, fmt, (x_label, y_label)),
    ]
    points = " ".join(
        f"{px:.1f},{py:.1f}" for px, py in (point(i, v) for i, v in enumerate(values))
    )
    parts.append(
        f'<polyline class="series" fill="none" stroke="#1f77b4" stroke-width="2" '
        f'points="{points}"/>'
    )
    for i, v in enumerate(values):
        px, py = point(i, v)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#1f77b4">'
            f"<title>iteration {i + 1}: {100 * v:.3f}%</title></circle>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
