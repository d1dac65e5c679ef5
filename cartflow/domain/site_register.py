"""A site's register of signed protocol values, and the one resolution of a fact.

The catalog stores what the labels say; where a label gives no value (a fact stored as
unknown, or absent), a treatment site may sign its own local-protocol value. The register
holds those values per site, per indication (so per product) and per fact, each with the
dates it is in force (``effective_from`` inclusive, ``effective_to`` exclusive or open) and
the local document it comes from, signed by a physician or a quality reviewer.

Nothing in the register is overwritten: a new entry for the same fact **supersedes** the
earlier ones from its own effective date. On a decision date the entry in force is the one
recorded last among those whose dates cover that day, so an earlier entry still answers for
the days before its successor took effect.

:func:`resolve_fact` is the one answer to "what value does this decision use": the label's
value from the catalog when the catalog knows it (a label value always wins), else the
site's signed value in force on the decision date, else (for cases opened before the
register existed) a value recorded on the case itself; it says which it used. Eligibility,
dosing and the journey's guards all read site values through :func:`values_in_force`, which
orders them the same way.

Pure: no clock, no database; the entries and the decision date are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from cartflow.domain.catalog import (
    Catalog,
    CatalogError,
    FactName,
    Indication,
    ResolvedFact,
    SiteProtocolValue,
    check_fact_value,
)
from cartflow.domain.errors import InvalidInput
from cartflow.domain.roles import Role

SIGNER_ROLES: Final = (Role.PHYSICIAN, Role.QUALITY)
"""Who may sign a register entry (docs/catalog.md, The site's register)."""

ENTRY_TYPE: Final = "site_register.signed"
"""The type of a register entry on the site's chain."""

MAX_DOCUMENT_REF: Final = 200


class Used(StrEnum):
    """Which value a resolution used."""

    LABEL = "label"
    SITE_REGISTER = "site_register"
    CASE_VALUE = "case_value"  # a value recorded on the case itself (before the register)


@dataclass(frozen=True)
class RegisterEntry:
    """One signed entry of a site's register, as recorded on the site's chain."""

    site: str  # the site's slug
    indication: str  # the indication id (``<product>/<short>``)
    fact: str
    value: Any
    document_ref: str
    effective_from: date
    effective_to: date | None
    signed_by: str  # the signer's user name
    signer_role: Role
    sequence: int  # its position in the site's chain: a later entry supersedes
    signer_name: str = ""  # the printed name at signing

    @property
    def product(self) -> str:
        return self.indication.split("/", 1)[0]

    def covers(self, on: date) -> bool:
        if on < self.effective_from:
            return False
        return self.effective_to is None or on < self.effective_to

    def as_site_value(self) -> SiteProtocolValue:
        return SiteProtocolValue(
            indication=self.indication,
            fact=self.fact,
            value=self.value,
            document_ref=f"{self.document_ref} (site register, in force from "
            f"{self.effective_from.isoformat()})",
            signed_by=self.signed_by,
            signed_on=self.effective_from,
        )

    def to_data(self) -> dict[str, Any]:
        """The entry's data as recorded on the chain (the sequence is the chain's own)."""
        return {
            "site": self.site,
            "product": self.product,
            "indication": self.indication,
            "fact": self.fact,
            "value": self.value,
            "document_ref": self.document_ref,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "signed_by": self.signed_by,
            "signer_role": self.signer_role.value,
            "signer_name": self.signer_name,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any], sequence: int) -> RegisterEntry:
        to = data.get("effective_to")
        return cls(
            site=str(data["site"]),
            indication=str(data["indication"]),
            fact=str(data["fact"]),
            value=data["value"],
            document_ref=str(data["document_ref"]),
            effective_from=date.fromisoformat(str(data["effective_from"])),
            effective_to=date.fromisoformat(str(to)) if to else None,
            signed_by=str(data["signed_by"]),
            signer_role=Role(str(data["signer_role"])),
            sequence=sequence,
            signer_name=str(data.get("signer_name", "")),
        )


def entry_in_force(
    entries: Iterable[RegisterEntry], site: str, indication: str, fact: str, on: date
) -> RegisterEntry | None:
    """The entry of ``site`` for ``indication`` and ``fact`` in force on ``on``: of those whose
    dates cover the day, the one recorded last (it supersedes the others from its date)."""
    found: RegisterEntry | None = None
    for entry in entries:
        if (
            entry.site == site
            and entry.indication == indication
            and entry.fact == fact
            and entry.covers(on)
            and (found is None or entry.sequence > found.sequence)
        ):
            found = entry
    return found


