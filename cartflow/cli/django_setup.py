"""Start Django for a command that needs the database (the others never import it)."""

from __future__ import annotations

import os


def setup_django() -> None:
    """Point Django at ``cartflow.settings`` (unless told otherwise) and set it up once."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartflow.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
