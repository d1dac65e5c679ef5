"""The project's URLs: the JSON API under ``/api/`` (pages come with the next issue)."""

from __future__ import annotations

from django.urls import include, path

from cartflow.clinic.api import api

urlpatterns = [
    path("api/", api.urls),
    # Django's set_language: POST a language code, the choice is kept in a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cartflow.clinic.urls")),
]
