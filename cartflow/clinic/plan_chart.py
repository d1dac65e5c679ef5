"""The plan of a case as a timeline against today, and the network's capacity per week: small
inline SVGs drawn on the server (no library, no script), like the toxicity chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_lazy

LEG_WORDS = {
    "apheresis": gettext_lazy("Cell collection"),
    "manufacturing_start": gettext_lazy("Manufacturing starts"),
    "release": gettext_lazy("Product released"),
    "shipment": gettext_lazy("Shipped"),
    "arrival": gettext_lazy("Arrives at the centre"),
    "ld_start": gettext_lazy("Chemotherapy starts"),
    "ld_end": gettext_lazy("Chemotherapy ends"),
    "infusion": gettext_lazy("Infusion"),
    "monitoring_end": gettext_lazy("Monitoring bed until"),
    "monitoring_until": gettext_lazy("Monitoring bed until"),
}
"""Each leg of a plan in plain words (the proposal's keys and the accepted plan's)."""

# Bands drawn on the timeline: (first leg, last leg, colour, words).
BANDS = (
    ("manufacturing_start", "release", "#5a2d91", gettext_lazy("manufacturing")),
    ("shipment", "arrival", "#0b6e99", gettext_lazy("transport")),
    ("ld_start", "ld_end", "#a15c00", gettext_lazy("chemotherapy")),
    ("infusion", "monitoring_end", "#1a7f37", gettext_lazy("monitoring")),
)
WIDTH, HEIGHT = 480, 150
LEFT, RIGHT = 12, 12


def leg_words(key: str) -> str:
    words = LEG_WORDS.get(key.removesuffix("_on") if key.endswith("_on") else key)
    return str(words) if words is not None else key.replace("_", " ")


def timeline_chart(legs: dict[str, date], today: date) -> SafeString:
    """The plan's legs on one line of days, from today (or the first leg) to its last day;
    a dashed line marks today."""
    if not legs:
        return mark_safe("")
    legs = {k.removesuffix("_on"): v for k, v in legs.items()}
    if "monitoring_until" in legs:
        legs["monitoring_end"] = legs.pop("monitoring_until")
    start = min(today, *legs.values())
    end = max(today, *legs.values())
    span = max((end - start).days, 1)
    inner = WIDTH - LEFT - RIGHT

    def x(day: date) -> float:
        return LEFT + inner * (day - start).days / span

    label = escape(gettext("The plan's legs against today"))
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="plan-chart" aria-label="{label}">',
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="60" y2="60" stroke="#c9d1d9" '
        'stroke-width="2"/>',
    ]
    for first, last, colour, words in BANDS:
        if first in legs and last in legs:
            a, b = x(legs[first]), x(legs[last])
            parts.append(
                f'<rect x="{a:.1f}" y="50" width="{max(b - a, 3):.1f}" height="20" rx="3" '
                f'fill="{colour}"><title>{escape(str(words))}</title></rect>'
            )
    for key in ("apheresis", "infusion"):
        if key in legs:
            parts.append(
                f'<circle cx="{x(legs[key]):.1f}" cy="60" r="8" fill="#a10f1c">'
                f"<title>{escape(leg_words(key))}</title></circle>"
            )
            anchor = "start" if x(legs[key]) < WIDTH / 2 else "end"
            parts.append(
                f'<text x="{x(legs[key]):.1f}" y="{100 if key == "infusion" else 30}" '
                f'text-anchor="{anchor}" font-size="18">{escape(leg_words(key))} '
                f"{legs[key].isoformat()}</text>"
            )
    tx = x(today)
    parts.append(
        f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="38" y2="82" stroke="#1f2328" '
        'stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{tx:.1f}" y="{HEIGHT - 10}" text-anchor="{"start" if tx < WIDTH / 2 else "end"}"'
        f' font-size="18">{escape(gettext("today"))} {today.isoformat()}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))


CAP_WIDTH, CAP_HEIGHT = 640, 260
CAP_LEFT, CAP_RIGHT, CAP_TOP, CAP_BOTTOM = 40, 10, 16, 46
SERIES = (
    ("chairs", "#0b6e99", gettext_lazy("apheresis chairs")),
    ("manufacturing", "#5a2d91", gettext_lazy("manufacturing places")),
    ("infusions", "#1a7f37", gettext_lazy("infusion beds")),
)


def _pairs(week: object) -> dict[str, tuple[int, int]]:
    return {
        "chairs": (int(week.chairs_taken), int(week.chairs_offered)),
        "manufacturing": (
            int(week.manufacturing_taken),
            int(week.manufacturing_offered),
        ),
        "infusions": (
            int(week.infusions_planned),
            int(week.infusion_beds),
        ),
    }


def capacity_chart(weeks: Sequence[object]) -> SafeString:
    """Per week, three bars: what is offered (light) and what is taken or planned (dark)."""
    if not weeks:
        return mark_safe("")
    rows = [_pairs(w) for w in weeks]
    top = max([1] + [offered for r in rows for _taken, offered in r.values()])
    inner_w = CAP_WIDTH - CAP_LEFT - CAP_RIGHT
    inner_h = CAP_HEIGHT - CAP_TOP - CAP_BOTTOM
    group = inner_w / len(rows)
    bar = group / (len(SERIES) + 1)

    def y(value: float) -> float:
        return CAP_TOP + inner_h * (1 - value / top)

    label = escape(gettext("Capacity per week: offered and taken"))
    parts = [
        f'<svg viewBox="0 0 {CAP_WIDTH} {CAP_HEIGHT}" role="img" class="capacity-chart" '
        f'aria-label="{label}">'
    ]
    for tick in (0, top // 2, top):
        parts.append(
            f'<line x1="{CAP_LEFT}" x2="{CAP_WIDTH - CAP_RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="#c9d1d9"/>'
            f'<text x="{CAP_LEFT - 6}" y="{y(tick) + 5:.1f}" text-anchor="end" '
            f'font-size="16">{tick}</text>'
        )
    for i, (week, row) in enumerate(zip(weeks, rows, strict=True)):
        for j, (name, colour, words) in enumerate(SERIES):
            taken, offered = row[name]
            x0 = CAP_LEFT + i * group + (j + 0.5) * bar
            title = escape(f"{words}: {taken} / {offered}")
            parts.append(
                f'<rect x="{x0:.1f}" y="{y(offered):.1f}" width="{bar * 0.9:.1f}" '
                f'height="{y(0) - y(offered):.1f}" fill="{colour}" fill-opacity="0.25">'
                f"<title>{title}</title></rect>"
                f'<rect x="{x0:.1f}" y="{y(taken):.1f}" width="{bar * 0.9:.1f}" '
                f'height="{y(0) - y(taken):.1f}" fill="{colour}"><title>{title}</title></rect>'
            )
        monday = week.monday
        parts.append(
            f'<text x="{CAP_LEFT + (i + 0.5) * group:.1f}" y="{CAP_HEIGHT - CAP_BOTTOM + 18}" '
            f'text-anchor="middle" font-size="16">{monday.strftime("%m-%d")}</text>'
        )
    parts.append(
        f'<text x="{CAP_LEFT + inner_w / 2:.1f}" y="{CAP_HEIGHT - 6}" text-anchor="middle" '
        f'font-size="16">{escape(gettext("week starting (month-day)"))}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))
