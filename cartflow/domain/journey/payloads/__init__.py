"""One frozen dataclass per event type for its data: ``decide`` builds them, ``apply`` reads
them. The stored bytes stay the RFC 8785 JSON of ``to_data()`` (plus the catalog version and
facts ``decide`` adds beside it), exactly as before the payloads were typed, so hashes and
signatures over events already stored still hold.

:data:`PAYLOADS` maps every event type to the payload of the version ``decide`` writes today;
:data:`LEGACY` the older versions still read, each upgraded by :func:`read`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cartflow.domain.events import Event
from cartflow.domain.journey.payloads.base import LegacyPayload, Payload
from cartflow.domain.journey.payloads.case import (
    CaseDeceased,
    CaseDeceasedV1,
    CaseWithdrawn,
    CaseWithdrawnV1,
    SiteProtocolRecorded,
)
from cartflow.domain.journey.payloads.collection import (
    ApheresisScheduled,
    BridgingGiven,
    CollectionFailed,
    CollectionRecorded,
    ManufacturingStarted,
    PatientWeighed,
    SlotBooked,
)
from cartflow.domain.journey.payloads.fields import (
    DECISION_KEYS,
    LdCheck,
    MalformedData,
    PerformerRecord,
    SignedBy,
)
from cartflow.domain.journey.payloads.follow_up import (
    FollowUpCompleted,
    FollowUpVisit,
    MonitoringCompleted,
    MonitoringStarted,
)
from cartflow.domain.journey.payloads.infusion import (
    BedsideVerified,
    BedsideVerifiedV1,
    ProductInfused,
    ProductInfusedV1,
    ProductThawed,
)
from cartflow.domain.journey.payloads.labels import (
    LabelReprinted,
    LabelsApplied,
    LabelSheet,
    LabelsPrinted,
    LabelsVoided,
)
from cartflow.domain.journey.payloads.lymphodepletion import (
    FludarabineModified,
    LdCompleted,
    LdOmitted,
    LdStarted,
    LdStartedV1,
    LdStoppedEarly,
    RegimenDrug,
)
from cartflow.domain.journey.payloads.observations import (
    CrsGraded,
    DeviationOpened,
    DeviationReviewed,
    IcansGraded,
    KineticsMeasured,
    MarrowBlastsRecorded,
    ResponseAssessed,
    ToxicityResolved,
)
from cartflow.domain.journey.payloads.plans import (
    PlanAccepted,
    PlanReleased,
    PlanSlotConfirmed,
    PlanSlotDeclined,
)
from cartflow.domain.journey.payloads.product import (
    AvailabilityConfirmed,
    BagRecord,
    OosAccepted,
    OosRejected,
    ProductDisposed,
    ProductExpired,
    ProductOutOfSpecification,
    ProductReceived,
    ProductReleased,
    ProductShipped,
    QuarantineRejected,
    QuarantineReleased,
    TemperatureRecorded,
)
from cartflow.domain.journey.payloads.referral import (
    AntigenTested,
    CaseReferred,
    CaseReferredV1,
    EligibilitySigned,
    OffLabelEligibility,
    ScreeningRecorded,
)

_CURRENT: Final[tuple[type[Payload], ...]] = (
    CaseReferred,
    AntigenTested,
    EligibilitySigned,
    OffLabelEligibility,
    ScreeningRecorded,
    ApheresisScheduled,
    CollectionRecorded,
    CollectionFailed,
    BridgingGiven,
    PatientWeighed,
    ManufacturingStarted,
    SlotBooked,
    ProductReleased,
    ProductOutOfSpecification,
    OosAccepted,
    OosRejected,
    ProductShipped,
    TemperatureRecorded,
    QuarantineReleased,
    QuarantineRejected,
    ProductReceived,
    AvailabilityConfirmed,
    ProductExpired,
    ProductDisposed,
    SiteProtocolRecorded,
    FludarabineModified,
    LdStarted,
    LdCompleted,
    LdStoppedEarly,
    LdOmitted,
    ProductThawed,
    ProductInfused,
    BedsideVerified,
    MonitoringStarted,
    MonitoringCompleted,
    FollowUpVisit,
    FollowUpCompleted,
    CaseWithdrawn,
    CaseDeceased,
    CrsGraded,
    IcansGraded,
    KineticsMeasured,
    MarrowBlastsRecorded,
    DeviationOpened,
    DeviationReviewed,
    ResponseAssessed,
    ToxicityResolved,
    PlanAccepted,
    PlanSlotConfirmed,
    PlanSlotDeclined,
    PlanReleased,
    LabelsPrinted,
    LabelsApplied,
    LabelReprinted,
    LabelsVoided,
)

PAYLOADS: Final[Mapping[str, type[Payload]]] = {p.TYPE: p for p in _CURRENT}
"""Every event type's payload at the version ``decide`` writes today."""

