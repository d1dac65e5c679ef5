"""The manufacturing order's weight against the weight recorded on the case.

The label's dose range is computed from the order's weight (``StartManufacturing``), so an
order weight that disagrees with the patient's recorded weight would silently change the
range the product is released against. Beyond the site's tolerance the weight is recorded
again first (``RecordWeight``), then the order is accepted.
"""

from __future__ import annotations

from typing import Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.state import CaseState

WEIGHT_SOURCE: Final = (
    "site policy: the manufacturing order's weight agrees with the weight recorded on the "
    "case within the site's tolerance (docs/journey.md, The order's weight)"
)


def check_order_weight(
    state: CaseState, attempted: str, order_kg: float, tolerance_percent: float
) -> None:
    """Refuse an order weight further than ``tolerance_percent`` from the latest recorded one."""
    recorded = state.latest_weight_kg
    if recorded is None or recorded <= 0:
        return
    differs = abs(order_kg - recorded) / recorded * 100.0
    if differs > tolerance_percent:
        raise JourneyError(
            state.step.value,
            attempted,
            f"the order's weight ({order_kg:g} kg) differs from the weight recorded on the case "
            f"({recorded:g} kg) by {differs:.0f}%, more than the site's tolerance of "
            f"{tolerance_percent:g}%: record the patient's weight again first",
            WEIGHT_SOURCE,
            RuleKind.SITE_POLICY,
            "manufacturing.order_weight",
        )
