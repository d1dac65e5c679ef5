from __future__ import annotations

from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "cartflow.clinic"
    label = "clinic"
    verbose_name = "cartflow clinic"
    default_auto_field = "django.db.models.BigAutoField"
