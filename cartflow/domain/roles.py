"""Who a user is at a site, and what kind of site it is.

A user holds one role per site (a membership); the roles are the ones the design names
(docs: "Who uses it"). ``can(role, action)`` (the permission table) is added beside these.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role at one site."""

    PHYSICIAN = "physician"
    COORDINATOR = "coordinator"
    APHERESIS = "apheresis"
    MANUFACTURING = "manufacturing"
    COURIER = "courier"
    PHARMACY = "pharmacy"  # pharmacy or infusion nurse
    QUALITY = "quality"
    AUDITOR = "auditor"
    ADMIN = "admin"


class SiteKind(StrEnum):
    """What a site of the network does."""

    TREATMENT_CENTER = "treatment_center"
    APHERESIS_UNIT = "apheresis_unit"
    MANUFACTURING_SITE = "manufacturing_site"
    COURIER = "courier"


PSEUDONYMISED_KINDS = frozenset({SiteKind.MANUFACTURING_SITE, SiteKind.COURIER})
"""Sites that see a case only by its chain-of-identity identifier, never the patient."""


class Action(StrEnum):
    """What a user may ask to do; one per operation of the API and the pages.

    The journey's operations carry the name of their service function (``record_collection``
    records :class:`~cartflow.domain.journey.RecordCollection`), so an audit row, a route and
    a permission name the same thing.
    """

    VIEW_CASE = "view_case"
    VIEW_PATIENT = "view_patient"
    REGISTER_PATIENT = "register_patient"
    ASSESS_ELIGIBILITY = "assess_eligibility"
    REFER_PATIENT = "refer_patient"
    RECORD_ANTIGEN_TEST = "record_antigen_test"
    SIGN_ELIGIBILITY = "sign_eligibility"
    RECORD_INFECTIOUS_DISEASE_SCREENING = "record_infectious_disease_screening"
    SCHEDULE_APHERESIS = "schedule_apheresis"
    RECORD_COLLECTION = "record_collection"
    RECORD_WEIGHT = "record_weight"
    RECORD_BRIDGING_THERAPY = "record_bridging_therapy"
    BOOK_MANUFACTURING_SLOT = "book_manufacturing_slot"
    START_MANUFACTURING = "start_manufacturing"
    RELEASE_PRODUCT = "release_product"
    RECORD_OUT_OF_SPECIFICATION = "record_out_of_specification"
    DECIDE_OUT_OF_SPECIFICATION = "decide_out_of_specification"
    SHIP_PRODUCT = "ship_product"
    RECORD_TEMPERATURE = "record_temperature"
    DECIDE_QUARANTINE = "decide_quarantine"
    RECEIVE_PRODUCT = "receive_product"
    CONFIRM_PRODUCT_AVAILABILITY = "confirm_product_availability"
    RECORD_SITE_PROTOCOL_VALUE = "record_site_protocol_value"
    MODIFY_FLUDARABINE_DOSE = "modify_fludarabine_dose"
    START_LYMPHODEPLETION = "start_lymphodepletion"
    COMPLETE_LYMPHODEPLETION = "complete_lymphodepletion"
    OMIT_LYMPHODEPLETION = "omit_lymphodepletion"
    THAW_BAG = "thaw_bag"
    INFUSE_BAG = "infuse_bag"  # sign an infusion as its witness
    PERFORM_INFUSION = "perform_infusion"  # scan at the bedside and give the infusion
    STOP_LYMPHODEPLETION = "stop_lymphodepletion"
    START_MONITORING = "start_monitoring"
    COMPLETE_MONITORING = "complete_monitoring"
    GRADE_TOXICITY = "grade_toxicity"
    RECORD_KINETICS_MEASUREMENT = "record_kinetics_measurement"
    RECORD_MARROW_BLASTS = "record_marrow_blasts"
    RECORD_FOLLOW_UP_VISIT = "record_follow_up_visit"
    COMPLETE_FOLLOW_UP = "complete_follow_up"
    WITHDRAW_CASE = "withdraw_case"
    RECORD_DEATH = "record_death"
    EXPIRE_PRODUCT = "expire_product"
    DISPOSE_PRODUCT = "dispose_product"
    SIGN_EVENT = "sign_event"
    REVIEW_DEVIATION = "review_deviation"
    VIEW_SLOTS = "view_slots"
    OPEN_SLOT = "open_slot"
    VERIFY_AUDIT = "verify_audit"
    PRINT_LABELS = "print_labels"
    RECONCILE_LABELS = "reconcile_labels"
    EXPORT_FHIR = "export_fhir"
    EXPORT_REGISTRY = "export_registry"
    RECORD_RESPONSE_ASSESSMENT = "record_response_assessment"
    RESOLVE_TOXICITY = "resolve_toxicity"
    MANAGE_PATIENT_ACCESS = "manage_patient_access"
    RECORD_PLANNED_DATES = "record_planned_dates"
    MANAGE_SITE = "manage_site"
    ACCEPT_PLAN = "accept_plan"  # see the proposed plan of a case and accept it
    RELEASE_PLAN = "release_plan"  # re-plan: give the plan's bookings back
    CONFIRM_PLAN_SLOT = "confirm_plan_slot"
    DECLINE_PLAN_SLOT = "decline_plan_slot"
    VIEW_CAPACITY = "view_capacity"  # the network's capacity per week


