"""``backup PATH`` and ``restore PATH``: a consistent copy of the live database, and back.

The copy is made with SQLite's online backup, which reads one consistent snapshot while the
bot goes on writing (WAL mode lets a reader and a writer work at once). A backup is one
self-contained file, never a WAL pair. It holds no key: whoever has both a backup and the key
can identify users, so the two are kept apart (docs/OPERATIONS.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.db.migrations import latest_version
from bot.identity import Identity
from bot.ops.lock import maintenance


class BackupError(Exception):
    """A backup or restore could not be made; the message says why, in one line."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup file holds, as far as an operator needs to know."""

    path: Path
    size: int
    schema_version: int
    users: int


def backup(database: Path, target: Path) -> Snapshot:
    """Copy ``database`` to ``target`` (which must not exist) and verify the copy."""
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file name")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written under another name and renamed once complete: a half-made backup never looks
    # like a good one.
    partial = target.with_name(target.name + ".partial")
    try:
        _copy(database, partial)
        snapshot = describe(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Snapshot(target, snapshot.size, snapshot.schema_version, snapshot.users)


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into a new file ``target``, mode 0600 from the
    start, one self-contained file (journal mode DELETE, no -wal beside it)."""
    target.unlink(missing_ok=True)  # a leftover of an attempt cut short
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        # pages=-1: the whole file in one step, so one snapshot however busy the bot is.
        reader.backup(writer, pages=-1)
        writer.execute("PRAGMA journal_mode = DELETE")
    finally:
        writer.close()
        reader.close()


def describe(path: Path) -> Snapshot:
    """Check that ``path`` is a whole Supolka database and say what it holds."""
    if not path.is_file():
        raise BackupError(f"no file at {path}")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                raise BackupError(f"{path} is damaged: {result}")
            version = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
            users = connection.execute("SELECT COUNT(*) FROM users").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a Supolka database ({error})") from None
    return Snapshot(path, path.stat().st_size, int(version[0] or 0), int(users[0]))


def key_check_of(path: Path) -> str | None:
    """The fingerprint of the key a database was made under (None before the first start)."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
    finally:
        connection.close()
    return str(row[0]) if row else None


def restore(database: Path, source: Path, identity: Identity) -> tuple[Snapshot, Path | None]:
    """Put the backup ``source`` in place of ``database``; the bot must not be running.

    Returns what was restored and where the replaced database was moved (None if there was
    none). The replaced file is kept, not deleted: a restore must not lose what came after the
    backup by accident; the operator deletes it once satisfied.
    """
    snapshot = describe(source)
    if snapshot.schema_version > latest_version():
        raise BackupError(
            f"{source} is at schema version {snapshot.schema_version}, newer than this code "
            f"({latest_version()}): restore it with the newer version of the bot"
        )
    if key_check_of(source) not in (None, identity.key_check()):
        raise BackupError(
            f"{source} was made under another secret key: restore the key it was made with "
            "first (SUPOLKA_SECRET_KEY or the key file)"
        )
    with maintenance(database):
        staged = database.with_name(database.name + ".restoring")
        try:
            _copy(source, staged)
            replaced = _set_aside(database)
            # One atomic rename: a crash before it leaves the old database in place (its
            # -wal folded in or set aside with it), after it the restored one.
            os.replace(staged, database)
            sync_directory(database.parent)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
    return snapshot, replaced


def _set_aside(database: Path) -> Path | None:
    """Keep the database being replaced, with its -wal and -shm, as ``….replaced-<time>``.

    A healthy database has its WAL folded in first. A damaged one (restoring is then the point)
    is kept as it is, WAL and all. A -wal left without its database (the file moved away by
    hand) is set aside too: read with the restored file, its pages would corrupt it. The old
    database is linked, not moved, so that the name always holds a whole database.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    replaced = database.with_name(f"{database.name}.replaced-{stamp}")
    if database.exists():
        with contextlib.suppress(sqlite3.DatabaseError):  # damaged: kept with its WAL
            _fold_wal(database)
        os.link(database, replaced)
    for suffix in ("-wal", "-shm"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            os.replace(companion, replaced.with_name(replaced.name + suffix))
    kept = [replaced.with_name(replaced.name + suffix) for suffix in ("", "-wal", "-shm")]
    return replaced if any(path.exists() for path in kept) else None


def sync_directory(folder: Path) -> None:
    """Make the renames in ``folder`` survive a power cut."""
    with contextlib.suppress(OSError):  # not every file system lets a directory be synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fold_wal(database: Path) -> None:
    """Checkpoint the old database, so that its -wal holds nothing it lacks."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
