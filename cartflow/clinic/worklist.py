"""Who a case waits on, and the words the staff pages use for steps, waits and products.

The journey knows which commands a step accepts; a queue needs one thing more: whose turn it
is. Many roles *may* act at a step (a physician may record a weight at almost any step), but
one team is expected to move the case on, and that team's queue is where the case belongs.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from cartflow.clinic.services.machine import catalog
from cartflow.domain.errors import DomainError
from cartflow.domain.journey import CaseState, Step
from cartflow.domain.roles import Role

R = Role
WAITS_ON: dict[Step, tuple[Role, ...]] = {
    Step.NEW: (R.PHYSICIAN,),
    Step.REFERRED: (R.PHYSICIAN,),
    Step.ANTIGEN_TESTED: (R.PHYSICIAN,),
    Step.ELIGIBLE: (R.COORDINATOR,),
    Step.SCREENED: (R.COORDINATOR,),
    Step.APHERESIS_SCHEDULED: (R.APHERESIS,),
    Step.COLLECTION_FAILED: (R.COORDINATOR,),
    Step.MANUFACTURING: (R.MANUFACTURING,),
    Step.OUT_OF_SPECIFICATION: (R.QUALITY,),
    Step.RELEASED: (R.MANUFACTURING,),
    # In transit the courier carries the shipper and the receiving pharmacy expects it.
    Step.SHIPPED: (R.COURIER, R.PHARMACY),
    Step.QUARANTINED: (R.QUALITY,),
    Step.RECEIVED: (R.PHARMACY,),
    Step.AVAILABLE: (R.PHYSICIAN,),
    Step.LYMPHODEPLETING: (R.PHYSICIAN,),
    Step.LYMPHODEPLETED: (R.PHARMACY,),
    Step.THAWED: (R.PHARMACY,),
    Step.INFUSING: (R.PHARMACY,),
    Step.INFUSED: (R.PHYSICIAN,),
    Step.MONITORING: (R.PHYSICIAN,),
    Step.LONG_TERM_FOLLOW_UP: (R.COORDINATOR,),
    Step.PRODUCT_REJECTED: (R.PHARMACY,),
    Step.PRODUCT_EXPIRED: (R.PHARMACY,),
    Step.PRODUCT_DISPOSED: (R.COORDINATOR,),
}

STEP_WORDS: dict[Step, Any] = {
    Step.NEW: _("new"),
    Step.REFERRED: _("referred"),
    Step.ANTIGEN_TESTED: _("antigen tested"),
    Step.ELIGIBLE: _("eligible"),
    Step.SCREENED: _("screened"),
    Step.APHERESIS_SCHEDULED: _("apheresis scheduled"),
    Step.COLLECTED: _("collected"),
    Step.COLLECTION_FAILED: _("collection failed"),
    Step.BRIDGING: _("bridging therapy"),
    Step.MANUFACTURING: _("manufacturing"),
    Step.OUT_OF_SPECIFICATION: _("out of specification"),
    Step.RELEASED: _("released"),
    Step.PRODUCT_REJECTED: _("product rejected"),
    Step.SHIPPED: _("shipped"),
    Step.QUARANTINED: _("quarantined"),
    Step.RECEIVED: _("received"),
    Step.AVAILABLE: _("available"),
    Step.LYMPHODEPLETING: _("lymphodepleting"),
    Step.LYMPHODEPLETED: _("lymphodepleted"),
    Step.THAWED: _("thawed"),
    Step.INFUSING: _("infusing"),
    Step.INFUSED: _("infused"),
    Step.MONITORING: _("monitoring"),
    Step.LONG_TERM_FOLLOW_UP: _("long-term follow-up"),
    Step.FOLLOW_UP_COMPLETED: _("follow-up completed"),
    Step.PRODUCT_EXPIRED: _("product expired"),
    Step.PRODUCT_DISPOSED: _("product disposed"),
    Step.WITHDRAWN: _("withdrawn"),
    Step.DECEASED: _("deceased"),
}

WAITING_WORDS: dict[Step, Any] = {
    Step.NEW: _("a referral"),
    Step.REFERRED: _("an antigen test"),
    Step.ANTIGEN_TESTED: _("a physician's eligibility signature"),
    Step.ELIGIBLE: _("infectious-disease screening"),
    Step.SCREENED: _("an apheresis slot"),
    Step.APHERESIS_SCHEDULED: _("the collection"),
    Step.COLLECTION_FAILED: _("a new apheresis slot (re-collection)"),
    Step.COLLECTED: _("the manufacturing order"),
    Step.BRIDGING: _("the manufacturing order"),
    Step.MANUFACTURING: _("release testing"),
    Step.OUT_OF_SPECIFICATION: _("a quality decision on the out-of-specification product"),
    Step.RELEASED: _("a shipment"),
    Step.SHIPPED: _("receipt of the shipment"),
    Step.QUARANTINED: _("a quality decision on the quarantined product"),
    Step.RECEIVED: _("confirmation that the product is available"),
    Step.AVAILABLE: _("lymphodepletion, or a signed omission"),
    Step.LYMPHODEPLETING: _("completion of lymphodepletion"),
    Step.LYMPHODEPLETED: _("a bag to be thawed"),
    Step.THAWED: _("infusion: bedside scan and a physician's signature"),
    Step.INFUSING: _("the next bag or dose part"),
    Step.INFUSED: _("start of monitoring"),
    Step.MONITORING: _("the end of the monitoring period"),
    Step.LONG_TERM_FOLLOW_UP: _("follow-up visits"),
    Step.PRODUCT_REJECTED: _("disposal of the rejected product"),
    Step.PRODUCT_EXPIRED: _("disposal of the expired product"),
    Step.PRODUCT_DISPOSED: _("a new apheresis slot, or withdrawal"),
}

ROLE_WORDS: dict[Role, Any] = {
    Role.PHYSICIAN: _("a physician"),
    Role.COORDINATOR: _("a coordinator"),
    Role.APHERESIS: _("the apheresis unit"),
    Role.MANUFACTURING: _("the manufacturing site"),
    Role.COURIER: _("the courier"),
    Role.PHARMACY: _("the pharmacy or an infusion nurse"),
    Role.QUALITY: _("a quality reviewer"),
    Role.AUDITOR: _("an auditor"),
    Role.ADMIN: _("an administrator"),
}

ROLE_NAMES: dict[Role, Any] = {
    Role.PHYSICIAN: _("physician"),
    Role.COORDINATOR: _("coordinator"),
    Role.APHERESIS: _("apheresis nurse"),
    Role.MANUFACTURING: _("manufacturing operator"),
    Role.COURIER: _("courier"),
    Role.PHARMACY: _("infusion nurse or pharmacist"),
    Role.QUALITY: _("quality reviewer"),
    Role.AUDITOR: _("auditor"),
    Role.ADMIN: _("administrator"),
}


def _step(value: Any) -> Step | None:
    return Step(value) if value in Step._value2member_map_ else None


def step_words(value: Any) -> str:
    step = _step(value)
    return str(STEP_WORDS[step]) if step in STEP_WORDS else str(value).replace("_", " ")


def _manufacturing_booked(state: CaseState) -> bool:
    since = state.collection.at if state.collection is not None else None
    # A booking made before the collection for a run after it (a plan's) counts; a booking
    # a released plan gave back does not.
    return any(
        b.kind == "manufacturing"
        and b.released_at is None
        and (since is None or b.at >= since or b.day >= since.date())
        for b in state.bookings
    )


def waits_on(state: CaseState) -> tuple[Role, ...]:
    """The roles expected to move the case on now (empty for a closed case); a plan whose
    manufacturing slot was declined waits on the coordinator to re-plan as well."""
    roles = _step_waits_on(state)
    if state.plan is not None and state.plan.needs_replan and R.COORDINATOR not in roles:
        roles = (*roles, R.COORDINATOR)
    return roles


def _step_waits_on(state: CaseState) -> tuple[Role, ...]:
    if state.step in (Step.COLLECTED, Step.BRIDGING):
        # The coordinator books the manufacturing slot; with it, the site starts.
        return (R.MANUFACTURING,) if _manufacturing_booked(state) else (R.COORDINATOR,)
    return WAITS_ON.get(state.step, ())


def waiting_words(state: CaseState) -> str:
    """What the case waits for, in the reader's language."""
    if state.step is Step.LONG_TERM_FOLLOW_UP and state.follow_up_until is not None:
        return str(_("follow-up visits until %(date)s")) % {
            "date": state.follow_up_until.isoformat()
        }
    if state.step in (Step.COLLECTED, Step.BRIDGING) and not _manufacturing_booked(state):
        return str(_("a manufacturing slot"))
    words = WAITING_WORDS.get(state.step)
    text = str(words) if words is not None else state.waiting_for
    if state.plan is not None and state.plan.needs_replan:
        return str(_("%(waiting)s, and a re-plan (the manufacturing site declined its slot)")) % {
            "waiting": text
        }
    return text


def product_words(product_id: str) -> str:
    """A product by its name: the international name and the brand."""
    for product in catalog().products:
        if product.id == product_id:
            generic = product.id.replace("-", " ")
            return f"{generic} ({product.brand})" if product.brand else generic
    return product_id.replace("-", " ")


def indication_words(indication_id: str) -> str:
    """An indication by its disease, e.g. "B-ALL"."""
    if not indication_id:
        return ""
    try:
        return str(catalog().indication(indication_id).disease)
    except (DomainError, KeyError, LookupError):
        return indication_id.rsplit("/", 1)[-1].upper()
