"""Audit verification: every case's hash chain and the network ledger, or one case's."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from cartflow.clinic.api.auth import Scope, access_to, case_of
from cartflow.clinic.api.schemas.fields import CoiPath
from cartflow.clinic.services.audit import verify_case, verify_ledger
from cartflow.domain.roles import Action

router = Router(tags=["audit"])


@router.get(
    "/audit/verify",
    auth=access_to(Action.VERIFY_AUDIT, Scope.NETWORK),
    summary="Verify every case's hash chain and the network ledger; the first broken link",
)
def audit_verify(request: HttpRequest) -> dict[str, Any]:
    return dict(verify_ledger().to_dict())


@router.get(
    "/cases/{coi}/audit/verify",
    auth=access_to(Action.VERIFY_AUDIT),
    summary="Verify one case's hash chain",
)
def case_verify(request: HttpRequest, coi: CoiPath) -> dict[str, Any]:
    return dict(verify_case(case_of(request)).to_dict())
