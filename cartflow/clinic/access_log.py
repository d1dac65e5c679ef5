"""The access log: every answer that showed a patient's identity, and to whom.

A page or an API answer that shows a patient's name, birth date or record number says so
with :func:`identity_shown` while it is built; :class:`IdentityReadMiddleware` then writes one
:class:`~cartflow.clinic.models.IdentityRead` row per answer (status below 400) naming the user,
the request, the patients and what of them was shown. The row is written after the answer is
built, outside any case's lock and transaction, in a table of its own that triggers keep
append-only.

On SQLite a write takes the database's one write lock (and waits while an append holds it):
the rows are handed to one writer thread per process that writes them in batches, so that
page views never wait on the lock nor on one another. The thread writes within milliseconds
of the answer; a process killed with SIGKILL loses at most the rows not yet written, and a
process that stops normally writes them first. On PostgreSQL the row is inserted at once (no
lock beyond the new row). The tests write at once on both (``CARTFLOW_ACCESS_LOG_BACKGROUND``).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from cartflow.clinic.models import IdentityRead

logger = logging.getLogger(__name__)

NAME, BIRTH_DATE, RECORD_NUMBER = "name", "birth_date", "record_number"
IDENTITY = (NAME, BIRTH_DATE, RECORD_NUMBER)

_shown: ContextVar[dict[str, set[str]] | None] = ContextVar("identity_shown", default=None)


def identity_shown(patients: Iterable[Any], fields: Sequence[str] = IDENTITY) -> None:
    """Note that the answer being built shows these patients' ``fields`` (a no-op outside a
    request: the command line's exports are audited on their own)."""
    shown = _shown.get()
    if shown is None:
        return
    for patient in patients:
        key = str(getattr(patient, "public_id", patient))
        shown.setdefault(key, set()).update(fields)


def _reader(request: HttpRequest) -> Any:
    """Who read: the API token's user, else the signed-in user."""
    auth = getattr(request, "auth", None)
    if getattr(auth, "pk", None) is not None:
        return auth
    return getattr(request, "user", None)


def _row(request: HttpRequest, shown: dict[str, set[str]]) -> dict[str, Any]:
    from cartflow.clinic.services.context import RequestMeta

    user = _reader(request)
    meta = RequestMeta.from_request(request)
    fields = sorted(set().union(*shown.values()))
    return {
        "at": timezone.now(),
        "user_id": getattr(user, "pk", None),
        "username": str(getattr(user, "username", "") or ""),
        "method": str(request.method or "")[:8],
        "path": request.path[:300],
        "ip": meta.ip,
        "request_id": meta.request_id,
        "patients": sorted(shown),
        "fields": fields,
    }


class IdentityReadMiddleware:
    """Collect what an answer showed of whom; log it once the answer is built."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        shown: dict[str, set[str]] = {}
        token = _shown.set(shown)
        try:
            response = self.get_response(request)
        finally:
            _shown.reset(token)
        if shown and response.status_code < 400:
            write(_row(request, shown))
        return response


def write(row: dict[str, Any]) -> None:
    if connection.vendor == "sqlite" and settings.CARTFLOW_ACCESS_LOG_BACKGROUND:
        _Writer.get().put(row)
        return
    try:
        IdentityRead.objects.create(**row)
    except DatabaseError as exc:
        # A database that refuses writes (read-only, full) still answers reads; the failure
        # to log is itself logged.
        logger.error(
            "access log: a read of %d patients not logged: %s",
            len(row["patients"]),
            type(exc).__name__,
        )


class _Writer:
    """One thread per process that writes the access log's rows in batches (SQLite)."""

    _instance: _Writer | None = None
    _pid = 0
    _lock = threading.Lock()
    BATCH = 500

    def __init__(self) -> None:
        self.rows: queue.Queue[dict[str, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _Writer:
        with cls._lock:
            # A forked worker starts its own thread: a thread does not survive a fork.
            if cls._instance is None or cls._pid != os.getpid():
                cls._instance, cls._pid = _Writer(), os.getpid()
                atexit.register(cls._instance.flush)
            return cls._instance

    def put(self, row: dict[str, Any]) -> None:
        self.rows.put(row)

    def flush(self, timeout: float = 30) -> None:
        """Wait until every row handed over so far is written (or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while self.rows.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        while True:
            batch = [self.rows.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self.rows.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
            for _ in batch:
                self.rows.task_done()

    @staticmethod
    def _write(batch: list[dict[str, Any]]) -> None:
        for attempt in range(10):
            try:
                IdentityRead.objects.bulk_create([IdentityRead(**row) for row in batch])
                return
            except DatabaseError as exc:
                logger.warning("access log: %s; retrying", type(exc).__name__)
                connection.close()
                time.sleep(min(5.0, 0.1 * 2**attempt))
        logger.error("access log: %d rows could not be written", len(batch))


def flush(timeout: float = 30) -> None:
    """Wait until this process's access-log rows are written (SQLite's writer thread)."""
    if _Writer._instance is not None and _Writer._pid == os.getpid():
        _Writer._instance.flush(timeout)
