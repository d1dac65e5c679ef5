"""The guards: small checks that raise a :class:`JourneyError` naming step, move, rule, source
and kind. ``decide`` composes them; nothing here records anything."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from cartflow.domain import dosing
from cartflow.domain.catalog import (
    Catalog,
    FactStatus,
    Indication,
    ResolvedFact,
    RuleKind,
    SiteProtocolValue,
)
from cartflow.domain.errors import InvalidInput, NotInCatalog
from cartflow.domain.identifiers import Din, identifiers_match, parse_identifier
from cartflow.domain.journey.commands import Signature
from cartflow.domain.journey.errors import FactMissing, JourneyError, ScanMismatch
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.time_windows import local_date, site_zone
from cartflow.domain.roles import Role
from cartflow.domain.site_register import RegisterEntry, values_in_force

POLICY: Final = "cartflow journey policy (docs/journey.md)"
"""The source named for a rule the site's process sets rather than a product label."""
CHAIN_OF_IDENTITY: Final = "chain-of-identity policy (DESIGN.md, the chain of custody)"
SIGNATURES: Final = "signature policy (docs/journey.md, Signatures)"
FOLLOW_UP_SOURCE: Final = (
    "FDA guidance on long-term follow-up after human gene therapy products: 15 years "
    "(docs/journey.md, Follow-up)"
)


@dataclass(frozen=True)
class Context:
    """What every guard needs: the state, the catalog, the command's name and its times."""

    state: CaseState
    catalog: Catalog
    attempted: str
    now: datetime
    at: datetime  # the clinical time of the command (occurred_at, or now)
    register: tuple[RegisterEntry, ...] = ()  # the site's register (every entry, all dates)

    @property
    def step(self) -> str:
        return self.state.step.value

    @property
    def zone(self) -> ZoneInfo:
        return site_zone(self.state.site_timezone)

    @property
    def on(self) -> date:
        """The site's calendar date of the command: facts are taken as in force on it."""
        if not self.state.site_timezone:
            return self.at.date()
        return local_date(self.at, self.zone)

    @property
    def indication(self) -> Indication:
        return self.catalog.indication(self.state.indication_id)

    def refuse(
        self, rule: str, source: str = POLICY, kind: RuleKind = RuleKind.SITE_POLICY
    ) -> JourneyError:
        return JourneyError(self.step, self.attempted, rule, source, kind)

    def refuse_by(self, fact: ResolvedFact, rule: str) -> JourneyError:
        """A refusal under a catalog fact: a label rule, or site policy for a site value."""
        return JourneyError(self.step, self.attempted, rule, fact.source, kind_of(fact))

    @property
    def site_values(self) -> tuple[SiteProtocolValue, ...]:
        """The site's signed values in force on the command's date (its register's, then any
        recorded on the case before the register existed)."""
        return values_in_force(self.register, self.state.site, self.on, self.state.site_values)

    def resolve(self, name: str) -> ResolvedFact:
        """The fact in force on the command's date, the site's values filling gaps."""
        try:
            return self.indication.resolve(
                name, self.on, self.state.region or None, self.site_values
            )
        except NotInCatalog as exc:
            raise FactMissing(self.step, self.attempted, exc) from None

    def try_resolve(self, name: str) -> ResolvedFact | None:
        try:
            return self.resolve(name)
        except FactMissing:
            return None


def kind_of(fact: ResolvedFact) -> RuleKind:
    return RuleKind.LABEL if fact.status is FactStatus.LABEL else RuleKind.SITE_POLICY


def require_text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"the {name} is required")
    return value.strip()


def require_signature(ctx: Context, signature: Signature, roles: Iterable[Role], what: str) -> None:
    """The command is signed, by someone in one of ``roles``."""
    wanted = tuple(roles)
    if not isinstance(signature, Signature):
        raise ctx.refuse(f"{what} needs a signature", SIGNATURES)
    require_text("signer id", signature.signer_id)
    require_text("signature meaning", signature.meaning)
    if signature.signed_at.tzinfo is None or signature.signed_at.utcoffset() is None:
        raise InvalidInput("the signature time must carry a time zone")
    if signature.role not in wanted:
        names = " or ".join(f"a {r.value}" for r in wanted)
        raise ctx.refuse(
            f"{what} needs the signature of {names}; it was signed by a {signature.role.value}",
            SIGNATURES,
        )


def case_coi(ctx: Context) -> Din:
    return parse_identifier(ctx.state.coi)


def require_coi_scan(ctx: Context, scanned: str, what: str) -> None:
    """A scanned chain-of-identity identifier names this case."""
    if not identifiers_match(scanned, case_coi(ctx)):
        raise ScanMismatch(
            ctx.step,
            ctx.attempted,
            f"the {what} scan does not match this case's chain-of-identity identifier; "
            "do not proceed: check the label against the case",
            CHAIN_OF_IDENTITY,
            RuleKind.SITE_POLICY,
            ("coi",),
        )


def require_din_scan(ctx: Context, scanned: str, expected: str) -> None:
    """A scanned collection DIN names the collection the product is made from."""
    if not expected or not identifiers_match(scanned, parse_identifier(expected)):
        raise ScanMismatch(
            ctx.step,
            ctx.attempted,
            "the collection DIN scan does not match this case's collection; do not proceed",
            CHAIN_OF_IDENTITY,
            RuleKind.SITE_POLICY,
            ("din",),
        )


def require_bag_scans(ctx: Context, scanned: Iterable[str], expected: Iterable[str]) -> None:
    """Every bag of the case is scanned, and nothing else."""
    got = sorted(str(s).strip() for s in scanned)
    want = sorted(expected)
    if got != want:
        raise ScanMismatch(
            ctx.step,
            ctx.attempted,
            f"the bag scans do not match this case's {len(want)} bag(s); every bag is scanned "
            "at every hand-off",
            CHAIN_OF_IDENTITY,
            RuleKind.SITE_POLICY,
            ("bag_id",),
        )


def dose_range(rule: Any, weight_kg: float) -> tuple[float | None, float]:
    """The label's dose range (total CAR+ viable T cells) for ``rule`` at ``weight_kg``, from
    :func:`cartflow.domain.dosing.dose_range`; a lower bound of ``None`` is not in the label."""
    found = dosing.dose_range(rule, weight_kg)
    low = None if found.min_cells is None else float(found.min_cells)
    return low, float(found.max_cells)
