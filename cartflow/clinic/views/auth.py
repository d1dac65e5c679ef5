"""Log in and out (Django's own views, with the clinic's templates)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = "home"


class LogoutView(auth_views.LogoutView):
    """Log out (POST only, with the CSRF token, as Django requires)."""

    next_page = "login"
