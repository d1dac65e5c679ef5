"""What the catalog knows, at a glance: every approval by region, and what is still unknown.

``docs/catalog.md`` carries :func:`markdown_table`'s output (``cartflow catalog table``), and a
test keeps the two equal, so the page never claims more than the data file holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cartflow.domain.catalog import Catalog, Fact, FactVersion, Indication, is_unknown_marker


def _count_markers(value: object) -> int:
    if is_unknown_marker(value):
        return 1
    if isinstance(value, dict):
        return sum(_count_markers(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_markers(v) for v in value)
    return 0


def is_unknown(version: FactVersion) -> bool:
    """Whether a version leaves a guard without a label value: unknown, or a known value
    with an unknown number inside (the lower bound of a dose, the fractions of a split)."""
    return not version.known or _count_markers(version.value) > 0


@dataclass(frozen=True)
class UnknownCounts:
    """How many stored fact versions are unknown, at each level of the file."""

    indication_unknown: int
    indication_total: int
    product_unknown: int
    product_total: int
    nested_unknown: int  # unknown numbers inside otherwise known values

    def to_dict(self) -> dict[str, int]:
        return {
            "indication_fact_versions_unknown": self.indication_unknown,
            "indication_fact_versions": self.indication_total,
            "product_fact_versions_unknown": self.product_unknown,
            "product_fact_versions": self.product_total,
            "numbers_unknown_inside_known_values": self.nested_unknown,
        }

    def sentence(self) -> str:
        return (
            f"{self.indication_unknown} of {self.indication_total} indication fact versions "
            f"are unknown, {self.product_unknown} of {self.product_total} product fact "
            f"versions, and {self.nested_unknown} numbers inside known values"
        )


def _versions(facts: Iterable[Fact]) -> list[FactVersion]:
    return [v for fact in facts for v in fact.versions]


def unknown_counts(catalog: Catalog) -> UnknownCounts:
    """Count every stored version, whatever its dates and regions."""
    indication = _versions(f for i in catalog.indications() for f in i.facts.values())
    product = _versions(f for p in catalog.products for f in p.facts.values())
    return UnknownCounts(
        indication_unknown=sum(not v.known for v in indication),
        indication_total=len(indication),
        product_unknown=sum(not v.known for v in product),
        product_total=len(product),
        nested_unknown=sum(_count_markers(v.value) for v in (*indication, *product) if v.known),
    )


@dataclass(frozen=True)
class ApprovalRow:
    """One indication in one region: since when it is approved, and which facts are unknown."""

    product: str
    brand: str
    indication: str
    diseases: tuple[str, ...]
    region: str
    approved_from: date
    stored: int  # facts with a version in force in the region on the table's date
    unknown: tuple[str, ...]  # the names of those that are unknown

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "brand": self.brand,
            "indication": self.indication,
            "diseases": list(self.diseases),
            "region": self.region,
            "approved_from": self.approved_from.isoformat(),
            "facts_in_force": self.stored,
            "unknown_facts": list(self.unknown),
        }


def _row(catalog: Catalog, indication: Indication, region: str, on: date) -> ApprovalRow:
    starts = [a.valid_from for a in indication.approvals if a.region == region]
    in_force = [
        (name, version)
        for name, fact in indication.facts.items()
        if (version := fact.at(on, region)) is not None
    ]
    product = catalog.product_of(indication)
    return ApprovalRow(
        product=product.id,
        brand=product.brand,
        indication=indication.id,
        diseases=indication.diseases,
        region=region,
        approved_from=min(starts),
        stored=len(in_force),
        unknown=tuple(name for name, version in in_force if is_unknown(version)),
    )


def approval_rows(catalog: Catalog, on: date) -> tuple[ApprovalRow, ...]:
    """Every indication in every region it has an approval in, in catalog order; the facts
    are those in force on ``on``."""
    rows = []
    for indication in catalog.indications():
        for region in dict.fromkeys(a.region for a in indication.approvals):
            rows.append(_row(catalog, indication, region, on))
    return tuple(rows)


def markdown_table(catalog: Catalog, on: date) -> str:
    """The table ``docs/catalog.md`` carries, with the unknown counts above it."""
    lines = [
        f"Catalog {catalog.version}, facts in force on {on.isoformat()}: "
        f"{unknown_counts(catalog).sentence()}.",
        "",
        "| product | indication | region | approved from | unknown facts | which |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in approval_rows(catalog, on):
        which = ", ".join(f"`{name}`" for name in row.unknown) or "—"
        lines.append(
            f"| {row.product} ({row.brand}) | {row.indication.split('/', 1)[1]} | {row.region} "
            f"| {row.approved_from.isoformat()} | {len(row.unknown)} of {row.stored} | {which} |"
        )
    return "\n".join(lines) + "\n"
