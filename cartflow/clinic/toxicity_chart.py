"""CRS and ICANS grades over the days after infusion, as a small inline SVG (no library, no
file), drawn beside the transgene curve: a reader sees at once whether the grades rose with
the expansion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cartflow.clinic.queries import payload_of
from cartflow.domain.journey.payloads import CrsGraded, IcansGraded, MalformedData

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 46, 16, 14, 40
SERIES = (("crs", "#a10f1c"), ("icans", "#5a2d91"))


def _points(events: Iterable[Mapping[str, Any]], since: datetime) -> list[tuple[float, int]]:
    points = []
    for event in events:
        try:
            graded = payload_of(event)
        except MalformedData:
            continue  # a grade the chart cannot read is left off it, not drawn as a guess
        if isinstance(graded, CrsGraded | IcansGraded):
            days = (event["occurred_at"] - since).total_seconds() / 86400
            points.append((max(days, 0.0), graded.grade))
    return sorted(points)


def toxicity_chart(
    crs: Iterable[Mapping[str, Any]], icans: Iterable[Mapping[str, Any]], infused: datetime
) -> SafeString:
    """The two grades as step lines from day 0, each point a recorded grade."""
    series = {"crs": _points(crs, infused), "icans": _points(icans, infused)}
    last = max((d for pts in series.values() for d, _ in pts), default=0.0)
    horizon = max(14.0, float(int(last * 1.15) + 1))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return LEFT + inner_w * day / horizon

    def y(grade: float) -> float:
        return TOP + inner_h * (1 - grade / 4)

    label = escape(gettext("CRS and ICANS grades over the days after infusion"))
    axis = escape(gettext("days after infusion"))
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="tox-chart" aria-label="{label}">'
    ]
    for grade in range(5):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(grade):.1f}" y2="{y(grade):.1f}" '
            'stroke="#c9d1d9" stroke-width="1"/>'
            f'<text x="{LEFT - 8}" y="{y(grade) + 4:.1f}" text-anchor="end" '
            f'font-size="12">{grade}</text>'
        )
    step = 7 if horizon > 21 else 2
    for day in range(0, int(horizon) + 1, step):
        parts.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="12">{day}</text>'
        )
    parts.append(
        f'<text x="{LEFT + inner_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'font-size="12">{axis}</text>'
    )
    for name, colour in SERIES:
        points = series[name]
        if not points:
            continue
        path = [f"M{x(0):.1f},{y(0):.1f}"]
        for day, grade in points:
            path.append(f"H{x(day):.1f}V{y(grade):.1f}")
        parts.append(
            f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for day, grade in points:
            parts.append(f'<circle cx="{x(day):.1f}" cy="{y(grade):.1f}" r="4" fill="{colour}"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
