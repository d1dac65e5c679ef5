"""Blocks foreseen: the refusals the next steps would meet today, before anyone tries.

For every next action whose guards depend only on the case's state, the catalog and the
date, :func:`foreseen_refusals` asks ``decide`` itself with placeholder inputs (the case's
own identifier, the next bag to thaw, the last regimen given), so a rule is still written
once, in ``decide``: the page shows the same refusal, with the same rule identifier and
parameters, that the command would meet. Nothing is recorded; the events are discarded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cartflow.domain.catalog import Catalog, FactName, RuleKind
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import commands as C
from cartflow.domain.journey.apply import FOLLOW_UP_YEARS
from cartflow.domain.journey.decide import decide, infusion_window, monitoring_window
from cartflow.domain.journey.errors import JourneyError, ScanMismatch
from cartflow.domain.journey.guards import FOLLOW_UP_SOURCE, Context, kind_of
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.steps import Step
from cartflow.domain.site_register import RegisterEntry

FORESIGHT_ACTOR: Final = "foresight"
"""The placeholder actor of a dry run: never recorded."""


@dataclass(frozen=True)
class ForeseenBlock:
    """A next action and the refusal it would meet today."""

    command: str
    refusal: JourneyError


def _thaw(state: CaseState) -> C.Command | None:
    """The next bag to thaw: the first of the lowest dose part still to be infused (a later
    part of a split dose meets its own label day)."""
    remaining = sorted(state.remaining_bags, key=lambda b: b.part)
    if not remaining:
        return None
    return C.ThawBag(
        actor=FORESIGHT_ACTOR, scanned_coi=state.coi, scanned_bag_id=remaining[0].bag_id
    )


def _repeat_ld(state: CaseState) -> C.Command | None:
    if not state.ld_courses or state.ld_completed_at is None:
        return None
    return C.StartLymphodepletion(actor=FORESIGHT_ACTOR, regimen=state.ld_courses[-1].regimen)


PLACEHOLDERS: Final[dict[str, Callable[[CaseState], C.Command | None]]] = {
    "CompleteLymphodepletion": lambda s: C.CompleteLymphodepletion(actor=FORESIGHT_ACTOR),
    "ThawBag": _thaw,
    "StartLymphodepletion": _repeat_ld,
    "CompleteMonitoring": lambda s: C.CompleteMonitoring(actor=FORESIGHT_ACTOR),
    "CompleteFollowUp": lambda s: C.CompleteFollowUp(actor=FORESIGHT_ACTOR),
}
"""The next actions whose guards need no one's input: how to ask each with placeholders."""


def foreseen_refusals(
    state: CaseState, catalog: Catalog, now: datetime, register: Iterable[RegisterEntry] = ()
) -> tuple[ForeseenBlock, ...]:
    """The refusals the case's next actions would meet at ``now`` (an aware time), in the
    order of ``state.next_actions``; a scan or input problem is no block of the case's.
    ``register`` is the site's register of signed protocol values, as ``decide`` takes it."""
    register = tuple(register)
    found: list[ForeseenBlock] = []
    for name in state.next_actions:
        make = PLACEHOLDERS.get(name)
        if make is None:
            continue
        if name == "StartLymphodepletion" and state.step is not Step.LYMPHODEPLETED:
            continue  # the first course: nothing time-bound blocks it
        command = make(state)
        if command is None:
            continue
        try:
            decide(state, command, catalog, now, register)
        except ScanMismatch:
            continue
        except JourneyError as refusal:
            found.append(ForeseenBlock(name, refusal))
        except DomainError:
            continue
    return tuple(found)


@dataclass(frozen=True)
class ForeseenWindow:
    """A time window ahead of the case, open or closed, with the dates the rule knows:
    ``infusion.window`` (after lymphodepletion), ``monitoring.window`` (after the infusion),
    ``follow_up.window`` (the years of long-term follow-up)."""

    rule_id: str
    params: dict[str, Any]
    source: str
    kind: RuleKind
    closed: bool = False


def foreseen_windows(
    state: CaseState, catalog: Catalog, now: datetime, register: Iterable[RegisterEntry] = ()
) -> tuple[ForeseenWindow, ...]:
    """The windows the next steps must keep, computed by the same functions as the guards
    (``decide.infusion_window``, ``decide.monitoring_window``) from the fact in force today.
    A fact the catalog does not know gives no window (the block says so)."""
    if not state.site_timezone or not state.indication_id:
        return ()
    ctx = Context(state, catalog, "foresight", now, now, tuple(register))
    found: list[ForeseenWindow] = []
    ended = state.ld_completed_at
    if (
        state.step in (Step.LYMPHODEPLETED, Step.THAWED)
        and ended is not None
        and state.ld_omission is None
        and not state.infusions
    ):
        fact = ctx.try_resolve(FactName.INFUSION_WINDOW_DAYS)
        if fact is not None:
            params = infusion_window(ended, fact, now, ctx.zone)
            found.append(
                ForeseenWindow(
                    "infusion.window",
                    params,
                    fact.source,
                    kind_of(fact),
                    closed=params["day"] > params["max_days"],
                )
            )
    thawed = state.thawed_bag
    thaw = state.thaw_of(thawed) if thawed is not None else None
    if state.step is Step.THAWED and thaw is not None:
        fact = ctx.try_resolve(FactName.POST_THAW_MINUTES)
        if fact is not None:
            minutes = float(fact.value)
            deadline = thaw.at + timedelta(minutes=minutes)
            params = {
                "minutes": minutes,
                "deadline": deadline.astimezone(ctx.zone).isoformat(timespec="minutes"),
            }
            found.append(
                ForeseenWindow(
                    "infusion.post_thaw",
                    params,
                    fact.source,
                    kind_of(fact),
                    closed=now > deadline,
                )
            )
    if state.step is Step.MONITORING and state.infusions:
        fact = ctx.try_resolve(FactName.MONITORING_DAYS)
        if fact is not None:
            params = monitoring_window(state.infusions[-1].at, fact, now, ctx.zone)
            found.append(
                ForeseenWindow("monitoring.window", params, fact.source, kind_of(fact))
            )
    if state.step is Step.LONG_TERM_FOLLOW_UP and state.follow_up_until is not None:
        params = {"years": FOLLOW_UP_YEARS, "until": state.follow_up_until.isoformat()}
        found.append(
            ForeseenWindow("follow_up.window", params, FOLLOW_UP_SOURCE, RuleKind.SITE_POLICY)
        )
    return tuple(found)
