"""The demo's patient and family logins: one per language, each opened to one synthetic case
through the same service functions a coordinator's page calls (issue, then set up).

``family-en`` follows a case whose cells have arrived at the hospital, with the team's
planned dates of chemotherapy and infusion ahead; ``family-zh`` (Chinese) follows a case
after its infusion, so it shows the warning signs, the 24-hour number and the wallet card.
Passwords: ``cells-en-demo`` and ``cells-zh-demo`` (printed by ``cartflow demo``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from cartflow.clinic.models import Site, TherapyCase
from cartflow.clinic.services import patient_access

DEMO_PHONE = "+1 555 0100 (synthetic)"
"""A 555-01xx number: reserved for fiction, so it rings nobody."""

# user name, language, the step of the case it opens, where that case is treated.
PATIENT_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("family-en", "en", "available"),
    ("family-zh", "zh-hans", "monitoring"),
)
LANGUAGE_WORDS = {"en": "English", "zh-hans": "Chinese"}
CENTER = "demo-childrens"


def password_for(username: str) -> str:
    # Not "demo-<user name>" as for staff: a patient's password passes the site's validators,
    # and those refuse one that close to the user name.
    return f"cells-{username.rsplit('-', 1)[-1]}-demo"


def logins() -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (username, password_for(username), f"patient view ({LANGUAGE_WORDS[language]})")
        for username, language, _ in PATIENT_LOGINS
    )


def seed_patient_logins(now: datetime, coordinator: Any) -> None:
    """Give each demo centre a 24-hour number, and open one case per patient login."""
    Site.objects.filter(kind="treatment_center", slug__startswith="demo-").update(
        emergency_phone=DEMO_PHONE
    )
    users = get_user_model().objects
    for username, language, step in PATIENT_LOGINS:
        if users.filter(username=username).exists():
            continue
        case = (
            TherapyCase.objects.filter(treating_site__slug=CENTER, projection__step=step)
            .order_by("coi")
            .first()
        )
        if case is None:
            raise AssertionError(f"the demo has no case in step {step} at {CENTER}")
        if step == "available":
            today = now.date()
            patient_access.record_planned_dates(
                case,
                lymphodepletion_on=today + timedelta(days=2),
                infusion_on=today + timedelta(days=7),
                acting_user=coordinator,
            )
        issued = patient_access.issue_patient_access(
            case, holder="patient", language=language, acting_user=coordinator, now=now
        )
        patient_access.set_up_patient_access(
            issued.token, username=username, password=password_for(username), now=now
        )
