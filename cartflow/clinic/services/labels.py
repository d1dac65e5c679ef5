"""Printing and reconciling a case's labels: each print, application, reprint and void is a
journey command (:mod:`cartflow.domain.journey.labels`); a print or reprint answers with the
labels' PDF, made from the case as the journey recorded it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from cartflow.clinic.access import Forbidden
from cartflow.clinic.code_words import code_words
from cartflow.clinic.labels import content, pdf
from cartflow.clinic.labels.content import LabelContent, iso_date
from cartflow.clinic.models import Event, Membership, Site, TherapyCase
from cartflow.clinic.services.append import Appended, AppendResult, resolve_case
from cartflow.clinic.services.audit import replay
from cartflow.clinic.services.operations import Recording, perform
from cartflow.clinic.services.site_register import case_fact
from cartflow.domain import journey
from cartflow.domain.catalog import FactName
from cartflow.domain.errors import InvalidInput
from cartflow.domain.events import Event as DomainEvent
from cartflow.domain.journey import payloads
from cartflow.domain.journey.event_types import LABEL_PRINTED, LABEL_REPRINTED
from cartflow.domain.journey.labels import PRINT_STEPS, label_kind
from cartflow.domain.journey.records import LabelKind, PrintedLabel
from cartflow.domain.journey.state import CaseState
from cartflow.domain.journey.time_windows import local_date, site_zone
from cartflow.domain.roles import Role, SiteKind

PRINTER: dict[LabelKind, tuple[Role, SiteKind]] = {
    LabelKind.COLLECTION_BAG: (Role.APHERESIS, SiteKind.APHERESIS_UNIT),
    LabelKind.PRODUCT_BAG: (Role.MANUFACTURING, SiteKind.MANUFACTURING_SITE),
    LabelKind.SHIPPER: (Role.MANUFACTURING, SiteKind.MANUFACTURING_SITE),
}
"""Who prints each kind: the apheresis unit the collection bag's, the manufacturer the rest."""


def _printing_site(user: User, case: TherapyCase, kind: LabelKind) -> Site:
    role, site_kind = PRINTER[kind]
    membership = (
        Membership.objects.filter(
            user=user, role=role, site__kind=site_kind, site__case_roles__case=case
        )
        .select_related("site")
        .first()
    )
    if membership is None:
        raise Forbidden(
            _("%(kind)s labels are printed by the %(site)s of the case")
            % {"kind": code_words(kind.value), "site": code_words(site_kind.value)}
        )
    return membership.site


def _storage(state: CaseState) -> float | None:
    """The storage limit in force on the case's last clinical day; ``None`` when neither the
    label nor the site gives one (the label then says "as the product's documentation
    states")."""
    fact = case_fact(
        state, FactName.STORAGE_MAX_CELSIUS, local_date(_now(state), site_zone(state.site_timezone))
    )
    return None if fact is None else float(fact.value)


def _now(state: CaseState) -> Any:
    assert state.last_occurred_at is not None
    return state.last_occurred_at


def label_content(
    case: TherapyCase, state: CaseState, label: PrintedLabel, site: Site
) -> LabelContent:
    """What ``label`` says, for the site that prints it."""
    kind = LabelKind(label.kind)
    if kind is LabelKind.COLLECTION_BAG:
        patient = case.patient
        collection = state.collection
        values = {
            "patient_name": patient.display_name,
            "birth_date": iso_date(patient.birth_date),
            "record_number": patient.record_number,
            "collection_din": collection.din if collection else "",
            "collected_on": iso_date(collection.at) if collection else "",
        }
        return content.collection_bag_label(
            coi=state.coi,
            label_id=label.label_id,
            iccbba_assigned=site.iccbba_assigned,
            fields=list(site.apheresis_label_fields or []),
            values=values,
        )
    if kind is LabelKind.PRODUCT_BAG:
        return content.product_bag_label(
            coi=state.coi,
            label_id=label.label_id,
            iccbba_assigned=site.iccbba_assigned,
            product=state.product_id,
            number=label.number,
            of=label.of,
            storage_max_celsius=_storage(state),
            expires_at=bag_expiry(state, label.number, label.of),
        )
    return content.shipper_label(
        coi=state.coi,
        label_id=label.label_id,
        iccbba_assigned=site.iccbba_assigned,
        product=state.product_id,
        bags=len(state.bags),
        storage_max_celsius=_storage(state),
        expires_at=shipper_expiry(state),
    )


def bag_expiry(state: CaseState, number: int, of: int) -> datetime | None:
    """The expiry of the bag a product label (``number`` of ``of``) goes on, as the release
    stated it: the released bag of that number when the print counts the released bags, else
    the one expiry every released bag shares; None where the release stated none (or before
    release), and the label then prints no expiry."""
    if not state.bags:
        return None
    if of == len(state.bags) and 1 <= number <= of:
        return state.bags[number - 1].expires_at
    stated = {bag.expires_at for bag in state.bags}
    return stated.pop() if len(stated) == 1 else None


