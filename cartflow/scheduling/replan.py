"""Re-planning one case when a leg slips, from the facts on the case, saying what moved and why.

Legs that have happened stay where they are; the case's future legs give their capacity back
and are planned again as early as the other cases' plans allow, so a slip never moves another
patient. A failed manufacturing run needs a new collection (the planner assumes no cells were
kept in reserve); a late courier keeps the run and the shipment and moves what follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cartflow.domain.errors import InvalidInput
from cartflow.scheduling.earliest import Fixed, earliest_plan
from cartflow.scheduling.plan import Case, Plan, Usage
from cartflow.scheduling.problem import Problem
from cartflow.scheduling.timings import NoPlan

SlipKind = Literal["manufacturing_failed", "courier_late"]
SLIP_KINDS: tuple[str, ...] = ("manufacturing_failed", "courier_late")


@dataclass(frozen=True)
class Slip:
    """A fact on the case: what went wrong, the day it became known, and a delay in days."""

    kind: SlipKind
    day: int
    delay_days: int = 0


@dataclass(frozen=True)
class Move:
    leg: str
    old: int
    new: int
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"leg": self.leg, "old": self.old, "new": self.new, "why": self.why}


def _why(slip: Slip) -> str:
    if slip.kind == "manufacturing_failed":
        return f"the manufacturing run failed (known on day {slip.day}): a new collection is needed"
    return f"the courier is {slip.delay_days} day(s) late (known on day {slip.day})"


def replan(
    problem: Problem, case: Case, plan: Plan, slip: Slip, usage: Usage
) -> tuple[Plan | NoPlan, list[Move]]:
    """The new plan (booked into ``usage`` in place of the old) and each leg that moved."""
    if slip.kind == "manufacturing_failed":
        if not plan.manufacturing_start <= slip.day <= plan.release:
            raise InvalidInput(
                f"{case.id}: a run fails between its start (day {plan.manufacturing_start}) and "
                f"its release (day {plan.release}); got day {slip.day}"
            )
        fixed = Fixed(not_before=slip.day)
    elif slip.kind == "courier_late":
        if slip.delay_days < 1 or not plan.shipment <= slip.day <= plan.arrival:
            raise InvalidInput(
                f"{case.id}: a late courier is known between shipment (day {plan.shipment}) and "
                f"arrival (day {plan.arrival}) with a delay of at least 1 day"
            )
        fixed = Fixed(
            apheresis=plan.apheresis,
            site=plan.site,
            manufacturing_start=plan.manufacturing_start,
            release=plan.release,
            shipment=plan.shipment,
            arrival=plan.arrival + slip.delay_days,
            not_before=slip.day,
        )
    else:
        raise InvalidInput(f"unknown slip {slip.kind!r}; accepted: {', '.join(SLIP_KINDS)}")
    usage.remove(plan)
    found = earliest_plan(problem, case, usage, fixed)
    if isinstance(found, NoPlan):
        return found, []
    usage.add(found)
    why = _why(slip)
    old, new = plan.legs(), found.legs()
    moves = [Move(leg, old[leg], new[leg], why) for leg in old if old[leg] != new[leg]]
    if found.site != plan.site:
        moves.append(Move("site", 0, 0, f"{why}; manufactured at {found.site}, not {plan.site}"))
    return found, moves
