"""A case's vein-to-vein time so far as a small bar against the product's typical time,
drawn server-side as inline SVG (no script; it scales to the card, down to 390 px).

The numbers come from the domain (``journey.vein_to_vein``): the days since the collection
and the product's typical days, the published real-world median in the catalog with its
source. Where no median is published the bar says so and draws no mark.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cartflow.domain.journey import VeinToVein

WIDTH, HEIGHT = 200, 14
HORIZON_DAYS = 60.0
"""The bar's least span in days, so that bars of different cards compare at a glance."""


def vein_bar(v2v: VeinToVein) -> SafeString:
    """The bar, its typical-time mark, and the words a screen reader reads (its title)."""
    if v2v.days is None:
        return mark_safe("")
    days = v2v.days
    typical = v2v.typical_days
    if typical is not None:
        words = gettext(
            "%(days)s days from collection %(state)s; typically %(typical)s days for this "
            "product (published real-world median)"
        ) % {
            "days": days,
            "state": gettext("so far") if v2v.running else gettext("to infusion"),
            "typical": f"{typical:g}",
        }
    else:
        words = gettext(
            "%(days)s days from collection %(state)s; no typical time is published for this "
            "product"
        ) % {"days": days, "state": gettext("so far") if v2v.running else gettext("to infusion")}
    scale = max(float(days), (typical or 0.0) * 1.25, HORIZON_DAYS)
    filled = WIDTH * min(days / scale, 1.0)
    tone = "over" if v2v.over else ("done" if not v2v.running else "running")
    colour = {"over": "#a10f1c", "done": "#0f6b2f", "running": "#1d5fa8"}[tone]
    parts = [
        f'<svg class="v2v-bar v2v-{tone}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="none" role="img" aria-label="{escape(words)}">',
        f"<title>{escape(words)}</title>",
        f'<rect x="0" y="3" width="{WIDTH}" height="8" rx="2" fill="#e4e8ec"/>',
        f'<rect x="0" y="3" width="{filled:.1f}" height="8" rx="2" fill="{colour}"/>',
    ]
    if typical is not None:
        mark = WIDTH * typical / scale
        parts.append(
            f'<line class="v2v-typical" x1="{mark:.1f}" x2="{mark:.1f}" y1="0" y2="{HEIGHT}" '
            'stroke="#1b1f24" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
