"""The clinic's pages: server-rendered, each view answering the page or its HTMX fragment.

Every write goes through a service function (``cartflow.clinic.services``); access goes
through ``cartflow.clinic.access``. See docs/pages.md.
"""

from cartflow.clinic.views.audit import audit_page, case_audit
from cartflow.clinic.views.auth import LoginView, LogoutView
from cartflow.clinic.views.bedside import bedside
from cartflow.clinic.views.board import board, home
from cartflow.clinic.views.cases import case_page, case_step
from cartflow.clinic.views.eligibility import eligibility_page
from cartflow.clinic.views.network import network_page, sources_page
from cartflow.clinic.views.patient import (
    access_setup,
    patient_access_page,
    patient_access_revoke,
    patient_card,
    patient_home,
    planned_dates,
)
from cartflow.clinic.views.patients import patient_list, patient_new, patient_page, patient_refer
from cartflow.clinic.views.plans import capacity_page, plan_answer, plan_page, plan_release
from cartflow.clinic.views.quality import quality_page, review
from cartflow.clinic.views.register import register_index, register_page

__all__ = [
    "LoginView",
    "LogoutView",
    "access_setup",
    "audit_page",
    "bedside",
    "board",
    "capacity_page",
    "case_audit",
    "case_page",
    "case_step",
    "eligibility_page",
    "home",
    "network_page",
    "patient_access_page",
    "patient_access_revoke",
    "patient_card",
    "patient_home",
    "patient_list",
    "patient_new",
    "patient_page",
    "patient_refer",
    "plan_answer",
    "plan_page",
    "plan_release",
    "planned_dates",
    "quality_page",
    "register_index",
    "register_page",
    "review",
    "sources_page",
]
