"""Django's SQLite backend, with writers that wait their turn in a queue, not in a sleep.

SQLite has one write lock per database. A transaction that cannot take it at ``BEGIN
IMMEDIATE`` is handed to SQLite's busy handler, which sleeps and tries again (1, 2, 5, 10
... then 100 ms at a time): the lock is often free for most of a sleep, so under many
concurrent writers the server idles while requests wait, and throughput falls as clients are
added. Here every transaction first takes an exclusive ``flock`` on a file beside the
database: the kernel queues the waiters and wakes one the moment the lock is given back, and
only then does it ``BEGIN IMMEDIATE`` (which then finds the write lock free, unless a writer
outside cartflow holds it, which the busy timeout still waits for). The lock is per open
file, so the threads of one worker queue as the processes do, and a process killed with
SIGKILL gives it back with its files. It is released when the transaction ends (commit or
rollback, then autocommit again) or its connection closes.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base

LOCK_SUFFIX = ".write-lock"


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_held = False

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None  # one connection, one process: nobody to queue with
        return name + LOCK_SUFFIX

    def _take_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock_held:
            return
        if self._write_lock_fd is None:
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)  # waits, GIL released
        self._write_lock_held = True

    def _give_back_write_lock(self) -> None:
        if self._write_lock_held and self._write_lock_fd is not None:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
        self._write_lock_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._give_back_write_lock()
            raise

    def _set_autocommit(self, autocommit: bool) -> None:
        try:
            super()._set_autocommit(autocommit)
        finally:
            if autocommit:
                self._give_back_write_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._give_back_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None