def values_in_force(
    entries: Iterable[RegisterEntry],
    site: str,
    on: date,
    case_values: Iterable[SiteProtocolValue] = (),
) -> tuple[SiteProtocolValue, ...]:
    """The site values a decision at ``site`` on ``on`` may use, in the order they are read:
    the register's entries in force (one per indication and fact), then the values recorded
    on the case itself before the register existed. Pass them as ``site_values`` to
    eligibility, dosing or ``Indication.resolve``."""
    chosen: dict[tuple[str, str], RegisterEntry] = {}
    for entry in entries:
        if entry.site != site or not entry.covers(on):
            continue
        key = (entry.indication, entry.fact)
        if key not in chosen or entry.sequence > chosen[key].sequence:
            chosen[key] = entry
    ordered = sorted(chosen.values(), key=lambda e: e.sequence)
    return (*(e.as_site_value() for e in ordered), *case_values)


@dataclass(frozen=True)
class Resolution:
    """A fact's value for one decision and which value it used."""

    fact: ResolvedFact
    used: Used
    entry: RegisterEntry | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.fact.to_dict(), "used": self.used.value}


def resolve_fact(
    catalog: Catalog,
    entries: Iterable[RegisterEntry],
    *,
    site: str,
    indication: str,
    fact: str,
    on: date,
    region: str | None,
    case_values: Sequence[SiteProtocolValue] = (),
) -> Resolution:
    """The value of ``fact`` for a decision at ``site`` on ``on`` (see the module docstring).

    Raises :class:`NotInCatalog` when neither the label nor the site gives one, and
    :class:`InvalidInput` for an unknown indication.
    """
    found = catalog.indication(indication)
    register = tuple(entries)
    version = found.fact(fact, on, region)
    if version is not None and version.known:
        return Resolution(found.resolve(fact, on, region), Used.LABEL)
    entry = entry_in_force(register, site, indication, fact, on)
    if entry is not None:
        return Resolution(
            found.resolve(fact, on, region, (entry.as_site_value(),)), Used.SITE_REGISTER, entry
        )
    resolved = found.resolve(fact, on, region, case_values)  # NotInCatalog when none
    return Resolution(resolved, Used.CASE_VALUE)


def unknown_facts(indication: Indication, on: date, region: str | None) -> tuple[str, ...]:
    """The facts of ``indication`` a site may sign on ``on`` in ``region``: those the catalog
    stores as unknown there, plus the fludarabine renal adjustment when the label has none."""
    names = []
    for name in FactName:
        version = indication.fact(name, on, region)
        if version is None:
            if name is FactName.FLUDARABINE_RENAL_ADJUSTMENT:
                names.append(name.value)
            continue
        if not version.known:
            names.append(name.value)
    return tuple(names)


def check_entry(
    catalog: Catalog,
    entry: RegisterEntry,
    region: str | None,
) -> None:
    """Refuse an entry a site may not sign: an unknown indication or fact, a value of the wrong
    shape, dates out of order, no document, a signer who is neither a physician nor a quality
    reviewer, or a fact the label gives on the entry's first day (a label value always wins).

    Raises :class:`InvalidInput` with a message that says what is accepted.
    """
    indication = catalog.indication(entry.indication)  # InvalidInput when unknown
    try:
        name = FactName(entry.fact)
    except ValueError:
        raise InvalidInput(
            f"unknown fact {entry.fact!r}; facts are: {', '.join(f.value for f in FactName)}"
        ) from None
    if entry.signer_role not in SIGNER_ROLES:
        raise InvalidInput(
            "a site protocol value is signed by a physician or a quality reviewer; "
            f"it was signed by a {entry.signer_role.value}"
        )
    document = entry.document_ref.strip() if isinstance(entry.document_ref, str) else ""
    if not document or len(document) > MAX_DOCUMENT_REF:
        raise InvalidInput(
            f"the local source document is required (1 to {MAX_DOCUMENT_REF} characters)"
        )
    if entry.effective_to is not None and entry.effective_to <= entry.effective_from:
        raise InvalidInput("the value's last day must come after its first day")
    try:
        check_fact_value(name, entry.value, f"site protocol value for {name.value}")
    except CatalogError as exc:
        raise InvalidInput(str(exc)) from None
    version = indication.fact(name, entry.effective_from, region)
    if version is not None and version.known:
        raise InvalidInput(
            f"the label gives {name.value.replace('_', ' ')} for {indication.id} on "
            f"{entry.effective_from.isoformat()} ({version.source_text}); a site value only "
            "fills a fact the label does not give"
        )
