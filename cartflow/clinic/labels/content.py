"""What each printed label says: the collection bag's, each product bag's and the shipper's.

Every label carries the case's chain-of-identity identifier eye-readable (its check character
boxed, as ISBT 128 labels print it) and in two symbols: Code 128 with the ISBT 128 data
structure, and a DataMatrix with ISBT 128's compound message. It says "ISBT 128" only where
the site's facility code was assigned by ICCBBA; elsewhere "ISBT 128 structure", since the
code is a placeholder.

A product bag's and the shipper's label never name the patient: they are built from the case
state and the catalog alone, and take no patient record. The apheresis collection bag's label
names what the apheresis unit's site setting lists (``Site.apheresis_label_fields``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, TypeVar

from django.utils import translation
from django.utils.translation import gettext as _

from cartflow.domain.identifiers import Din, parse_identifier
from cartflow.domain.isbt128 import compound_message
from cartflow.domain.journey.records import LabelKind

APHERESIS_LABEL_FIELDS: Final = (
    "patient_name",
    "birth_date",
    "record_number",
    "collection_din",
    "collected_on",
)
"""The fields a site may put on its collection bag's label, in the order they are printed."""

LABEL_LANGUAGE: Final = "en"
"""Labels are printed in English whatever the language of the page that asked for them: a bag
is read at every hand-off, across sites and countries, and the label fonts carry Latin glyphs
only (the words stay marked for translation should a site ever print its own language)."""

Built = TypeVar("Built")


def _in_label_language(build: Callable[..., Built]) -> Callable[..., Built]:
    @functools.wraps(build)
    def built(*args: Any, **kwargs: Any) -> Built:
        with translation.override(LABEL_LANGUAGE):
            return build(*args, **kwargs)

    return built


def apheresis_field_titles() -> dict[str, str]:
    return {
        "patient_name": _("Patient"),
        "birth_date": _("Born"),
        "record_number": _("Record number"),
        "collection_din": _("Collection DIN"),
        "collected_on": _("Collected"),
    }


@dataclass(frozen=True)
class LabelContent:
    """Everything printed on one label; ``lines`` are (heading, value) pairs."""

    kind: LabelKind
    label_id: str
    coi: Din
    title: str
    standard: str
    lines: tuple[tuple[str, str], ...]
    expires_at: datetime | None = None

    @property
    def code128(self) -> str:
        return self.coi.barcode

    @property
    def datamatrix(self) -> str:
        return compound_message(self.coi, self.expires_at)

    def text(self) -> str:
        """Every word printed, for checks on what a label reveals."""
        parts = [self.title, self.standard, self.coi.eye_readable]
        parts += [f"{heading}: {value}" for heading, value in self.lines]
        return "\n".join(parts)


def standard_line(iccbba_assigned: bool) -> str:
    return "ISBT 128" if iccbba_assigned else _("ISBT 128 structure (placeholder facility code)")


def storage_text(max_celsius: float | None) -> str:
    if max_celsius is None:
        return _("as the product's documentation states")
    return _("at or below %(celsius)s °C (vapour phase of liquid nitrogen)") % {
        "celsius": f"{max_celsius:g}"
    }


def receiver_checks(kind: LabelKind) -> str:
    if kind is LabelKind.COLLECTION_BAG:
        return _(
            "Manufacturer: check the chain-of-identity identifier and the DIN against the "
            "order before accepting"
        )
    if kind is LabelKind.SHIPPER:
        return _(
            "Receiving site: check the identifier against the order, the seal, the bag count "
            "and the temperature log before accepting"
        )
    return _(
        "Receiving site: check the identifier against the patient's record and the order, "
        "and the bag's integrity, before storing"
    )


@_in_label_language
def collection_bag_label(
    *,
    coi: str,
    label_id: str,
    iccbba_assigned: bool,
    fields: Sequence[str],
    values: Mapping[str, str],
) -> LabelContent:
    """The collection bag's label: the identifier, then the site's chosen fields in order."""
    titles = apheresis_field_titles()
    chosen = [f for f in APHERESIS_LABEL_FIELDS if f in set(fields)]
    lines = [(titles[f], values.get(f, "") or "—") for f in chosen]
    lines.append((_("Check"), receiver_checks(LabelKind.COLLECTION_BAG)))
    return LabelContent(
        kind=LabelKind.COLLECTION_BAG,
        label_id=label_id,
        coi=parse_identifier(coi),
        title=_("Apheresis collection: autologous, for manufacturing only"),
        standard=standard_line(iccbba_assigned),
        lines=tuple(lines),
    )


@_in_label_language
def product_bag_label(
    *,
    coi: str,
    label_id: str,
    iccbba_assigned: bool,
    product: str,
    number: int,
    of: int,
    storage_max_celsius: float | None,
    expires_at: datetime | None = None,
) -> LabelContent:
    lines = [
        (_("Product"), product),
        (_("Bag"), _("%(n)s of %(total)s") % {"n": number, "total": of}),
    ]
    if expires_at is not None:
        lines.append((_("Expires"), expires_at.strftime("%Y-%m-%d %H:%M")))
    lines += [
        (_("Storage"), storage_text(storage_max_celsius)),
        (_("Check"), receiver_checks(LabelKind.PRODUCT_BAG)),
    ]
    return LabelContent(
        kind=LabelKind.PRODUCT_BAG,
        label_id=label_id,
        coi=parse_identifier(coi),
        title=_("Autologous use only: for the patient of this identifier"),
        standard=standard_line(iccbba_assigned),
        lines=tuple(lines),
        expires_at=expires_at,
    )


@_in_label_language
def shipper_label(
    *,
    coi: str,
    label_id: str,
    iccbba_assigned: bool,
    product: str,
    bags: int,
    storage_max_celsius: float | None,
    expires_at: datetime | None = None,
) -> LabelContent:
    lines = [(_("Product"), product), (_("Bags inside"), str(bags))]
    if expires_at is not None:
        lines.append((_("Expires"), expires_at.strftime("%Y-%m-%d %H:%M")))
    lines += [
        (_("Storage"), storage_text(storage_max_celsius)),
        (_("Check"), receiver_checks(LabelKind.SHIPPER)),
    ]
    return LabelContent(
        kind=LabelKind.SHIPPER,
        label_id=label_id,
        coi=parse_identifier(coi),
        title=_("Shipper: human cells for autologous use, do not irradiate, do not X-ray"),
        standard=standard_line(iccbba_assigned),
        lines=tuple(lines),
        expires_at=expires_at,
    )


def iso_date(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()[:10]
