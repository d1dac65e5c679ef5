"""A site's register of signed protocol values: read it, sign an entry into it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from cartflow.clinic.api.auth import Scope, access_to, acting_user, meta, site_of
from cartflow.clinic.api.common import Day, Password
from cartflow.clinic.services import site_register
from cartflow.domain.catalog import FactName
from cartflow.domain.roles import Action

router = Router(tags=["site register"])


class RegisterEntryIn(Schema):
    indication: str = Field(
        max_length=100, description="the indication id, e.g. inaticabtagene-autoleucel/b-all"
    )
    fact: FactName = Field(description="the fact the catalog does not know")
    value: Any = Field(
        description="the site's value, in the shape docs/catalog.md gives for the fact "
        "(a number, [min, max], a dose rule, a list of regimens, a renal schedule)"
    )
    document_ref: str = Field(
        min_length=1, max_length=200, description="the site's protocol document it comes from"
    )
    effective_from: Day = Field(description="the first day the value is in force")
    effective_to: Day | None = Field(
        None, description="the day it stops being in force (exclusive); open when absent"
    )
    password: Password = Field(description="your password, entered again to sign")


class RegisterEntryOut(Schema):
    site: str
    seq: int
    indication: str
    fact: str
    document_ref: str
    effective_from: date
    effective_to: date | None
    signer: str
    role: str
    meaning: str
    hash: str


def entry_out(row: Any) -> dict[str, Any]:
    return {
        "site": row.site.slug,
        "seq": row.seq,
        "indication": row.indication,
        "fact": row.fact,
        "document_ref": row.document_ref,
        "effective_from": row.effective_from,
        "effective_to": row.effective_to,
        "signer": row.signer_name,
        "role": row.signer_role,
        "meaning": row.meaning,
        "hash": row.hash,
    }


@router.get(
    "/sites/{site}/register",
    auth=access_to(Action.RECORD_SITE_PROTOCOL_VALUE, Scope.SITE),
    summary="The site's signed protocol values and, per product, the facts the catalog lacks",
)
def read_register(request: HttpRequest, site: str, on: Day | None = None) -> dict[str, Any]:
    found = site_of(request)
    day = on or timezone.localdate()
    products = site_register.overview(found, day)
    return {
        "site": found.slug,
        "region": found.region,
        "on": day.isoformat(),
        "products": [
            {
                "product": p.product,
                "brand": p.brand,
                "indications": [
                    {
                        "indication": i.indication,
                        "unknown_facts": list(i.unknown),
                        "open_facts": list(i.open_facts),
                        "signed": [
                            {
                                "seq": s.seq,
                                "fact": s.fact,
                                "value": s.value,
                                "document_ref": s.document_ref,
                                "effective_from": s.effective_from.isoformat(),
                                "effective_to": s.effective_to.isoformat()
                                if s.effective_to
                                else None,
                                "signer": s.signer_name,
                                "role": s.signer_role,
                                "in_force": s.in_force,
                                "superseded": s.superseded,
                            }
                            for s in i.signed
                        ],
                    }
                    for i in p.indications
                ],
            }
            for p in products
        ],
    }


@router.post(
    "/sites/{site}/register",
    response={201: RegisterEntryOut},
    auth=access_to(Action.RECORD_SITE_PROTOCOL_VALUE, Scope.SITE),
    summary="Sign a protocol value into the site's register (physician or quality; password again)",
)
def sign_register_entry(request: HttpRequest, site: str, payload: RegisterEntryIn) -> Any:
    row = site_register.sign_entry(
        site_of(request),
        indication=payload.indication,
        fact=str(payload.fact),
        value=payload.value,
        document_ref=payload.document_ref,
        effective_from=payload.effective_from,
        effective_to=payload.effective_to,
        acting_user=acting_user(request),
        password=payload.password,
        request_meta=meta(request),
        request=request,
    )
    return Status(201, entry_out(row))
