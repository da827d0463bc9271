"""``rotate-key``: every key and sealed value in the database moved to a new secret, at once.

A user's key is ``HMAC(secret, Telegram id)`` and their chat reference holds that id sealed,
so the old secret opens each reference, and the id inside gives the user's key under the new
secret. Keys that belong to nobody registered (events re-keyed at random after /forget, a
block or a circle removal kept after /forget) get a fresh random key each, the same one in
every table: the rows keep their meaning for the counts, and nothing in the file can be linked
to the old secret any more. Conversations in progress are dropped (their storage keys cannot
be recomputed), so users start their current flow again.

Order of work, so that a crash at any point loses nothing:

1. the new secret is written, durably, to a pending file (``<key file>.new``);
2. one transaction re-keys every table and stores the new key's fingerprint;
3. the pending file replaces the key file.

Run again after a crash between 2 and 3, the command sees that the database already belongs to
the pending secret and only does step 3. After a crash before 2 the pending file is discarded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag

from bot.config import Settings
from bot.db.guide import checklist_context
from bot.identity import Identity, KeyFileError, new_secret, read_key_file, write_key_file
from bot.ops.backup import key_check_of
from bot.ops.lock import maintenance

#: Every column that holds a person's key, besides ``users.key`` (re-keyed with its chat
#: reference) and ``guide_progress.user_key`` (with its sealed checklist).
KEY_COLUMNS = (
    ("events", "user_key"),
    ("interests", "user_key"),
    ("circle_members", "user_key"),
    ("invites", "created_by"),
    ("cases", "user_key"),
    ("cases", "assignee"),
    ("cases", "offered_to"),
    ("volunteers", "key"),
    ("access_log", "volunteer_key"),
    ("blocked_workers", "user_key"),
    ("recent_messages", "user_key"),
)
#: Values in key columns that are not keys: a transfer offered to anyone.
_NOT_KEYS = frozenset({"*"})


class RotationError(Exception):
    """The key could not be rotated; nothing was changed. The message says why."""


@dataclass(frozen=True)
class Rotation:
    """What ``rotate-key`` did."""

    users: int
    other_keys: int
    #: Where the new secret is: the key file, or the file given for an environment secret.
    secret_path: Path
    #: Only the last step was left to do, after an interrupted run.
    resumed: bool = False


def rotate_key(settings: Settings, new_key_file: Path | None = None) -> Rotation:
    """Re-key ``settings.database_path`` under a new secret (see the module's docstring)."""
    database = settings.database_path
    from_environment = settings.secret_key is not None
    if from_environment and new_key_file is None:
        raise RotationError(
            "the secret comes from SUPOLKA_SECRET_KEY: give --new-key-file PATH for the new one"
        )
    pending = new_key_file or settings.key_file.with_name(settings.key_file.name + ".new")
    if not database.is_file() or key_check_of(database) is None:
        raise RotationError(f"{database} has not been started yet: there is nothing to re-key")
    with maintenance(database):
        old = Identity(_current_secret(settings))
        fingerprint = key_check_of(database)
        if fingerprint != old.key_check():
            return _resume(settings, pending, fingerprint)
        pending.unlink(missing_ok=True)  # from a run that stopped before its transaction
        secret = new_secret()
        write_key_file(pending, secret)
        _sync_directory(pending.parent)
        users, others = _rekey(database, old, Identity(secret.encode()))
        if not from_environment:
            _replace_key_file(pending, settings.key_file)
        return Rotation(users, others, pending if from_environment else settings.key_file)


def _current_secret(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    try:
        return read_key_file(settings.key_file)
    except KeyFileError as error:
        raise RotationError(str(error)) from None


def _resume(settings: Settings, pending: Path, fingerprint: str | None) -> Rotation:
    """The database is not under the current secret: finish an interrupted rotation, if so."""
    try:
        secret = read_key_file(pending)
    except KeyFileError:
        secret = None
    if secret is None or Identity(secret).key_check() != fingerprint:
        raise RotationError(
            f"{settings.database_path} was made under another secret than the current one: "
            "restore the right key first"
        )
    if settings.secret_key is not None:
        # The new secret is in the pending file; the operator moves it into the settings.
        return Rotation(0, 0, pending, resumed=True)
    _replace_key_file(pending, settings.key_file)
    return Rotation(0, 0, settings.key_file, resumed=True)


def _rekey(database: Path, old: Identity, new: Identity) -> tuple[int, int]:
    """One transaction: users with their chat references, checklists, every key column."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete = ON")  # old values overwritten, not freed
        connection.execute("BEGIN IMMEDIATE")
        try:
            rekey = _user_keys(connection, old, new)
            users = len(rekey.known)
            _reseal_checklists(connection, old, new, rekey)
            connection.create_function("rekey", 1, rekey, deterministic=True)
            for table, column in KEY_COLUMNS:
                connection.execute(f"UPDATE {table} SET {column} = rekey({column})")
            # Storage keys hash Telegram ids with the secret and cannot be recomputed.
            connection.execute("DELETE FROM fsm_state")
            connection.execute(
                "UPDATE meta SET value = ? WHERE name = 'key_check'", (new.key_check(),)
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return users, len(rekey.unknown)


class _KeyMap:
    """Old key to new: a registered user's from their Telegram id, anyone else's at random."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}
        self.unknown: dict[str, str] = {}

    def __call__(self, key: str | None) -> str | None:
        if key is None or key in _NOT_KEYS:
            return key
        if key in self.known:
            return self.known[key]
        return self.unknown.setdefault(key, secrets.token_hex(32))


def _user_keys(connection: sqlite3.Connection, old: Identity, new: Identity) -> _KeyMap:
    """Re-key ``users`` and re-seal each chat reference; returns the map for the rest."""
    rekey = _KeyMap()
    rows = connection.execute("SELECT key, chat_ref FROM users").fetchall()
    for key, chat_ref in rows:
        chat_id = old.open_chat(bytes(chat_ref), key)
        if chat_id is None:
            raise RotationError(
                "a user's chat reference does not open under the current secret: the database "
                "is damaged; nothing was changed"
            )
        # In a private chat the chat id is the user's Telegram id.
        rekey.known[key] = new.user_key(chat_id)
    for key, chat_ref in rows:
        chat_id = old.open_chat(bytes(chat_ref), key)
        assert chat_id is not None  # checked above
        fresh = rekey.known[key]
        connection.execute(
            "UPDATE users SET key = ?, chat_ref = ? WHERE key = ?",
            (fresh, new.seal_chat(chat_id, fresh), key),
        )
    return rekey


def _reseal_checklists(
    connection: sqlite3.Connection, old: Identity, new: Identity, rekey: Callable[..., object]
) -> None:
    rows = connection.execute("SELECT user_key, pack, checklist FROM guide_progress").fetchall()
    for key, pack, sealed in rows:
        fresh = rekey(key)
        checklist = None
        if sealed is not None:
            try:
                plain = old.open(bytes(sealed), checklist_context(key, pack))
            except InvalidTag:
                raise RotationError(
                    "a checklist does not open under the current secret: the database is "
                    "damaged; nothing was changed"
                ) from None
            checklist = new.seal(plain, checklist_context(str(fresh), pack))
        connection.execute(
            "UPDATE guide_progress SET user_key = ?, checklist = ?"
            " WHERE user_key = ? AND pack = ?",
            (fresh, checklist, key, pack),
        )


def _replace_key_file(pending: Path, key_file: Path) -> None:
    os.replace(pending, key_file)
    _sync_directory(key_file.parent)


def _sync_directory(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` survive a power cut."""
    with contextlib.suppress(OSError):  # not every file system lets a directory be synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
