"""Printing and reconciling a case's labels: each print, application, reprint and void is a
journey command (:mod:`cartflow.domain.journey.labels`); a print or reprint answers with the
labels' PDF, made from the case as the journey recorded it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.access import Forbidden
from cartflow.clinic.labels import content, pdf
from cartflow.clinic.labels.content import LabelContent, iso_date
from cartflow.clinic.models import Event, Membership, Site, TherapyCase
from cartflow.clinic.services.append import Appended, AppendResult, resolve_case
from cartflow.clinic.services.audit import replay
from cartflow.clinic.services.machine import catalog
from cartflow.clinic.services.operations import Recording, perform
from cartflow.clinic.services.site_register import case_site_values
from cartflow.domain import journey
from cartflow.domain.catalog import FactName
from cartflow.domain.events import Event as DomainEvent
from cartflow.domain.journey import payloads
from cartflow.domain.journey.event_types import LABEL_PRINTED, LABEL_REPRINTED
from cartflow.domain.journey.labels import label_kind
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
        raise Forbidden(f"{kind.value} labels are printed by the {site_kind.value} of the case")
    return membership.site


def _storage(state: CaseState) -> float | None:
    try:
        fact = (
            catalog()
            .indication(state.indication_id)
            .resolve(
                FactName.STORAGE_MAX_CELSIUS,
                local_date(_now(state), site_zone(state.site_timezone)),
                state.region or None,
                case_site_values(state, local_date(_now(state), site_zone(state.site_timezone))),
            )
        )
        return float(fact.value)
    except Exception:  # an unknown fact prints "as the product's documentation states"
        return None


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
        )
    return content.shipper_label(
        coi=state.coi,
        label_id=label.label_id,
        iccbba_assigned=site.iccbba_assigned,
        product=state.product_id,
        bags=len(state.bags),
        storage_max_celsius=_storage(state),
    )


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
    printed = payloads.read(_stored_event(result.last(LABEL_PRINTED)))
    assert isinstance(printed, payloads.LabelsPrinted)
    return result, _pdf_of(case, [x.label_id for x in printed.labels], site)


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
    reprinted = payloads.read(_stored_event(result.last(LABEL_REPRINTED)))
    assert isinstance(reprinted, payloads.LabelReprinted)
    return result, _pdf_of(case, [reprinted.new_label_id], site)


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
