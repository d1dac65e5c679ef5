"""The project's URLs: the JSON API under ``/api/`` (pages come with the next issue)."""

from __future__ import annotations

from django.urls import include, path

from cartflow.clinic.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("cartflow.clinic.urls")),
]
