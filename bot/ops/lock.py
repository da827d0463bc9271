"""Who is using the database file: a running bot holds a shared lock, maintenance an exclusive one.

Several bot processes (webhook instances) may share one database, so the bot's lock is shared;
``restore`` and ``rotate-key`` replace or rewrite the whole file and need it alone. The lock is
an ``flock`` on a file beside the database, released by the kernel when a process dies, so a
crash never leaves the database locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DatabaseInUse(Exception):
    """A maintenance command found the bot running on the database."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def _locked(database: Path, operation: int) -> Iterator[None]:
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"{database} is in use by a running bot: stop it first"
                if operation == fcntl.LOCK_EX
                else f"{database} is being restored or re-keyed: wait until that finishes"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def bot_running(database: Path) -> Iterator[None]:
    """Held by a running bot (polling or webhook) for as long as it runs."""
    with _locked(database, fcntl.LOCK_SH):
        yield


@contextmanager
def maintenance(database: Path) -> Iterator[None]:
    """Held by a command that must have the database to itself."""
    with _locked(database, fcntl.LOCK_EX):
        yield
