"""Payloads of label reconciliation: labels printed, applied, reprinted and voided."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cartflow.domain.journey import event_types as T
from cartflow.domain.journey.payloads import fields as F
from cartflow.domain.journey.payloads.fields import Data


@dataclass(frozen=True, slots=True)
class LabelSheet:
    """One label of a print: its id and its place in the print (``number`` of ``of``)."""

    label_id: str
    number: int
    of: int

    def to_data(self) -> dict[str, Any]:
        return {"label_id": self.label_id, "number": self.number, "of": self.of}

    @classmethod
    def from_data(cls, d: Data) -> LabelSheet:
        return cls(F.text(d, "label_id"), F.whole(d, "number"), F.whole(d, "of"))


@dataclass(frozen=True, slots=True)
class LabelsPrinted:
    TYPE: ClassVar[str] = T.LABEL_PRINTED
    VERSION: ClassVar[int] = 1

    kind: str
    labels: tuple[LabelSheet, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": len(self.labels),
            "labels": [label.to_data() for label in self.labels],
        }

    @classmethod
    def from_data(cls, d: Data) -> LabelsPrinted:
        labels = tuple(LabelSheet.from_data(x) for x in F.objects(d, "labels", "a label"))
        return cls(F.text(d, "kind"), labels)


@dataclass(frozen=True, slots=True)
class LabelsApplied:
    TYPE: ClassVar[str] = T.LABEL_APPLIED
    VERSION: ClassVar[int] = 1

    label_ids: tuple[str, ...]

    def to_data(self) -> dict[str, Any]:
        return {"label_ids": list(self.label_ids), "count": len(self.label_ids)}

    @classmethod
    def from_data(cls, d: Data) -> LabelsApplied:
        return cls(F.texts(d, "label_ids"))


@dataclass(frozen=True, slots=True)
class LabelReprinted:
    TYPE: ClassVar[str] = T.LABEL_REPRINTED
    VERSION: ClassVar[int] = 1

    label_id: str
    reason: str
    new_label_id: str
    kind: str
    number: int
    of: int

    def to_data(self) -> dict[str, Any]:
        return {
            "label_id": self.label_id,
            "reason": self.reason,
            "new_label_id": self.new_label_id,
            "kind": self.kind,
            "number": self.number,
            "of": self.of,
        }

    @classmethod
    def from_data(cls, d: Data) -> LabelReprinted:
        return cls(
            F.text(d, "label_id"),
            F.text(d, "reason"),
            F.text(d, "new_label_id"),
            F.text(d, "kind"),
            F.whole(d, "number"),
            F.whole(d, "of"),
        )


@dataclass(frozen=True, slots=True)
class LabelsVoided:
    TYPE: ClassVar[str] = T.LABEL_VOIDED
    VERSION: ClassVar[int] = 1

    label_ids: tuple[str, ...]
    reason: str

    def to_data(self) -> dict[str, Any]:
        return {
            "label_ids": list(self.label_ids),
            "count": len(self.label_ids),
            "reason": self.reason,
        }

    @classmethod
    def from_data(cls, d: Data) -> LabelsVoided:
        return cls(F.texts(d, "label_ids"), F.text(d, "reason"))
