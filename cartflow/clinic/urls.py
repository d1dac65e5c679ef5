"""The clinic's pages. URLs carry the chain-of-identity identifier or a UUID, never a row
number, and never a patient's name or birth date."""

from __future__ import annotations

from django.urls import path

from cartflow.clinic import views

urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("network/", views.network_page, name="network"),
    path("sources/", views.sources_page, name="sources"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("patients/", views.patient_list, name="patients"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:patient_id>/", views.patient_page, name="patient"),
    path("patients/<uuid:patient_id>/refer/", views.patient_refer, name="patient_refer"),
    path("cases/<str:coi>/", views.case_page, name="case"),
    path("cases/<str:coi>/step/", views.case_step, name="case_step"),
    path("cases/<str:coi>/eligibility/", views.eligibility_page, name="eligibility"),
    path("cases/<str:coi>/bedside/", views.bedside, name="bedside"),
    path("cases/<str:coi>/deviations/review/", views.review, name="deviation_review"),
    path("cases/<str:coi>/audit/", views.case_audit, name="case_audit"),
    path(
        "cases/<str:coi>/patient-access/", views.patient_access_page, name="patient_access"
    ),
    path(
        "cases/<str:coi>/patient-access/<uuid:access_id>/revoke/",
        views.patient_access_revoke,
        name="patient_access_revoke",
    ),
    path("cases/<str:coi>/planned-dates/", views.planned_dates, name="planned_dates"),
    path("cases/<str:coi>/plan/", views.plan_page, name="plan"),
    path("cases/<str:coi>/plan/answer/", views.plan_answer, name="plan_answer"),
    path("cases/<str:coi>/plan/release/", views.plan_release, name="plan_release"),
    path("capacity/", views.capacity_page, name="capacity"),
    # The patient and family view: its set-up link (a long random token) and its pages.
    path("access/<str:token>/", views.access_setup, name="patient_access_setup"),
    path("my/", views.patient_home, name="patient_home"),
    path("my/card/", views.patient_card, name="patient_card"),
    path("quality/", views.quality_page, name="quality"),
    path("register/", views.register_index, name="register"),
    path("sites/<slug:site>/register/", views.register_page, name="site_register"),
    path("audit/", views.audit_page, name="audit"),
]
