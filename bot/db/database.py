"""One aiosqlite connection shared by every repository.

The connection runs in autocommit mode (``isolation_level=None``) and every statement goes
through one asyncio lock. Without the lock, a statement from one update could run inside
another update's open transaction and be rolled back with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]


class Transaction:
    """Statements run inside one ``BEGIN IMMEDIATE … COMMIT``; use :meth:`Database.transaction`."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    # Each aiosqlite call is a hop to its thread and back (~30 µs here): one call per statement,
    # and cursors are not closed by hand (closing would be another hop; they are collected).

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        cursor = await self._connection.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; returns the new row id."""
        cursor = await self._connection.execute(sql, params)
        return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self._connection.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return list(await self._connection.execute_fetchall(sql, params))


class Database:
    """The bot's SQLite database. Open it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database file in WAL mode, readable by its owner only."""
        # Blocking, but once at start-up, before any update is served.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # noqa: ASYNC240
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",  # durable in WAL mode except on power loss
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",
            # Deleted rows are overwritten, not left readable in free pages of a seized file.
            "PRAGMA secure_delete = ON",
        ):
            await connection.execute(pragma)
        return cls(connection, path)

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Hold the connection for several statements that commit or roll back together."""
        async with self._lock:
            try:
                # Inside the try: a task cancelled while BEGIN runs must still roll back.
                await self._connection.execute("BEGIN IMMEDIATE")
                yield Transaction(self._connection)
            except BaseException:
                # SQLite may have rolled back already (disk full, I/O error): keep the real error.
                with contextlib.suppress(sqlite3.OperationalError):
                    await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own implicit transaction; returns the rows changed."""
        async with self._lock:
            return await Transaction(self._connection).execute(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        async with self._lock:
            return await Transaction(self._connection).insert(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._lock:
            return await Transaction(self._connection).fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._lock:
            return await Transaction(self._connection).fetchall(sql, params)

    async def executescript(self, script: str) -> None:
        """Run a script as is (migrations); the caller brackets it with BEGIN/COMMIT."""
        async with self._lock:
            await self._connection.executescript(script)

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (used before backups and by tests)."""
        async with self._lock:
            await self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
