"""A site's register of signed protocol values: read it, sign an entry into it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from cartflow.clinic.api.auth import Scope, access_to, acting_user, meta, site_of
from cartflow.clinic.api.schemas.fields import Day
from cartflow.clinic.api.schemas.register import RegisterEntryIn, RegisterEntryOut
from cartflow.clinic.services import site_register
from cartflow.domain.roles import Action

router = Router(tags=["site register"])


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