LEGACY: Final[Mapping[tuple[str, int], type[LegacyPayload]]] = {
    (p.TYPE, p.VERSION): p
    for p in (
        CaseReferredV1,
        LdStartedV1,
        ProductInfusedV1,
        BedsideVerifiedV1,
        CaseWithdrawnV1,
        CaseDeceasedV1,
    )
}
"""The older versions still read: (event type, version) to the payload as it was stored."""


def payload_class(event_type: str, version: int) -> type[Payload]:
    """The payload an event of ``event_type`` at ``version`` is stored as (KeyError if none)."""
    legacy = LEGACY.get((event_type, version))
    if legacy is not None:
        return legacy
    current = PAYLOADS[event_type]
    if version != current.VERSION:
        raise KeyError(f"{event_type} has no payload for version {version}")
    return current


def read(event: Event) -> Payload:
    """The payload of ``event`` at today's version: an older version is read as it was stored
    and upgraded. Raises :class:`MalformedData` (or KeyError for an unknown type or version)."""
    data = event.data if isinstance(event.data, Mapping) else {}
    legacy = LEGACY.get((event.type, event.schema_version))
    if legacy is not None:
        return legacy.from_data(data).upgrade(event)
    return payload_class(event.type, event.schema_version).from_data(data)


__all__ = [
    "DECISION_KEYS",
    "LEGACY",
    "PAYLOADS",
    "AntigenTested",
    "ApheresisScheduled",
    "AvailabilityConfirmed",
    "BagRecord",
    "BedsideVerified",
    "BedsideVerifiedV1",
    "BridgingGiven",
    "CaseDeceased",
    "CaseDeceasedV1",
    "CaseReferred",
    "CaseReferredV1",
    "CaseWithdrawn",
    "CaseWithdrawnV1",
    "CollectionFailed",
    "CollectionRecorded",
    "CrsGraded",
    "DeviationOpened",
    "DeviationReviewed",
    "EligibilitySigned",
    "FludarabineModified",
    "FollowUpCompleted",
    "FollowUpVisit",
    "IcansGraded",
    "KineticsMeasured",
    "LabelReprinted",
    "LabelSheet",
    "LabelsApplied",
    "LabelsPrinted",
    "LabelsVoided",
    "LdCheck",
    "LdCompleted",
    "LdOmitted",
    "LdStarted",
    "LdStartedV1",
    "LdStoppedEarly",
    "LegacyPayload",
    "MalformedData",
    "ManufacturingStarted",
    "MarrowBlastsRecorded",
    "MonitoringCompleted",
    "MonitoringStarted",
    "OffLabelEligibility",
    "OosAccepted",
    "OosRejected",
    "PatientWeighed",
    "Payload",
    "PerformerRecord",
    "PlanAccepted",
    "PlanReleased",
    "PlanSlotConfirmed",
    "PlanSlotDeclined",
    "ProductDisposed",
    "ProductExpired",
    "ProductInfused",
    "ProductInfusedV1",
    "ProductOutOfSpecification",
    "ProductReceived",
    "ProductReleased",
    "ProductShipped",
    "ProductThawed",
    "QuarantineRejected",
    "QuarantineReleased",
    "RegimenDrug",
    "ResponseAssessed",
    "ScreeningRecorded",
    "SignedBy",
    "SiteProtocolRecorded",
    "SlotBooked",
    "TemperatureRecorded",
    "ToxicityResolved",
    "payload_class",
    "read",
]
