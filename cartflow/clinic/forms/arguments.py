"""How a validated form becomes the keyword arguments of the operation's service function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from cartflow.clinic.api import toxicity as toxicity_api
from cartflow.clinic.forms.fields import Operation
from cartflow.clinic.forms.page_schemas import ELIGIBILITY_FORM_FACTS
from cartflow.clinic.forms.reading import FormErrors
from cartflow.clinic.models import Site, Slot, TherapyCase
from cartflow.clinic.services import manufacturing
from cartflow.domain import journey
from cartflow.domain.roles import SiteKind


def bag_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {
        "bags": tuple(
            journey.BagSpec(bag_id=b.bag_id, lot=b.lot, part=b.part) for b in payload.bags
        )
    }


def tuple_of(name: str) -> Callable[[Any, TherapyCase], dict[str, Any]]:
    def convert(payload: Any, case: TherapyCase) -> dict[str, Any]:
        return {name: tuple(getattr(payload, name))}

    return convert


def apheresis_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    slot = None
    if payload.slot_id is not None:
        slot = Slot.objects.select_related("site").filter(public_id=payload.slot_id).first()
    unit = None
    if slot is None:
        # Without a chair slot the unit must still be named: it is how the unit's nurses
        # come to see the case they collect from.
        unit = Site.objects.filter(kind=SiteKind.APHERESIS_UNIT, slug=payload.unit or "").first()
        if unit is None:
            raise FormErrors({"unit": "choose the apheresis unit that collects, or a chair slot"})
    return {"slot": slot, "slot_id": None, "unit": unit}


def antigen_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {"method": payload.method or ""}


def collection_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return {"reason": payload.reason or ""}


def eligibility_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    given = payload.model_dump()
    return {"facts": {k: given[k] for k in ELIGIBILITY_FORM_FACTS if given[k] is not None}}


def book_manufacturing_slot_by_id(
    case: TherapyCase, *, slot_id: Any, occurred_at: Any = None, **kwargs: Any
) -> Any:
    from cartflow.clinic.services.errors import NotFound

    slot = Slot.objects.select_related("site").filter(public_id=slot_id).first()
    if slot is None:
        raise NotFound("no such manufacturing slot: choose one of the list")
    return manufacturing.book_manufacturing_slot(case, slot, occurred_at=occurred_at, **kwargs)


def crs_grade_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.crs_arguments(payload)


def icans_grade_arguments(payload: Any, case: TherapyCase) -> dict[str, Any]:
    return toxicity_api.icans_arguments(payload)


def service_arguments(op: Operation, payload: BaseModel, case: TherapyCase) -> dict[str, Any]:
    """The keyword arguments of the operation's service function."""
    values = payload.model_dump()
    for name in op.drop:
        values.pop(name, None)
    if op.extra is not None:
        values.update(op.extra(payload, case))
    for key in ("meaning", "role"):
        if values.get(key) is None:
            values.pop(key, None)
    if "slot_id" in values and values["slot_id"] is None:
        values.pop("slot_id")
    return values
