"""Log in and out (Django's own views, with the clinic's templates)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import resolve_url

from cartflow.clinic.services.patient_access import is_patient_login, language_of


def remember_language(response: HttpResponse, language: str) -> None:
    """Open a patient login's pages in the language its access was issued in, as if the
    holder had chosen it with the switch (which still changes it)."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )


class LoginView(auth_views.LoginView):
    """One sign-in for staff and for patient and family logins: the same session rules."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = "home"

    def get_default_redirect_url(self) -> str:
        if is_patient_login(self.request.user):
            return resolve_url("patient_home")
        return super().get_default_redirect_url()

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        remember_language(response, language_of(self.request.user))
        return response

    def get_redirect_url(self) -> str:
        # A patient login goes to its own page, never to a staff page a ?next= names.
        if is_patient_login(self.request.user):
            return ""
        return super().get_redirect_url()


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, with the CSRF token, as Django requires)."""

    next_page = "login"
