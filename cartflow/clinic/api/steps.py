"""The step events of the six steps: one route per journey operation.

Each route checks who may ask (``access_to``), then calls the operation's service function,
which runs the journey's guards and stores the events; no route saves a clinical object
itself. Answers are 201 with the case's new step and the stored events (signed ones with
their signatures); a guard's refusal is 422 naming the rule and where it comes from.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import access_to
from cartflow.clinic.api.common import record
from cartflow.clinic.api.schemas.common import StepIn, StepOut
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.api.schemas.steps import (
    ApheresisIn,
    BridgingIn,
    CollectionIn,
    DeviationReviewIn,
    FollowUpVisitIn,
    InfuseIn,
    OutOfSpecificationIn,
    ReasonIn,
    RegimenIn,
    ReleaseIn,
    ScreeningIn,
    SignedReasonIn,
    StartManufacturingIn,
    ThawIn,
    WeightIn,
)
from cartflow.clinic.models import Slot, SlotKind
from cartflow.clinic.services import (
    collection,
    deviations,
    manufacturing,
    referral,
    treatment,
    weights,
)
from cartflow.clinic.services.errors import NotFound
from cartflow.domain import journey
from cartflow.domain.errors import InvalidInput
from cartflow.domain.roles import Action

router = Router(tags=["step events"])

Created = {201: StepOut}


# --- referral to collection --------------------------------------------------------------


@router.post(
    "/cases/{coi}/screening",
    response=Created,
    auth=access_to(Action.RECORD_INFECTIOUS_DISEASE_SCREENING),
    summary="Record the infectious-disease screening",
)
def screening(request: HttpRequest, coi: CoiPath, payload: ScreeningIn) -> Any:
    return record(
        request,
        referral.record_infectious_disease_screening,
        payload,
        tests=tuple(payload.tests),
    )


@router.post(
    "/cases/{coi}/apheresis",
    response=Created,
    auth=access_to(Action.SCHEDULE_APHERESIS),
    summary="Schedule the apheresis (a re-collection after a failed one, too)",
)
def schedule_apheresis(request: HttpRequest, coi: CoiPath, payload: ApheresisIn) -> Any:
    slot = None
    if payload.slot_id is not None:
        slot = Slot.objects.select_related("site").filter(public_id=payload.slot_id).first()
        if slot is None:
            raise NotFound(f"no slot {payload.slot_id}")
        if slot.kind != SlotKind.APHERESIS_CHAIR:
            raise InvalidInput("slot_id: an apheresis chair slot is needed")
    values = payload.dict()
    values.pop("slot_id")
    return record(request, collection.schedule_apheresis, None, slot=slot, **values)


@router.post(
    "/cases/{coi}/collections",
    response=Created,
    auth=access_to(Action.RECORD_COLLECTION),
    summary="Record a collection: scan the case, label the collection, succeeded or failed",
)
def record_collection(request: HttpRequest, coi: CoiPath, payload: CollectionIn) -> Any:
    return record(request, collection.record_collection, payload, reason=payload.reason or "")


@router.post(
    "/cases/{coi}/weights",
    response=Created,
    auth=access_to(Action.RECORD_WEIGHT),
    summary="Record the patient's weight",
)
def record_weight(request: HttpRequest, coi: CoiPath, payload: WeightIn) -> Any:
    return record(request, weights.record_weight, payload)


@router.post(
    "/cases/{coi}/bridging-therapy",
    response=Created,
    auth=access_to(Action.RECORD_BRIDGING_THERAPY),
    summary="Record bridging therapy given while the product is made",
)
def bridging(request: HttpRequest, coi: CoiPath, payload: BridgingIn) -> Any:
    return record(request, collection.record_bridging_therapy, payload)


# --- manufacturing -----------------------------------------------------------------------


def _bags(payload: ReleaseIn) -> tuple[journey.BagSpec, ...]:
    return tuple(
        journey.BagSpec(bag_id=b.bag_id, lot=b.lot, part=b.part, expires_at=b.expires_at)
        for b in payload.bags
    )


@router.post(
    "/cases/{coi}/manufacturing",
    response=Created,
    auth=access_to(Action.START_MANUFACTURING),
    summary="Accept the order and start manufacturing (scans the case and the collection)",
)
def start_manufacturing(request: HttpRequest, coi: CoiPath, payload: StartManufacturingIn) -> Any:
    return record(request, manufacturing.start_manufacturing, payload)


@router.post(
    "/cases/{coi}/release",
    response=Created,
    auth=access_to(Action.RELEASE_PRODUCT),
    summary="Release the product within specification (signed)",
)
def release(request: HttpRequest, coi: CoiPath, payload: ReleaseIn) -> Any:
    return record(request, manufacturing.release_product, payload, bags=_bags(payload))


@router.post(
    "/cases/{coi}/out-of-specification",
    response=Created,
    auth=access_to(Action.RECORD_OUT_OF_SPECIFICATION),
    summary="Record an out-of-specification result (signed)",
)
def out_of_specification(request: HttpRequest, coi: CoiPath, payload: OutOfSpecificationIn) -> Any:
    return record(request, manufacturing.record_out_of_specification, payload, bags=_bags(payload))


# --- lymphodepletion, infusion, monitoring, follow-up --------------------------------------


def _simple(path: str, service: Any, action: Action, summary: str, schema: Any = StepIn) -> None:
    """A route for an operation that needs no more than the common fields (or ``schema``)."""

    def view(request: HttpRequest, coi: str, payload: Any) -> Any:
        return record(request, service, payload)

    # Real objects, not strings: ninja reads the annotations to build the schema.
    view.__annotations__ = {
        "request": HttpRequest,
        "coi": CoiPath,
        "payload": schema,
        "return": Any,
    }
    view.__name__ = service.__name__
    router.post(path, response=Created, auth=access_to(action), summary=summary)(view)


@router.post(
    "/cases/{coi}/lymphodepletion",
    response=Created,
    auth=access_to(Action.START_LYMPHODEPLETION),
    summary="Start lymphodepleting chemotherapy (again, when the infusion was delayed)",
)
def start_lymphodepletion(request: HttpRequest, coi: CoiPath, payload: RegimenIn) -> Any:
    return record(request, treatment.start_lymphodepletion, payload)


_simple(
    "/cases/{coi}/lymphodepletion/completion",
    treatment.complete_lymphodepletion,
    Action.COMPLETE_LYMPHODEPLETION,
    "Complete lymphodepleting chemotherapy",
)


@router.post(
    "/cases/{coi}/thaws",
    response=Created,
    auth=access_to(Action.THAW_BAG),
    summary="Thaw a bag (scans the case and the bag)",
)
def thaw(request: HttpRequest, coi: CoiPath, payload: ThawIn) -> Any:
    return record(request, treatment.thaw_bag, payload)


@router.post(
    "/cases/{coi}/infusions",
    response=Created,
    auth=access_to(Action.PERFORM_INFUSION),
    summary="Infuse a bag: the bedside check of patient and bag, by two people (the witness signs)",
)
def infuse(request: HttpRequest, coi: CoiPath, payload: InfuseIn) -> Any:
    values = payload.dict()
    witness = values.pop("witness")
    return record(
        request,
        treatment.infuse,
        None,
        witness_username=witness["username"],
        witness_password=witness["password"],
        **values,
    )


@router.post(
    "/cases/{coi}/lymphodepletion/early-stop",
    response=Created,
    auth=access_to(Action.STOP_LYMPHODEPLETION),
    summary="Stop lymphodepleting chemotherapy before its last scheduled day (signed, with "
    "the reason)",
)
def stop_lymphodepletion(request: HttpRequest, coi: CoiPath, payload: SignedReasonIn) -> Any:
    return record(request, treatment.stop_lymphodepletion, payload)


_simple(
    "/cases/{coi}/monitoring",
    treatment.start_monitoring,
    Action.START_MONITORING,
    "Start monitoring after the infusion",
)
_simple(
    "/cases/{coi}/monitoring/completion",
    treatment.complete_monitoring,
    Action.COMPLETE_MONITORING,
    "Complete the monitoring period",
)
_simple(
    "/cases/{coi}/follow-up/visits",
    treatment.record_follow_up_visit,
    Action.RECORD_FOLLOW_UP_VISIT,
    "Record a long-term follow-up visit",
    FollowUpVisitIn,
)
_simple(
    "/cases/{coi}/follow-up/completion",
    treatment.complete_follow_up,
    Action.COMPLETE_FOLLOW_UP,
    "Complete long-term follow-up",
)
_simple(
    "/cases/{coi}/withdrawal",
    treatment.withdraw_case,
    Action.WITHDRAW_CASE,
    "Withdraw the case (signed: the password entered again)",
    SignedReasonIn,
)
_simple(
    "/cases/{coi}/death",
    treatment.record_death,
    Action.RECORD_DEATH,
    "Record the patient's death (signed: the password entered again)",
    SignedReasonIn,
)
_simple(
    "/cases/{coi}/product/expiry",
    treatment.expire_product,
    Action.EXPIRE_PRODUCT,
    "Record that the product expired",
    ReasonIn,
)
_simple(
    "/cases/{coi}/product/disposal",
    treatment.dispose_product,
    Action.DISPOSE_PRODUCT,
    "Dispose of rejected, expired or unused product (signed)",
    SignedReasonIn,
)


@router.post(
    "/cases/{coi}/deviations/reviews",
    response=Created,
    auth=access_to(Action.REVIEW_DEVIATION),
    summary="Review deviations of the case, with a comment (signed: meaning review)",
)
def review_deviations(request: HttpRequest, coi: CoiPath, payload: DeviationReviewIn) -> Any:
    return record(request, deviations.review_deviation, payload)
