"""Ids of recent messages in private chats, kept only for /wipe and only for about 48 hours.

Every message in and out would cost a write; instead ids wait in memory and are written every
few seconds (and before /wipe reads them, and at shutdown). A crash loses at most those few
seconds of ids: those messages are then left for the user to delete by hand.

The table has one row per user and day, its ids a comma-separated list, so that a write adds
to one row per user: a row per id meant one more place in the file to write for every
message (migration 0011). Duplicates are harmless and dropped when the ids are read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from bot.db.database import Database, Row

#: Flush at once when this many rows (users and days) have ids waiting, whatever the timer
#: says. Rows go to random places in the table (keyed by user): a larger batch shares more of
#: the pages it writes. With ten thousand users, batches of 2,048 rows cost about 7 µs per id
#: (a separate SQLite test with this table; 19 µs with a row per id).
FLUSH_AT = 2048

_ADD = (
    "INSERT INTO recent_messages (user_key, day, ids) VALUES (?, ?, ?)"
    " ON CONFLICT (user_key, day) DO UPDATE SET ids = ids || ',' || excluded.ids"
)


def _parse(ids: str) -> list[int]:
    return [int(part) for part in ids.split(",") if part]


def _listed(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def distinct_ids(rows: list[Row]) -> set[int]:
    """The ids in these rows' ``ids`` lists, each once."""
    return {message_id for row in rows for message_id in _parse(row["ids"])}


class RecentMessages:
    """The ``recent_messages`` table and its write buffer."""

    def __init__(self, db: Database) -> None:
        self._db = db
        #: (user key, day) -> ids waiting, in the order they came.
        self._pending: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        self._pending_ids = 0

    @property
    def pending(self) -> int:
        """How many ids wait to be written."""
        return self._pending_ids

    def note(self, user_key: str, message_id: int, today: date) -> bool:
        """Remember a message id; returns True when the buffer should be flushed now."""
        waiting = self._pending[user_key, today.isoformat()]
        if message_id not in waiting:  # the same id noted twice (a redelivery) is one
            waiting.append(message_id)
            self._pending_ids += 1
        return len(self._pending) >= FLUSH_AT

    async def flush(self) -> int:
        """Write the waiting ids; returns how many."""
        if not self._pending:
            return 0
        async with self._db.transaction() as tx:
            # Taken once the lock is held: /forget's drop, waiting for it too, cannot come in
            # between and have ids written back under a key it has just erased.
            pending, self._pending = self._pending, defaultdict(list)
            count, self._pending_ids = self._pending_ids, 0
            # In key order, each page of the table is visited once.
            rows = sorted((key, day, _listed(ids)) for (key, day), ids in pending.items())
            await tx.executemany(_ADD, rows)
        return count

    async def ids(self, user_key: str) -> list[int]:
        """This user's recent message ids, oldest first."""
        await self.flush()
        rows = await self._db.fetchall(
            "SELECT ids FROM recent_messages WHERE user_key = ?", (user_key,)
        )
        return sorted(distinct_ids(rows))

    async def drop(self, user_key: str, ids: list[int] | None = None) -> None:
        """Forget these ids of this user (all of them when ``ids`` is None)."""
        gone = None if ids is None else set(ids)
        for pair in [pair for pair in self._pending if pair[0] == user_key]:
            kept = [] if gone is None else [i for i in self._pending[pair] if i not in gone]
            self._pending_ids -= len(self._pending[pair]) - len(kept)
            if kept:
                self._pending[pair] = kept
            else:
                del self._pending[pair]
        if gone is None:
            await self._db.execute("DELETE FROM recent_messages WHERE user_key = ?", (user_key,))
            return
        if not gone:
            return
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT day, ids FROM recent_messages WHERE user_key = ?", (user_key,)
            )
            for day, listed in rows:
                noted = _parse(listed)
                kept = [i for i in noted if i not in gone]
                if len(kept) == len(noted):
                    continue
                if kept:
                    await tx.execute(
                        "UPDATE recent_messages SET ids = ? WHERE user_key = ? AND day = ?",
                        (_listed(kept), user_key, day),
                    )
                else:
                    await tx.execute(
                        "DELETE FROM recent_messages WHERE user_key = ? AND day = ?",
                        (user_key, day),
                    )

    async def purge(self, today: date) -> int:
        """Delete ids from before yesterday: a message of day D goes at the start of day D+2,
        so none is kept much longer than 48 hours (purges run hourly), and /wipe reaches back
        to the start of yesterday. Returns how many ids went.

        The table has a row per user and day, two days of them: the purge reads it whole
        without an index by day (which every write would have to update too).
        """
        await self.flush()
        before = ((today - timedelta(days=1)).isoformat(),)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall("SELECT ids FROM recent_messages WHERE day < ?", before)
            await tx.execute("DELETE FROM recent_messages WHERE day < ?", before)
        return sum(len(set(_parse(row["ids"]))) for row in rows)  # each day's ids once
