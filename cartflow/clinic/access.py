"""Who may see and do what: the few access functions every route, page and command uses.

Two questions, always in this order:

1. *May the user see it?* A case is visible to the users of the sites that take part in it
   (the treating center, and the apheresis unit, manufacturing site and courier that hold it:
   ``CaseParticipant``). A case the user may not see is answered exactly like a case that does
   not exist (:class:`~cartflow.clinic.services.errors.NotFound`, 404), so existence does not
   leak.
2. *May the user do this to it?* :func:`cartflow.domain.roles.can` for the roles the user
   holds at the sites of the case; a visible case the user may not act on is
   :class:`Forbidden` (403).

A manufacturing site or a courier sees a case pseudonymised: its chain-of-identity
identifier, never the patient's name, birth date or record number (:func:`may_identify`).
Lists are narrowed by the same rule (:func:`cases_for_user`), before anything is read.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cartflow.clinic.models import Membership, Patient, TherapyCase
from cartflow.clinic.services.errors import NotFound, ServiceError
from cartflow.domain.errors import DomainError
from cartflow.domain.identifiers import parse_identifier
from cartflow.domain.roles import PSEUDONYMISED_KINDS, Action, Role, can


class Forbidden(ServiceError):
    """The user sees the record but holds no role that may do this to it (403)."""


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "is_active", False)
    )


def memberships(user: Any) -> list[tuple[int, str, str]]:
    """The user's (site id, site kind, role) triples, cached on the user for the request."""
    if not _authenticated(user):
        return []
    cached = getattr(user, "_cartflow_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user).values_list("site_id", "site__kind", "role")
        )
        user._cartflow_memberships = cached
    return list(cached)


def roles_anywhere(user: Any) -> set[Role]:
    return {Role(role) for _, _, role in memberships(user)}


def can_anywhere(user: Any, action: Action | str) -> bool:
    """Whether the user holds, at some site, a role that may ``action``."""
    return any(can(role, action) for role in roles_anywhere(user))


def sites_where(user: Any, action: Action | str) -> set[int]:
    """The ids of the sites where the user holds a role that may ``action``."""
    return {site for site, _, role in memberships(user) if can(role, action)}


def cases_for_user(user: Any) -> QuerySet[TherapyCase]:
    """The cases the user may see: those a site of theirs takes part in."""
    sites = {site for site, _, _ in memberships(user)}
    if not sites:
        return TherapyCase.objects.none()
    return TherapyCase.objects.filter(participants__site_id__in=sites).distinct()


# The name the data layer's board query refers to.
cases_visible_to = cases_for_user


def roles_on_case(user: Any, case: TherapyCase) -> set[Role]:
    """The user's roles at the sites that take part in ``case``."""
    taking_part = set(case.participants.values_list("site_id", flat=True))
    return {Role(role) for site, _, role in memberships(user) if site in taking_part}


def normalise_coi(coi: str) -> str | None:
    """The compact form of a chain-of-identity identifier in any written form, or None."""
    try:
        return parse_identifier(coi).compact
    except (DomainError, ValueError):
        return None


def get_case_for_user(user: Any, coi: str, action: Action | str = Action.VIEW_CASE) -> TherapyCase:
    """The case ``coi`` if the user may see it and ``action`` it.

    :class:`NotFound` when there is no such case or the user may not see it (the two are not
    told apart); :class:`Forbidden` when the user sees it but no role of theirs at its sites
    may ``action``.
    """
    compact = normalise_coi(coi) if coi else None
    case = (
        cases_for_user(user).select_related("treating_site").filter(coi=compact).first()
        if compact
        else None
    )
    if case is None:
        raise NotFound(f"no therapy case {coi[:40]}")
    if not any(can(role, action) for role in roles_on_case(user, case)):
        raise Forbidden(f"you hold no role at a site of case {case.coi} that may {action}")
    return case


def may_identify(user: Any, case: TherapyCase, participant_sites: Any = None) -> bool:
    """Whether the user may see who the patient of ``case`` is (name, birth date, record).

    Only through a role that may view patients, at a site of the case that is not a
    manufacturing site or courier: those know the case by its identifier alone.
    ``participant_sites`` saves the query when a list has them prefetched.
    """
    if participant_sites is None:
        participant_sites = case.participants.values_list("site_id", flat=True)
    taking_part = set(participant_sites)
    return any(
        site in taking_part and kind not in PSEUDONYMISED_KINDS and can(role, Action.VIEW_PATIENT)
        for site, kind, role in memberships(user)
    )


def patients_for_user(user: Any) -> QuerySet[Patient]:
    """The patients the user may see: of treatment centers where they may view patients."""
    sites = {
        site
        for site, kind, role in memberships(user)
        if kind not in PSEUDONYMISED_KINDS and can(role, Action.VIEW_PATIENT)
    }
    if not sites:
        return Patient.objects.none()
    return Patient.objects.filter(treating_site_id__in=sites)


def get_patient_for_user(user: Any, public_id: Any, action: Action | str) -> Patient:
    """The patient if the user may see them and ``action``; NotFound or Forbidden as above."""
    visible = {site for site, _, _ in memberships(user)}
    patient = (
        Patient.objects.select_related("treating_site")
        .filter(public_id=public_id, treating_site_id__in=visible)
        .first()
    )
    if patient is None:
        raise NotFound(f"no patient {public_id}")
    at_site = {
        Role(role) for site, _, role in memberships(user) if site == patient.treating_site_id
    }
    if not any(can(role, action) for role in at_site):
        raise Forbidden(f"you hold no role at {patient.treating_site.slug} that may {action}")
    return patient
