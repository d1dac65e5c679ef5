"""What a case may be given as lymphodepletion: the regimens in force for its indication.

One resolution for both readers: the start-of-lymphodepletion guard in ``decide`` (which
refuses any other regimen) and the page that offers the regimens as a choice before the
command exists. The regimens are the label's for the case's indication and region on the
site's calendar date, or a signed site-protocol value where the label's fact is unknown (the
site's register first, then one recorded on the case; docs/catalog.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cartflow.domain.catalog import Catalog, FactName, FactStatus, ResolvedFact
from cartflow.domain.journey.guards import Context
from cartflow.domain.journey.state import CaseState
from cartflow.domain.site_register import RegisterEntry

START_LYMPHODEPLETION = "StartLymphodepletion"


@dataclass(frozen=True)
class Regimens:
    """The lymphodepleting regimens a case may be given, and the fact they come from."""

    fact: ResolvedFact
    regimens: tuple[Mapping[str, Any], ...]

    @property
    def whose(self) -> str:
        """Whose regimens they are, in words: the label's, or the site protocol's."""
        return "the label's" if self.fact.status is FactStatus.LABEL else "the site protocol's"

    def named(self, name: str) -> Mapping[str, Any] | None:
        """The regimen whose catalog id is ``name`` (any case), if the case may be given it."""
        wanted = name.casefold()
        return next((r for r in self.regimens if str(r["id"]).casefold() == wanted), None)


def lymphodepletion_regimens(ctx: Context) -> Regimens:
    """The regimens in force on the command's date; :class:`FactMissing` when the catalog does
    not know them and no signed site-protocol value fills the gap."""
    fact = ctx.resolve(FactName.LYMPHODEPLETION)
    found = tuple(r for r in fact.value or () if isinstance(r, Mapping) and "id" in r)
    return Regimens(fact, found)


def regimens_for_case(
    state: CaseState,
    catalog: Catalog,
    now: datetime,
    register: tuple[RegisterEntry, ...] = (),
) -> Regimens:
    """The regimens the guard would accept for a start of lymphodepletion recorded at ``now``
    (for a page that offers the choice; the guard itself judges the command's own time),
    ``register`` being the case's site's register of signed protocol values."""
    context = Context(state, catalog, START_LYMPHODEPLETION, now, now, register)
    return lymphodepletion_regimens(context)
