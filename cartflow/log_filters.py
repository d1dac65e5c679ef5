"""Logging filters of the project shell."""

from __future__ import annotations

import logging


class OneLineRefusals(logging.Filter):
    """Drop the traceback of a 403: a refusal is expected, and its traceback only buries the
    lines that matter (the method, path and status stay)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
