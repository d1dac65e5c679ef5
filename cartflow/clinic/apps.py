from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "cartflow.clinic"
    label = "clinic"
    verbose_name = "cartflow clinic"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers that audit logins, failures and lockouts.
        from cartflow import session_idle  # noqa: F401
        from cartflow.clinic.services import authentication  # noqa: F401
