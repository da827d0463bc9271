"""Ids of recent messages in private chats, kept only for /wipe and only for about 48 hours.

Every message in and out would cost a write; instead ids wait in memory and are written in one
statement every few seconds (and before /wipe reads them, and at shutdown). A crash loses at
most those few seconds of ids: those messages are then left for the user to delete by hand.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from bot.db.database import Database

#: Flush at once when this many ids are waiting, whatever the timer says. Rows go to random
#: places in the table (keyed by user): a larger batch shares more of the pages it writes, and
#: with ten thousand users a row cost about 30 µs in batches of 256, 23 µs in batches of
#: 1,024 and 12 µs in batches of 4,096 (a separate SQLite test with that table).
FLUSH_AT = 2048


class RecentMessages:
    """The ``recent_messages`` table and its write buffer."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[str, int, str]] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def note(self, user_key: str, message_id: int, today: date) -> bool:
        """Remember a message id; returns True when the buffer should be flushed now."""
        self._pending.append((user_key, message_id, today.isoformat()))
        return len(self._pending) >= FLUSH_AT

    async def flush(self) -> int:
        """Write the waiting ids; returns how many."""
        rows, self._pending = self._pending, []
        if not rows:
            return 0
        rows.sort()  # in key order, each page of the table is visited once
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO recent_messages (user_key, message_id, day) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                rows,
            )
        return len(rows)

    async def ids(self, user_key: str) -> list[int]:
        """This user's recent message ids, oldest first."""
        await self.flush()
        rows = await self._db.fetchall(
            "SELECT message_id FROM recent_messages WHERE user_key = ? ORDER BY message_id",
            (user_key,),
        )
        return [int(row[0]) for row in rows]

    async def drop(self, user_key: str, ids: list[int] | None = None) -> None:
        """Forget these ids of this user (all of them when ``ids`` is None)."""
        self._pending = [
            row
            for row in self._pending
            if row[0] != user_key or (ids is not None and row[1] not in ids)
        ]
        if ids is None:
            await self._db.execute("DELETE FROM recent_messages WHERE user_key = ?", (user_key,))
            return
        async with self._db.transaction() as tx:
            await tx.executemany(
                "DELETE FROM recent_messages WHERE user_key = ? AND message_id = ?",
                [(user_key, message_id) for message_id in ids],
            )

    async def purge(self, today: date) -> int:
        """Delete ids from before yesterday: a message of day D goes at the start of day D+2,
        so none is kept much longer than 48 hours (purges run hourly), and /wipe reaches back
        to the start of yesterday.

        The table has no index by day (each noted id would write it too): the purge walks it
        in 16 slices of its key, letting updates be handled between them. A million rows
        took 20 ms a slice here.
        """
        await self.flush()
        before = (today - timedelta(days=1)).isoformat()
        deleted = 0
        for low, high in _SLICES:
            if high is None:
                deleted += await self._db.execute(
                    "DELETE FROM recent_messages WHERE user_key >= ? AND day < ?", (low, before)
                )
            else:
                deleted += await self._db.execute(
                    "DELETE FROM recent_messages WHERE user_key >= ? AND user_key < ? AND day < ?",
                    (low, high, before),
                )
            await asyncio.sleep(0)
        return deleted


#: The key space in slices: keys are hex digests, but any text falls in one of them (the
#: first starts at the empty string, the last has no end).
_STARTS = ["", *"123456789abcdef"]
_SLICES: list[tuple[str, str | None]] = list(zip(_STARTS, [*_STARTS[1:], None], strict=True))
