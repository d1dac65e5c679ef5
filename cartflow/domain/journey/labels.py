"""Label reconciliation: printing, applying, reprinting and voiding a case's labels.

Every label printed for a bag or a shipper is accounted for: applied to what it names, or
voided (destroyed unused) or replaced by a reprint, each with who and when and, for a void
or a reprint, the reason. A product is not released while a printed label is unaccounted
for (:func:`require_reconciled`, asked by ``decide`` beside the release's other guards).

Who prints what: the apheresis unit the collection bag's label, before and around the
collection; the manufacturing site the product bags' and the shipper's, from manufacturing
to release. The clinic checks the printer's role; the journey checks the step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event
from cartflow.domain.journey import commands as C
from cartflow.domain.journey import payloads as P
from cartflow.domain.journey.errors import JourneyError
from cartflow.domain.journey.guards import Context, require_text
from cartflow.domain.journey.payloads import Payload
from cartflow.domain.journey.records import LabelKind, LabelStatus, PrintedLabel
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.steps import Step

EventMaker = Callable[[Payload], Event]

RECONCILIATION_SOURCE: Final = (
    "FACT-JACIE International Standards for Hematopoietic Cellular Therapy Product "
    "Collection, Processing, and Administration, labeling operations: label reconciliation "
    "(docs/labels.md)"
)
RECONCILIATION_RULE: Final = (
    "every label printed for this case must be accounted for before release: applied, or "
    "voided with a reason, or replaced by a reprint with a reason"
)
MAX_LABELS: Final = 50
"""More labels than a product has bags (at most a few dozen) in one print is a typing error."""

PRINT_STEPS: Final[dict[LabelKind, frozenset[Step]]] = {
    LabelKind.COLLECTION_BAG: frozenset(
        {Step.APHERESIS_SCHEDULED, Step.COLLECTION_FAILED, Step.COLLECTED}
    ),
    LabelKind.PRODUCT_BAG: frozenset(
        {Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION, Step.RELEASED}
    ),
    LabelKind.SHIPPER: frozenset({Step.MANUFACTURING, Step.OUT_OF_SPECIFICATION, Step.RELEASED}),
}
"""When a label of each kind is printed: the collection bag's around the collection, the
product's and the shipper's from manufacturing until shipment."""


def label_kind(value: str) -> LabelKind:
    try:
        return LabelKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in LabelKind)
        raise InvalidInput(f"kind: one of {kinds}") from None


def _next_ids(state: CaseState, count: int) -> list[str]:
    start = len(state.labels) + 1
    return [f"L{n:03d}" for n in range(start, start + count)]


def _label(state: CaseState, label_id: str) -> PrintedLabel:
    for label in state.labels:
        if label.label_id == label_id:
            return label
    raise InvalidInput(f"label {label_id[:20]!r} was not printed for this case")


def _unaccounted(ctx: Context, label_ids: tuple[str, ...], what: str) -> list[PrintedLabel]:
    if not label_ids:
        raise InvalidInput("label_ids: name at least one printed label")
    if len(set(label_ids)) != len(label_ids):
        raise InvalidInput("label_ids: each label once")
    labels = [_label(ctx.state, str(i).strip()) for i in label_ids]
    for label in labels:
        if not label.unaccounted:
            raise ctx.refuse(
                f"label {label.label_id} was already {label.status}; only a printed label "
                f"not yet accounted for can be {what}",
                RECONCILIATION_SOURCE,
            )
    return labels


def print_labels(ctx: Context, c: C.PrintLabels, event: EventMaker) -> Event:
    kind = label_kind(c.kind)
    if isinstance(c.count, bool) or not isinstance(c.count, int) or not 1 <= c.count <= MAX_LABELS:
        raise InvalidInput(f"count: 1 to {MAX_LABELS} labels")
    if ctx.state.step not in PRINT_STEPS[kind]:
        steps = ", ".join(sorted(s.value for s in PRINT_STEPS[kind]))
        raise ctx.refuse(
            f"{kind.value} labels are printed only in step(s): {steps}", RECONCILIATION_SOURCE
        )
    if kind is not LabelKind.PRODUCT_BAG and c.count != 1:
        raise InvalidInput(f"count: a {kind.value} label is printed one at a time")
    ids = _next_ids(ctx.state, c.count)
    sheets = tuple(P.LabelSheet(label_id, n, c.count) for n, label_id in enumerate(ids, start=1))
    return event(P.LabelsPrinted(kind.value, sheets))


def apply_labels(ctx: Context, c: C.ApplyLabels, event: EventMaker) -> Event:
    labels = _unaccounted(ctx, tuple(c.label_ids), "applied")
    return event(P.LabelsApplied(tuple(label.label_id for label in labels)))


def reprint_label(ctx: Context, c: C.ReprintLabel, event: EventMaker) -> Event:
    reason = require_text("reason for the reprint", c.reason)
    (original,) = _unaccounted(ctx, (c.label_id,), "reprinted")
    (new_id,) = _next_ids(ctx.state, 1)
    return event(
        P.LabelReprinted(
            original.label_id, reason, new_id, original.kind, original.number, original.of
        )
    )


def void_labels(ctx: Context, c: C.VoidLabels, event: EventMaker) -> Event:
    reason = require_text("reason for voiding", c.reason)
    labels = _unaccounted(ctx, tuple(c.label_ids), "voided")
    return event(P.LabelsVoided(tuple(label.label_id for label in labels), reason))


def require_reconciled(ctx: Context) -> None:
    """Refuse while a printed label of the case is neither applied, voided nor reprinted."""
    open_labels = [label for label in ctx.state.labels if label.unaccounted]
    if open_labels:
        names = ", ".join(f"{label.label_id} ({label.kind})" for label in open_labels)
        raise JourneyError(
            ctx.step,
            ctx.attempted,
            f"{RECONCILIATION_RULE}; unaccounted for: {names}",
            RECONCILIATION_SOURCE,
            RuleKind.SITE_POLICY,
            "labels.unreconciled",
        )


# --- folding (``apply``): never raises past ``apply``'s own guard ---------------------------


def _settle(
    state: CaseState, ids: list[str], status: LabelStatus, e: Event, reason: str = ""
) -> tuple[PrintedLabel, ...]:
    wanted = set(ids)
    return tuple(
        dataclasses.replace(
            label, status=status.value, settled_at=e.occurred_at, settled_by=e.actor, reason=reason
        )
        if label.label_id in wanted and label.unaccounted
        else label
        for label in state.labels
    )


def fold_printed(s: CaseState, e: Event, p: P.LabelsPrinted) -> CaseState:
    printed = tuple(
        PrintedLabel(x.label_id, p.kind, x.number, x.of, e.occurred_at, e.actor) for x in p.labels
    )
    return dataclasses.replace(s, labels=(*s.labels, *printed))


def fold_applied(s: CaseState, e: Event, p: P.LabelsApplied) -> CaseState:
    return dataclasses.replace(s, labels=_settle(s, list(p.label_ids), LabelStatus.APPLIED, e))


def fold_voided(s: CaseState, e: Event, p: P.LabelsVoided) -> CaseState:
    labels = _settle(s, list(p.label_ids), LabelStatus.VOIDED, e, p.reason)
    return dataclasses.replace(s, labels=labels)


def fold_reprinted(s: CaseState, e: Event, p: P.LabelReprinted) -> CaseState:
    labels = _settle(s, [p.label_id], LabelStatus.REPRINTED, e, p.reason)
    new = PrintedLabel(
        p.new_label_id,
        p.kind,
        p.number,
        p.of,
        e.occurred_at,
        e.actor,
        replaces=p.label_id,
        reason=p.reason,
    )
    return dataclasses.replace(s, labels=(*labels, new))


def unaccounted_labels(state: CaseState) -> tuple[PrintedLabel, ...]:
    return tuple(label for label in state.labels if label.unaccounted)
