"""Patient and family access through the service layer: events on the chain, the token
never stored, one case per login, and the end of access on revocation or a closed case."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from cartflow.clinic.models import AuditRow, Event, PatientAccess, TherapyCase
from cartflow.clinic.services import patient_access as pa
from cartflow.clinic.services import referral
from cartflow.clinic.services.machine import from_jsonable
from cartflow.domain.errors import InvalidInput
from cartflow.domain.journey import CaseState
from cartflow.domain.journey.patient_access import AccessRefused

pytestmark = pytest.mark.django_db

PASSWORD = "a long family passphrase"


@pytest.fixture
def real_case(patient: Any, physician: Any) -> TherapyCase:
    return referral.refer_patient(
        patient,
        product_id="tisagenlecleucel",
        indication_id="tisagenlecleucel/lbcl",
        acting_user=physician,
    ).case


def test_issue_use_and_revoke_are_events_of_the_case_and_the_token_is_never_kept(
    real_case: TherapyCase, coordinator: Any
) -> None:
    issued = pa.issue_patient_access(real_case, holder="patient", acting_user=coordinator)
    user = pa.set_up_patient_access(issued.token, username="fam-one", password=PASSWORD)
    seen = pa.case_for_patient(user)
    assert seen is not None and seen.case == real_case
    pa.revoke_patient_access(real_case, issued.access.public_id, acting_user=coordinator)
    assert pa.case_for_patient(user) is None
    types = list(
        Event.objects.filter(case=real_case).order_by("seq").values_list("type", flat=True)
    )
    assert types[-3:] == ["patient_access.issued", "patient_access.used", "patient_access.revoked"]
    stored = b"".join(bytes(e.body) for e in Event.objects.filter(case=real_case))
    stored += str(list(AuditRow.objects.values_list("summary", flat=True))).encode()
    assert issued.token.encode() not in stored
    assert PatientAccess.objects.get().token_hash != issued.token


def test_a_link_is_refused_after_revocation_and_after_use(
    real_case: TherapyCase, coordinator: Any
) -> None:
    first = pa.issue_patient_access(real_case, holder="patient", acting_user=coordinator)
    pa.set_up_patient_access(first.token, username="fam-two", password=PASSWORD)
    with pytest.raises(AccessRefused) as used:
        pa.set_up_patient_access(first.token, username="fam-three", password=PASSWORD)
    assert used.value.rule_id == "patient_access.used"
    second = pa.issue_patient_access(real_case, holder="patient", acting_user=coordinator)
    pa.revoke_patient_access(real_case, second.access.public_id, acting_user=coordinator)
    with pytest.raises(AccessRefused) as revoked:
        pa.set_up_patient_access(second.token, username="fam-four", password=PASSWORD)
    assert revoked.value.rule_id == "patient_access.revoked"
    assert not PatientAccess.objects.filter(user__username="fam-four").exists()


def test_an_expired_link_sets_nothing_up(real_case: TherapyCase, coordinator: Any) -> None:
    issued = pa.issue_patient_access(real_case, holder="patient", days=1, acting_user=coordinator)
    with pytest.raises(AccessRefused) as expired:
        pa.set_up_patient_access(
            issued.token,
            username="fam-five",
            password=PASSWORD,
            now=timezone.now() + timedelta(days=2),
        )
    assert expired.value.rule_id == "patient_access.expired"


def test_a_weak_password_or_a_taken_name_is_refused(
    real_case: TherapyCase, coordinator: Any
) -> None:
    issued = pa.issue_patient_access(real_case, holder="patient", acting_user=coordinator)
    with pytest.raises(InvalidInput):
        pa.set_up_patient_access(issued.token, username="fam-six", password="123")
    with pytest.raises(InvalidInput):
        pa.set_up_patient_access(issued.token, username=coordinator.username, password=PASSWORD)


def test_a_child_is_opened_to_a_named_guardian(real_case: TherapyCase, coordinator: Any) -> None:
    real_case.patient.birth_date = date.today().replace(year=date.today().year - 9)
    real_case.patient.save()
    with pytest.raises(AccessRefused) as young:
        pa.issue_patient_access(real_case, holder="patient", acting_user=coordinator)
    assert young.value.params["min_age"] == real_case.treating_site.own_access_age
    with pytest.raises(InvalidInput):
        pa.issue_patient_access(real_case, holder="guardian", acting_user=coordinator)
    issued = pa.issue_patient_access(
        real_case, holder="guardian", holder_name="Parent Example", acting_user=coordinator
    )
    assert issued.access.holder_name == "Parent Example"


def test_planned_dates_reach_the_projection(real_case: TherapyCase, coordinator: Any) -> None:
    pa.record_planned_dates(
        real_case,
        apheresis_on=date(2030, 1, 6),
        infusion_on=date(2030, 2, 3),
        acting_user=coordinator,
    )
    real_case.projection.refresh_from_db()
    state = from_jsonable(CaseState, real_case.projection.state)
    assert state.planned_dates.apheresis_on == date(2030, 1, 6)
    assert state.planned_dates.infusion_on == date(2030, 2, 3)
