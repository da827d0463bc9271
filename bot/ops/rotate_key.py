"""``rotate-key``: every key and sealed value in the database moved to a new secret, at once.

A user's key is ``HMAC(secret, Telegram id)`` and their chat reference holds that id sealed,
so the old secret opens each reference, and the id inside gives the user's key under the new
secret; a volunteer's sealed id (``volunteers.ref``) does the same for volunteers who never
started the bot. A case held by a volunteer whose id was never noted goes back to the queue.
Keys that belong to nobody registered (events re-keyed at random after /forget, a
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
from bot.ops.backup import key_check_of, sync_directory
from bot.ops.lock import maintenance

#: Every column that holds a person's key, besides ``guide_progress.user_key`` (re-keyed with
#: its sealed checklist).
KEY_COLUMNS = (
    ("users", "key"),
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
    #: Cases taken by a volunteer who could not be re-keyed, given back to the queue.
    requeued: int
    #: Where the new secret is: the key file, or the file given for an environment secret.
    secret_path: Path
    #: Only the last step was left to do, after an interrupted run.
    resumed: bool = False


def rotate_key(
    settings: Settings,
    new_key_file: Path | None = None,
    before: Callable[[], None] | None = None,
) -> Rotation:
    """Re-key ``settings.database_path`` under a new secret (see the module's docstring).

    ``before`` runs once the database is known to be free and under the current secret,
    before anything changes (the command drops Redis conversations there); if it raises,
    nothing is changed.
    """
    database = settings.database_path
    from_environment = settings.secret_key is not None
    if from_environment and new_key_file is None:
        raise RotationError(
            "the secret comes from SUPOLKA_SECRET_KEY: give --new-key-file PATH for the new one"
        )
    if not from_environment and new_key_file is not None:
        raise RotationError(
            f"the secret is in the key file {settings.key_file}: the new one replaces it there, "
            "so --new-key-file is only for a secret in SUPOLKA_SECRET_KEY"
        )
    pending = new_key_file or settings.key_file.with_name(settings.key_file.name + ".new")
    if not database.is_file() or key_check_of(database) is None:
        raise RotationError(f"{database} has not been started yet: there is nothing to re-key")
    with maintenance(database):
        old = Identity(_current_secret(settings))
        fingerprint = key_check_of(database)
        if fingerprint != old.key_check():
            return _resume(settings, pending, fingerprint)
        if new_key_file is not None and new_key_file.exists():
            # Never delete what the operator pointed at: a typo could name the database.
            raise RotationError(f"{new_key_file} exists already: give a new file name")
        pending.unlink(missing_ok=True)  # ours, from a run that stopped before its transaction
        if before is not None:
            before()
        secret = new_secret()
        new = Identity(secret.encode())
        write_key_file(pending, secret)
        sync_directory(pending.parent)
        try:
            counts = _rekey(database, old, new)
        except BaseException:
            # Unless the transaction committed (an interruption right after it), the new
            # secret opens nothing and goes; if it did, it is the only key the data has.
            if key_check_of(database) != new.key_check():
                pending.unlink(missing_ok=True)
            raise
        if not from_environment:
            _replace_key_file(pending, settings.key_file)
        return Rotation(*counts, pending if from_environment else settings.key_file)


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
        return Rotation(0, 0, 0, pending, resumed=True)
    _replace_key_file(pending, settings.key_file)
    return Rotation(0, 0, 0, settings.key_file, resumed=True)


def _rekey(database: Path, old: Identity, new: Identity) -> tuple[int, int, int]:
    """One transaction: users with their chat references, checklists, every key column."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete = ON")  # old values overwritten, not freed
        connection.execute("BEGIN IMMEDIATE")
        try:
            rekey = _KeyMap()
            _reseal_ids(connection, old, new, rekey, "users", "chat_ref")
            users = len(rekey.known)
            # Volunteers who never started the bot are known by the id kept when they acted.
            _reseal_ids(connection, old, new, rekey, "volunteers", "ref")
            requeued = _requeue_orphaned_cases(connection, rekey)
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
        # Old values out of the -wal file too; a checkpoint that cannot run now happens later.
        with contextlib.suppress(sqlite3.Error):
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return users, len(rekey.unknown), requeued


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


def _reseal_ids(
    connection: sqlite3.Connection,
    old: Identity,
    new: Identity,
    rekey: _KeyMap,
    table: str,
    column: str,
) -> None:
    """Every sealed Telegram id in ``table.column``: opened with the old secret, its key under
    the new one added to the map, and sealed again, bound to that key. (The key column itself
    is re-keyed with the others, through the map.)"""
    rows = connection.execute(
        f"SELECT key, {column} FROM {table} WHERE {column} IS NOT NULL"
    ).fetchall()
    for key, sealed in rows:
        # A chat reference holds the chat id, which in a private chat is the user's id.
        telegram_id = old.open_chat(bytes(sealed), key)
        if telegram_id is None:
            raise RotationError(
                f"a sealed id in {table} does not open under the current secret: the database "
                "is damaged; nothing was changed"
            )
        fresh = rekey.known.setdefault(key, new.user_key(telegram_id))
        connection.execute(
            f"UPDATE {table} SET {column} = ? WHERE key = ?",
            (new.seal_chat(telegram_id, fresh), key),
        )


def _requeue_orphaned_cases(connection: sqlite3.Connection, rekey: _KeyMap) -> int:
    """Cases held by (or offered to) a volunteer whose id is unknown go back to the queue:
    under the new secret nobody would hold them, and the worker would wait for ever."""
    requeued = 0
    rows = connection.execute(
        "SELECT id, assignee, offered_to FROM cases WHERE status != 'closed'"
        " AND (assignee IS NOT NULL OR offered_to IS NOT NULL)"
    ).fetchall()
    for case_id, assignee, offered_to in rows:
        if assignee is not None and assignee not in rekey.known:
            connection.execute(
                "UPDATE cases SET status = 'open', assignee = NULL, offered_to = NULL,"
                " taken_at = NULL, responded = 0 WHERE id = ?",
                (case_id,),
            )
            requeued += 1
        elif offered_to not in (None, *_NOT_KEYS) and offered_to not in rekey.known:
            connection.execute("UPDATE cases SET offered_to = NULL WHERE id = ?", (case_id,))
    return requeued


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
    sync_directory(key_file.parent)
