"""Numbered SQL migrations: ``NNNN_name.sql``, each applied once, in order, in a transaction."""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from pathlib import Path

from bot.db.database import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def _migrations() -> list[tuple[int, Path]]:
    found = []
    for path in MIGRATIONS_DIR.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort()
    numbers = [number for number, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


def latest_version() -> int:
    return len(_migrations())


async def current_version(db: Database) -> int:
    """The highest migration applied; 0 for a new database."""
    row = await db.fetchone(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    )
    if row is None:
        return 0
    row = await db.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


async def apply_migrations(db: Database, up_to: int | None = None) -> list[int]:
    """Apply every migration not yet applied (up to ``up_to``); returns the numbers applied."""
    await db.executescript(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, applied_on TEXT NOT NULL)"
    )
    done = await current_version(db)
    if done > latest_version():
        raise RuntimeError(
            f"the database is at schema version {done}, newer than this code "
            f"({latest_version()}): run the newer version of the bot, or restore a backup"
        )
    applied = []
    for number, path in _migrations():
        if number <= done or (up_to is not None and number > up_to):
            continue
        sql = path.read_text(encoding="utf-8")
        # executescript() would commit a pending transaction first, so the script brackets
        # itself: the migration and its schema_version row commit together or not at all.
        script = (
            f"BEGIN IMMEDIATE;\n{sql}\n"
            f"INSERT INTO schema_version (version, applied_on) VALUES ({number}, date('now'));\n"
            "COMMIT;"
        )
        try:
            await db.executescript(script)
        except Exception:
            # Not executescript(): it would COMMIT the open transaction before running.
            with contextlib.suppress(sqlite3.OperationalError):  # nothing begun, nothing to undo
                await db.execute("ROLLBACK")
            raise
        log.info("database migration %04d applied", number)
        applied.append(number)
    return applied