A = Action

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.PHYSICIAN: frozenset(
        {
            A.VIEW_CASE,
            A.VIEW_PATIENT,
            A.REGISTER_PATIENT,
            A.ASSESS_ELIGIBILITY,
            A.REFER_PATIENT,
            A.RECORD_ANTIGEN_TEST,
            A.SIGN_ELIGIBILITY,
            A.RECORD_INFECTIOUS_DISEASE_SCREENING,
            A.RECORD_WEIGHT,
            A.RECORD_BRIDGING_THERAPY,
            A.RECORD_SITE_PROTOCOL_VALUE,
            A.MODIFY_FLUDARABINE_DOSE,
            A.START_LYMPHODEPLETION,
            A.COMPLETE_LYMPHODEPLETION,
            A.OMIT_LYMPHODEPLETION,
            A.STOP_LYMPHODEPLETION,
            A.INFUSE_BAG,
            A.PERFORM_INFUSION,
            A.START_MONITORING,
            A.COMPLETE_MONITORING,
            A.GRADE_TOXICITY,
            A.RECORD_KINETICS_MEASUREMENT,
            A.RECORD_MARROW_BLASTS,
            A.RECORD_FOLLOW_UP_VISIT,
            A.COMPLETE_FOLLOW_UP,
            A.WITHDRAW_CASE,
            A.RECORD_DEATH,
            A.SIGN_EVENT,
            A.VIEW_SLOTS,
            A.EXPORT_FHIR,
            A.RECORD_RESPONSE_ASSESSMENT,
            A.RESOLVE_TOXICITY,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            A.VIEW_CASE,
            A.VIEW_PATIENT,
            A.REGISTER_PATIENT,
            A.ASSESS_ELIGIBILITY,
            A.RECORD_INFECTIOUS_DISEASE_SCREENING,
            A.SCHEDULE_APHERESIS,
            A.RECORD_WEIGHT,
            A.BOOK_MANUFACTURING_SLOT,
            A.RECORD_FOLLOW_UP_VISIT,
            A.WITHDRAW_CASE,
            A.VIEW_SLOTS,
            A.OPEN_SLOT,
            A.EXPORT_FHIR,
            A.MANAGE_PATIENT_ACCESS,
            A.RECORD_PLANNED_DATES,
            A.ACCEPT_PLAN,
            A.RELEASE_PLAN,
            A.VIEW_CAPACITY,
        }
    ),
    Role.APHERESIS: frozenset(
        {
            A.VIEW_CASE,
            A.VIEW_PATIENT,
            A.RECORD_COLLECTION,
            A.RECORD_WEIGHT,
            A.VIEW_SLOTS,
            A.OPEN_SLOT,
            A.PRINT_LABELS,
            A.RECONCILE_LABELS,
        }
    ),
    Role.MANUFACTURING: frozenset(
        {
            A.VIEW_CASE,
            A.START_MANUFACTURING,
            A.RELEASE_PRODUCT,
            A.RECORD_OUT_OF_SPECIFICATION,
            A.SHIP_PRODUCT,
            A.RECORD_TEMPERATURE,
            A.EXPIRE_PRODUCT,
            A.SIGN_EVENT,
            A.VIEW_SLOTS,
            A.OPEN_SLOT,
            A.PRINT_LABELS,
            A.RECONCILE_LABELS,
            A.EXPORT_FHIR,
            A.CONFIRM_PLAN_SLOT,
            A.DECLINE_PLAN_SLOT,
            A.VIEW_CAPACITY,
        }
    ),
    Role.COURIER: frozenset({A.VIEW_CASE, A.RECORD_TEMPERATURE}),
    Role.PHARMACY: frozenset(
        {
            A.VIEW_CASE,
            A.VIEW_PATIENT,
            A.RECEIVE_PRODUCT,
            A.CONFIRM_PRODUCT_AVAILABILITY,
            A.RECORD_TEMPERATURE,
            A.THAW_BAG,
            A.PERFORM_INFUSION,
            A.EXPIRE_PRODUCT,
            A.DISPOSE_PRODUCT,
            A.SIGN_EVENT,
            A.EXPORT_FHIR,
        }
    ),
    Role.QUALITY: frozenset(
        {
            A.VIEW_CASE,
            A.RELEASE_PRODUCT,
            A.RECORD_OUT_OF_SPECIFICATION,
            A.DECIDE_OUT_OF_SPECIFICATION,
            A.DECIDE_QUARANTINE,
            A.RECORD_SITE_PROTOCOL_VALUE,
            A.EXPIRE_PRODUCT,
            A.DISPOSE_PRODUCT,
            A.SIGN_EVENT,
            A.REVIEW_DEVIATION,
            A.VERIFY_AUDIT,
            A.RECONCILE_LABELS,
            A.EXPORT_FHIR,
            A.EXPORT_REGISTRY,
        }
    ),
    Role.AUDITOR: frozenset(
        {A.VIEW_CASE, A.VIEW_PATIENT, A.VIEW_SLOTS, A.VERIFY_AUDIT, A.EXPORT_FHIR}
    ),
    Role.ADMIN: frozenset(
        {
            A.VIEW_SLOTS,
            A.OPEN_SLOT,
            A.VERIFY_AUDIT,
            A.EXPORT_REGISTRY,
            A.MANAGE_SITE,
            A.VIEW_CAPACITY,
        }
    ),
}
"""Which role may do what, at the sites where the user holds the role.

Where the action happens is the access layer's concern (a role counts at the sites that take
part in the case); this table says only whether the role may do it at all. Manufacturing
sites and couriers never hold ``view_patient``: they know a case by its chain-of-identity
identifier. Signed operations are also checked by the journey (the signer's role), so this
table and the journey's guards agree rather than duplicate: the table decides who may ask,
the journey who may sign.
"""

del A


def can(role: Role | str, action: Action | str) -> bool:
    """Whether ``role`` may perform ``action``. Unknown roles or actions may do nothing."""
    try:
        return Action(action) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_that_can(action: Action | str) -> frozenset[Role]:
    """Every role that may perform ``action``."""
    return frozenset(role for role in Role if can(role, action))
