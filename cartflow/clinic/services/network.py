"""The network's reference data: sites, memberships and patients, each write audited."""

from __future__ import annotations

import re
from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cartflow.clinic.models import Membership, Patient, Site
from cartflow.clinic.sealing import IDENTITY_OPERATION, patient_identity_hash
from cartflow.clinic.services.context import NO_REQUEST, RequestMeta
from cartflow.clinic.services.errors import Conflict
from cartflow.clinic.services.records import write_audit
from cartflow.domain.errors import InvalidInput
from cartflow.domain.identity_text import normalise_name, normalise_record_number
from cartflow.domain.roles import Role, SiteKind


def create_site(
    slug: str,
    name: str,
    kind: str,
    *,
    time_zone: str = "UTC",
    facility_code: str | None = None,
    region: str = "US",
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> Site:
    if kind not in SiteKind.__members__.values():
        raise InvalidInput(f"kind: one of {', '.join(k.value for k in SiteKind)}")
    site = Site(
        slug=slug,
        name=name,
        kind=kind,
        time_zone=time_zone,
        facility_code=facility_code.upper() if facility_code else None,
        region=region,
    )
    site.full_clean()
    try:
        with transaction.atomic():
            site.save()
            write_audit(
                "create_site",
                acting_user=acting_user,
                request_meta=request_meta,
                summary={"site": slug, "kind": kind},
            )
    except IntegrityError as exc:
        raise Conflict(f"a site with the slug {slug} or facility code already exists") from exc
    return site


PHONE = re.compile(r"\+?[0-9][0-9 ()./-]*")
PHONE_MAX = 40


def set_emergency_phone(
    site: Site,
    phone: str,
    *,
    acting_user: User | None,
    request_meta: RequestMeta = NO_REQUEST,
) -> Site:
    """Set the site's 24-hour number, the one the patient view and wallet card show after
    the infusion. An administrator of the site sets it (``acting_user`` None: the operator at
    the command line). Empty clears it: the patient view then says to ask the care team. The
    audit row keeps the number it replaced."""
    from cartflow.clinic import access
    from cartflow.domain.roles import Action

    if acting_user is not None and site.pk not in access.sites_where(
        acting_user, Action.MANAGE_SITE
    ):
        raise access.Forbidden(_("only an administrator of this site may change its number"))
    number = " ".join(str(phone or "").split())
    digits = sum(c.isdigit() for c in number)
    if number and (len(number) > PHONE_MAX or not PHONE.fullmatch(number) or not 3 <= digits <= 20):
        raise InvalidInput(
            _(
                "a telephone number: digits, spaces, brackets, dots and dashes, an optional "
                "+ in front, at most %(max)s characters (for example +1 212 555 0100)"
            )
            % {"max": PHONE_MAX}
        )
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        before = locked.emergency_phone
        locked.emergency_phone = number
        locked.save(update_fields=["emergency_phone"])
        write_audit(
            "set_emergency_phone",
            acting_user=acting_user,
            request_meta=request_meta,
            summary={"site": locked.slug, "from": before, "to": number},
        )
    return locked


def grant_role(
    user: User, site: Site, role: str, *, acting_user: User, request_meta: RequestMeta = NO_REQUEST
) -> Membership:
    if role not in Role.__members__.values():
        raise InvalidInput(f"role: one of {', '.join(r.value for r in Role)}")
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(user=user, site=site, role=role)
        if created:
            write_audit(
                "grant_role",
                acting_user=acting_user,
                request_meta=request_meta,
                summary={"user": user.get_username(), "site": site.slug, "role": role},
            )
    return membership


def register_patient(
    site: Site,
    *,
    record_number: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    sex: str = "",
    acting_user: User,
    request_meta: RequestMeta = NO_REQUEST,
) -> Patient:
    """A patient of a treatment center, by the hospital's own record number."""
    if site.kind != SiteKind.TREATMENT_CENTER:
        raise InvalidInput("site: patients are registered at a treatment center")
    # Normalised and checked (cartflow.domain.identity_text) so that a lookalike of a record
    # number already registered is refused, and the duplicate check compares what people see.
    record_number = normalise_record_number(record_number)
    if Patient.objects.filter(treating_site=site, record_number=record_number).exists():
        raise Conflict(f"the record number {record_number} is already registered at {site.slug}")
    patient = Patient(
        treating_site=site,
        record_number=record_number,
        given_name=normalise_name("given_name", given_name),
        family_name=normalise_name("family_name", family_name),
        birth_date=birth_date,
        sex=sex,
    )
    patient.full_clean(exclude=["treating_site"])
    patient.identity_hash = patient_identity_hash(patient)
    try:
        with transaction.atomic():
            patient.save()
            # The audit row names the patient by public id only: logs never carry names. The
            # identity's hash in the chained row makes an edited name or birth date show.
            write_audit(
                IDENTITY_OPERATION,
                acting_user=acting_user,
                request_meta=request_meta,
                summary={
                    "patient": str(patient.public_id),
                    "site": site.slug,
                    "identity": patient.identity_hash,
                },
            )
    except IntegrityError as exc:
        raise Conflict(
            _("the record number %(record)s is already registered at %(site)s")
            % {"record": record_number, "site": site.name}
        ) from exc
    return patient
