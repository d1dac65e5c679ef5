"""Referral, antigen test, eligibility and screening: the steps before the cells are taken."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from django.contrib.auth.models import User

from cartflow.clinic.models import AntigenTest, Patient, TherapyCase
from cartflow.clinic.services.append import AppendResult
from cartflow.clinic.services.cases import open_case
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.operations import Recording, perform
from cartflow.domain import journey


def refer_patient(
    patient: Patient,
    *,
    product_id: str,
    indication_id: str,
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
) -> AppendResult:
    """Open a therapy case for ``patient``: a new chain-of-identity identifier and the referral."""
    site = patient.treating_site

    def referral(coi: str) -> journey.ReferPatient:
        return journey.ReferPatient(
            actor=acting_user.get_username(),
            occurred_at=occurred_at,
            coi=coi,
            product_id=product_id,
            indication_id=indication_id,
            region=site.region,
            site=site.slug,
            site_timezone=site.time_zone,
        )

    return open_case(
        patient,
        referral,
        acting_user=acting_user,
        request_meta=request_meta,
        product=product_id,
        now=now,
    )


def _antigen_test_row(result: AppendResult, command: Any, user: User) -> None:
    at = command.occurred_at or result.now
    AntigenTest.objects.create(
        patient=result.case.patient,
        antigen=command.antigen,
        result="positive" if command.positive else "negative",
        method=command.method,
        tested_on=at.date(),
        recorded_by=user,
    )


def record_antigen_test(
    case: TherapyCase | str,
    *,
    acting_user: User,
    antigen: str,
    positive: bool,
    occurred_at: datetime | None = None,
    method: str = "",
    **recording: Unpack[Recording],
) -> AppendResult:
    """The patient's antigen test on the case; the test row is kept beside it."""
    return perform(
        case,
        journey.RecordAntigenTest,
        acting_user=acting_user,
        side_rows=_antigen_test_row,
        occurred_at=occurred_at,
        antigen=antigen,
        positive=positive,
        method=method,
        **recording,
    )


def record_infectious_disease_screening(
    case: TherapyCase | str,
    *,
    acting_user: User,
    cleared: bool,
    occurred_at: datetime | None = None,
    tests: tuple[str, ...] = (),
    **recording: Unpack[Recording],
) -> AppendResult:
    """The infectious-disease screening before the collection."""
    return perform(
        case,
        journey.RecordInfectiousDiseaseScreening,
        acting_user=acting_user,
        occurred_at=occurred_at,
        cleared=cleared,
        tests=tests,
        **recording,
    )
