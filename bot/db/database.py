"""The bot's SQLite database: short statements on the event loop, long reads in a thread.

An update costs a handful of statements, each an index lookup or a one-row write that SQLite
does in a few microseconds. Sending each to a worker thread and back (what aiosqlite does)
cost far more than the statement: so the main connection runs in the loop's own thread.
Long reads (a week of events for the report) would stall every chat meanwhile: they go
through :meth:`Database.read_long` on a second, read-only aiosqlite connection, which WAL mode
lets read while the main one writes.

The main connection is in autocommit mode and every statement goes through one asyncio lock.
Without the lock, a statement from one update could run inside another update's open
transaction (a transaction may await between statements) and be rolled back with it. A single
statement never awaits while it runs, so when the lock is free it runs at once, without the
cost of taking the lock (most statements: transactions are few and short).

Bookkeeping rows that nothing reads at once (the numbers of handled updates, the events the
statistics are computed from) are not written one by one: each would be its own commit, and
a commit costs several times the statement. They wait in memory (:meth:`Database.defer`) and
are written together, in one transaction, within a second, or sooner when many wait, before
any read that counts them, and at close. A hard crash (the process killed, the power cut)
loses at most that second of them; see bot/redelivery.py for what that means for updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]
Row = sqlite3.Row

_BUSY_TIMEOUT = "PRAGMA busy_timeout = 5000"
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",  # durable in WAL mode except on power loss
    "PRAGMA foreign_keys = ON",
    _BUSY_TIMEOUT,
    # Deleted rows are overwritten, not left readable in free pages of a seized file.
    "PRAGMA secure_delete = ON",
)
#: Deferred rows are written at once when this many wait.
DEFER_AT = 256

log = logging.getLogger(__name__)


class Transaction:
    """Statements run inside one ``BEGIN IMMEDIATE … COMMIT``; use :meth:`Database.transaction`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        return self._connection.execute(sql, params).rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; returns the new row id."""
        return self._connection.execute(sql, params).lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._connection.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._connection.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()


class Database:
    """The bot's SQLite database. Open it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self._reader: aiosqlite.Connection | None = None
        self._reader_lock = asyncio.Lock()
        self._lock = asyncio.Lock()
        #: A checkpoint could not finish (a long read was on): try again later.
        self.checkpoint_due = False
        self.path = path
        #: Rows waiting to be written, by statement, in the order they came.
        self._deferred: dict[str, list[Params]] = {}
        self._deferred_count = 0

    @classmethod
    async def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database file in WAL mode, readable by its owner only."""
        # Blocking, but once at start-up, before any update is served.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # noqa: ASYNC240
        connection = sqlite3.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            connection.execute(pragma)
        return cls(connection, path)

    async def close(self) -> None:
        """Write the deferred rows, then close."""
        try:
            await self.write_deferred()
        except Exception:
            log.exception("deferred rows could not be written at close")
        async with self._lock:
            if self._reader is not None:
                await self._reader.close()
                self._reader = None
            self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Hold the connection for several statements that commit or roll back together."""
        async with self._lock:
            try:
                # Inside the try: a task cancelled while BEGIN runs must still roll back, and
                # so must a failed COMMIT (the connection must not stay in a transaction).
                self._connection.execute("BEGIN IMMEDIATE")
                yield Transaction(self._connection)
                self._connection.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (disk full, I/O error): keep the real error.
                with contextlib.suppress(sqlite3.OperationalError):
                    self._connection.execute("ROLLBACK")
                raise

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own implicit transaction; returns the rows changed."""
        return (await self._run(sql, params)).rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        return (await self._run(sql, params)).lastrowid or 0

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = (await self._run(sql, params)).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return (await self._run(sql, params)).fetchall()

    async def _run(self, sql: str, params: Params) -> sqlite3.Cursor:
        """Run one statement outside any other task's transaction. The cursor's rows are read
        before the caller next awaits, so no other statement comes in between."""
        if self._lock.locked():  # a transaction is open: after it
            async with self._lock:
                return self._connection.execute(sql, params)
        return self._connection.execute(sql, params)

    @property
    def deferred(self) -> int:
        """How many rows wait to be written."""
        return self._deferred_count

    async def defer(self, sql: str, params: Params) -> None:
        """Write this one-row statement later, with others, in one transaction (module doc).

        For rows no handler reads back at once: their readers call :meth:`write_deferred`
        first. The periodic writer (``bot.message_ids.run_flush``) writes them every second.
        """
        self._deferred.setdefault(sql, []).append(params)
        self._deferred_count += 1
        if self._deferred_count >= DEFER_AT:
            # A failure is logged by write_deferred, and those rows are gone: the caller's own
            # work (an update handled, an event) is done and must not fail for them.
            with contextlib.suppress(Exception):
                await self.write_deferred()

    async def write_deferred(self) -> int:
        """Write the waiting rows now, in the order they came; returns how many."""
        if not self._deferred_count:
            return 0
        async with self.transaction() as tx:
            # Taken once the lock is held: a task cancelled while waiting for it leaves the
            # rows waiting.
            return await self.write_deferred_in(tx)

    async def write_deferred_in(self, tx: Transaction) -> int:
        """Write the waiting rows inside ``tx``, a transaction of this database the caller
        holds: /forget writes a person's waiting events in the transaction that detaches them,
        so that none can come in between."""
        batches, self._deferred = self._deferred, {}
        count, self._deferred_count = self._deferred_count, 0
        try:
            for sql, rows in batches.items():
                await tx.executemany(sql, rows)
        except Exception:
            # Not queued again: a row that cannot be written would fail every later batch.
            log.error("%d deferred rows were not written", count)
            raise
        return count

    async def read_long(self, sql: str, params: Params = ()) -> list[Row]:
        """A read that may take long (many rows): in a thread, on a read-only connection, so
        that updates are served meanwhile. It sees what was committed when it began."""
        async with self._reader_lock:  # two first calls must not open two readers
            if self._reader is None:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._reader = await aiosqlite.connect(uri, uri=True)
                self._reader.row_factory = sqlite3.Row
            reader = self._reader
        return list(await reader.execute_fetchall(sql, params))

    async def executescript(self, script: str) -> None:
        """Run a script as is (migrations); the caller brackets it with BEGIN/COMMIT."""
        async with self._lock:
            self._connection.executescript(script)

    async def checkpoint(self) -> bool:
        """Fold the WAL into the main file and truncate it (after erasures, before backups).

        While a long read is on, the WAL cannot be truncated: rather than make every chat wait
        for it, this returns False at once and sets :attr:`checkpoint_due`, and the periodic
        writer (``bot.message_ids.run_flush``) tries again a few seconds later.
        """
        async with self._lock:
            self._connection.execute("PRAGMA busy_timeout = 0")
            try:
                busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self._connection.execute(_BUSY_TIMEOUT)
        self.checkpoint_due = bool(busy)
        return not busy
