"""The project's URLs: the JSON API under ``/api/`` (pages come with the next issue)."""

from __future__ import annotations

from django.urls import include, path

from cartflow.clinic.api import api

# A database that refuses is a 503 (JSON or a styled page), every other error Django's 500.
handler500 = "cartflow.clinic.unavailable.server_error"

urlpatterns = [
    path("api/", api.urls),
    # Django's set_language: POST a language code, the choice is kept in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cartflow.clinic.urls")),
]
