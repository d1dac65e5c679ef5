"""The WSGI entry point for a production server (gunicorn cartflow.wsgi)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartflow.settings")
application = get_wsgi_application()
