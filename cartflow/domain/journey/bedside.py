"""The bedside check: one function per scan, asked by the infusion command and by the page.

A scanner-first page checks each scan as it comes (wristband, second identifier, bag label,
bag number, then the witness); the infusion command checks them all again. Both ask these
functions, so the rule and its words live here once. Each refusal carries a ``rule_id``
(``bedside.wristband``, ...) that the pages, the API and the tests compare.

Nothing here returns or keeps a record number: a wristband check answers only *which*
identifier matched ("record number" or "chain of identity").
"""

from __future__ import annotations

from typing import Final

from cartflow.domain.catalog import RuleKind
from cartflow.domain.errors import InvalidInput
from cartflow.domain.identifiers import identifiers_match, parse_identifier, parse_scan
from cartflow.domain.journey.commands import Performer, Signature
from cartflow.domain.journey.errors import JourneyError, ScanMismatch
from cartflow.domain.journey.guards import CHAIN_OF_IDENTITY, SIGNATURES
from cartflow.domain.journey.state import CaseState
from cartflow.domain.roles import Role

ATTEMPTED: Final = "InfuseBag"

TWO_PERSON: Final = (
    "two-person bedside verification of the patient and the product before a cellular "
    "therapy is administered (FACT-JACIE International Standards, administration; "
    "docs/journey.md, The bedside check)"
)

WRISTBAND: Final = "bedside.wristband"
IDENTITY: Final = "bedside.identity"
BAG_LABEL: Final = "bedside.bag_label"
BAG_NUMBER: Final = "bedside.bag_number"
WITNESS_SAME_PERSON: Final = "bedside.witness_same_person"
WITNESS_ROLE: Final = "bedside.witness_role"
PERFORMER_ROLE: Final = "bedside.performer_role"

WITNESS_ROLES: Final = (Role.PHYSICIAN,)
"""The witness signs the infusion: a physician of the case (the label's prescriber)."""
PERFORMER_ROLES: Final = (Role.PHARMACY, Role.PHYSICIAN)
"""Who gives the infusion at the bedside: the infusion nurse (pharmacy role) or a physician."""

MATCHED_RECORD_NUMBER: Final = "record number"
MATCHED_COI: Final = "chain of identity"
MATCHED_DIN: Final = "collection DIN"


def _norm(text: str) -> str:
    return "".join(str(text).split()).upper()


def _mismatch(state: CaseState, rule: str, which: str, rule_id: str) -> ScanMismatch:
    return ScanMismatch(
        state.step.value,
        ATTEMPTED,
        rule,
        CHAIN_OF_IDENTITY,
        RuleKind.SITE_POLICY,
        (which,),
        rule_id,
    )


def check_wristband(state: CaseState, scanned: str, record_numbers: tuple[str, ...]) -> str:
    """Which identifier on the wristband matched: the record number, or the case's own
    chain-of-identity identifier. A scan naming neither is refused: do not infuse."""
    text = str(scanned or "").strip()
    if text and any(_norm(text) == _norm(n) for n in record_numbers if str(n).strip()):
        return MATCHED_RECORD_NUMBER
    if text and state.coi and identifiers_match(text, parse_identifier(state.coi)):
        return MATCHED_COI
    raise _mismatch(
        state,
        "the wristband scanned does not belong to this case's patient; STOP, do not infuse: "
        "check the patient's identity",
        "wristband",
        WRISTBAND,
    )


def check_identity_confirmed(state: CaseState, confirmed: bool) -> None:
    """The second identifier (name and birth date) was confirmed with the patient."""
    if confirmed is not True:
        raise JourneyError(
            state.step.value,
            ATTEMPTED,
            "confirm the patient's name and birth date with the patient (the second "
            "identifier) before the bag is scanned",
            TWO_PERSON,
            RuleKind.SITE_POLICY,
            IDENTITY,
        )


def check_bag_label(state: CaseState, scanned: str) -> str:
    """Which identifier on the bag's label matched: the case's chain of identity, or the DIN
    of one of its collections. Anything else is another patient's product: do not infuse."""
    text = str(scanned or "").strip()
    if text:
        try:
            # A scan matches what is registered: an ISBT 128 barcode's "no flag" (00) reads.
            din = parse_scan(text).din
        except InvalidInput:
            din = None
        if din is not None:
            if state.coi and din == parse_identifier(state.coi):
                return MATCHED_COI
            for collection in state.collections:
                if collection.din and din == parse_identifier(collection.din):
                    return MATCHED_DIN
    raise _mismatch(
        state,
        "the bag's identity label does not belong to this case; STOP, do not infuse: this "
        "may be another patient's product",
        "bag_label",
        BAG_LABEL,
    )


def check_bag_number(state: CaseState, scanned: str) -> str:
    """The bag scanned is the bag thawed for this case (and not yet infused)."""
    text = str(scanned or "").strip()
    thawed = state.thawed_bag
    if thawed is None or text != thawed:
        raise _mismatch(
            state,
            "the bag scanned at the bedside is not the bag thawed for this case; STOP, do not "
            "infuse",
            "bag_id",
            BAG_NUMBER,
        )
    return thawed


def check_people(state: CaseState, performer: Performer, witness: Signature) -> None:
    """Two different people: the performer (nurse or physician) and a witness who signs."""
    if performer.role not in PERFORMER_ROLES:
        raise JourneyError(
            state.step.value,
            ATTEMPTED,
            f"the infusion is given by an infusion nurse or a physician of the case; it was "
            f"attempted by a {performer.role.value}",
            TWO_PERSON,
            RuleKind.SITE_POLICY,
            PERFORMER_ROLE,
        )
    if _norm(performer.user_id) == _norm(witness.signer_id):
        raise JourneyError(
            state.step.value,
            ATTEMPTED,
            "the second person must be someone else, with their own login: one person cannot "
            "witness their own bedside check",
            TWO_PERSON,
            RuleKind.SITE_POLICY,
            WITNESS_SAME_PERSON,
        )
    if witness.role not in WITNESS_ROLES:
        raise JourneyError(
            state.step.value,
            ATTEMPTED,
            f"the second person signs the infusion and must be a physician of this case; "
            f"a {witness.role.value} may not sign it",
            SIGNATURES,
            RuleKind.SITE_POLICY,
            WITNESS_ROLE,
        )