def shipper_expiry(state: CaseState) -> datetime | None:
    """The shipper carries the earliest expiry of its bags, when the release stated each."""
    stated = [bag.expires_at for bag in state.bags]
    if not stated or any(when is None for when in stated):
        return None
    return min(when for when in stated if when is not None)


def _pdf_of(case: TherapyCase, label_ids: list[str], site: Site) -> bytes:
    state = replay_state(case)
    wanted = [label for label in state.labels if label.label_id in set(label_ids)]
    return pdf.render_all([label_content(case, state, label, site) for label in wanted])


def print_labels(
    case: TherapyCase | str, *, kind: str, count: int = 1, acting_user: User, **kwargs: Any
) -> tuple[AppendResult, bytes]:
    """Record the print and answer the labels' PDF (a page per label)."""
    case = resolve_case(case)
    site = _printing_site(acting_user, case, label_kind(kind))
    result = perform(
        case, journey.PrintLabels, acting_user=acting_user, kind=kind, count=count, **kwargs
    )
    return result, _pdf_of(case, printed_ids(result), site)


def reprint_label(
    case: TherapyCase | str, *, label_id: str, reason: str, acting_user: User, **kwargs: Any
) -> tuple[AppendResult, bytes]:
    """Record the reprint (the original replaced, with the reason) and answer the new PDF."""
    case = resolve_case(case)
    state = replay_state(case)
    original = next((x for x in state.labels if x.label_id == label_id), None)
    kind = LabelKind(original.kind) if original else LabelKind.PRODUCT_BAG
    site = _printing_site(acting_user, case, kind)
    result = perform(
        case,
        journey.ReprintLabel,
        acting_user=acting_user,
        label_id=label_id,
        reason=reason,
        **kwargs,
    )
    return result, _pdf_of(case, [reprinted_id(result)], site)


def printed_ids(result: AppendResult) -> list[str]:
    """The labels a print just recorded, as its event numbered them."""
    printed = payloads.read(_stored_event(result.last(LABEL_PRINTED)))
    assert isinstance(printed, payloads.LabelsPrinted)
    return [x.label_id for x in printed.labels]


def reprinted_id(result: AppendResult) -> str:
    """The label that a reprint just recorded put in place of the one it replaces."""
    reprinted = payloads.read(_stored_event(result.last(LABEL_REPRINTED)))
    assert isinstance(reprinted, payloads.LabelReprinted)
    return reprinted.new_label_id


def _stored_event(appended: Appended) -> DomainEvent:
    """An event just appended, read back from its stored bytes (an append answers only each
    event's position and hash)."""
    return DomainEvent.from_body(json.loads(bytes(Event.objects.get(pk=appended.id).body)))


def replay_state(case: TherapyCase) -> CaseState:
    state: CaseState = replay(case)
    return state


def apply_labels(
    case: TherapyCase | str,
    *,
    acting_user: User,
    label_ids: tuple[str, ...],
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Printed labels put on their bag or shipper."""
    return perform(
        case,
        journey.ApplyLabels,
        acting_user=acting_user,
        occurred_at=occurred_at,
        label_ids=label_ids,
        **recording,
    )


def void_labels(
    case: TherapyCase | str,
    *,
    acting_user: User,
    label_ids: tuple[str, ...],
    reason: str,
    occurred_at: datetime | None = None,
    **recording: Unpack[Recording],
) -> AppendResult:
    """Printed labels destroyed unused, with the reason."""
    return perform(
        case,
        journey.VoidLabels,
        acting_user=acting_user,
        occurred_at=occurred_at,
        label_ids=label_ids,
        reason=reason,
        **recording,
    )


def printable_kinds(user: User, case: TherapyCase, state: CaseState) -> list[LabelKind]:
    """The kinds of label ``user`` may print for the case now: their site prints that kind,
    and the case's step is one it is printed in."""
    kinds = []
    for kind, steps in PRINT_STEPS.items():
        if state.step not in steps:
            continue
        try:
            _printing_site(user, case, kind)
        except Forbidden:
            continue
        kinds.append(kind)
    return kinds


def labels_pdf(case: TherapyCase | str, label_ids: list[str], *, acting_user: User) -> bytes:
    """The PDF of labels already recorded as printed (or reprinted) on the case, for the site
    that printed them: a page opens it once after the print; it records nothing itself."""
    case = resolve_case(case)
    state = replay_state(case)
    wanted = [label for label in state.labels if label.label_id in set(label_ids)]
    if not wanted:
        raise InvalidInput(_("no such label on this case"))
    site = _printing_site(acting_user, case, LabelKind(wanted[0].kind))
    return pdf.render_all([label_content(case, state, label, site) for label in wanted])
