"""SQL of the daily retention job: what is old enough to go, and its deletion."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from bot.db.database import Database


@dataclass(frozen=True, slots=True)
class CaseCopy:
    """Where a case lives in the volunteers' group: its forum topic, or its card."""

    id: int
    thread_id: int | None
    card_message_id: int | None


#: (person, day) pairs re-keyed per transaction.
UNLINK_SLICE = 500


class RetentionRepo:
    """Finds and deletes rows past their retention period (``before``: the first day kept)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def expired_cases(self, before: date) -> list[CaseCopy]:
        """Cases closed before ``before``."""
        rows = await self._db.fetchall(
            "SELECT id, thread_id, card_message_id FROM cases"
            " WHERE status = 'closed' AND closed_on < ?",
            (before.isoformat(),),
        )
        return [CaseCopy(row[0], row[1], row[2]) for row in rows]

    async def cases_of(self, user_key: str) -> list[CaseCopy]:
        """Every case of this worker, open or closed."""
        rows = await self._db.fetchall(
            "SELECT id, thread_id, card_message_id FROM cases WHERE user_key = ?", (user_key,)
        )
        return [CaseCopy(row[0], row[1], row[2]) for row in rows]

    async def delete_case(self, case_id: int) -> None:
        """The case and its routing rows (``case_messages`` cascades)."""
        await self._db.execute("DELETE FROM cases WHERE id = ? AND status = 'closed'", (case_id,))

    async def stale_circles(self, before: date) -> list[int]:
        """Circles with no activity since before ``before``."""
        rows = await self._db.fetchall(
            "SELECT id FROM circles WHERE last_activity_on < ?", (before.isoformat(),)
        )
        return [int(row[0]) for row in rows]

    async def dissolve_circle(self, circle_id: int) -> int:
        """Delete the circle with its members and invites; its members stop looking (their
        interest goes), or the next coworker to agree would reopen it around them unasked.
        Returns how many members it had."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM interests WHERE user_key IN"
                " (SELECT user_key FROM circle_members WHERE circle_id = ? AND status = 'active')",
                (circle_id,),
            )
            members = await tx.execute(
                "DELETE FROM circle_members WHERE circle_id = ?", (circle_id,)
            )
            await tx.execute("DELETE FROM circles WHERE id = ?", (circle_id,))
        return members

    async def inactive_users(self, before: date) -> list[str]:
        """Keys of users last seen before ``before``, except those with an open case (the
        volunteers are still on it)."""
        rows = await self._db.fetchall(
            "SELECT key FROM users WHERE last_seen_on < ? AND NOT EXISTS"
            " (SELECT 1 FROM cases WHERE cases.user_key = users.key AND status != 'closed')",
            (before.isoformat(),),
        )
        return [str(row[0]) for row in rows]

    async def unlink_events(self, before: date) -> int:
        """Give events before ``before`` (a Monday) a new random key per person and week.

        Weekly counts of distinct people stay right (within a week, one person keeps one key);
        but nothing joins a person's weeks any more, and their key no longer finds them.
        Already unlinked keys start with ``w:``. Returns the events changed.
        """
        await self._db.write_deferred()
        rows = await self._db.read_long(
            "SELECT DISTINCT user_key, occurred_on FROM events WHERE occurred_on < ?"
            " AND user_key IS NOT NULL AND user_key NOT LIKE 'w:%'",
            (before.isoformat(),),
        )
        weekly: dict[tuple[str, date], str] = {}
        changes = []
        for user_key, day in rows:
            occurred = date.fromisoformat(day)
            monday = occurred - timedelta(days=occurred.weekday())
            new_key = weekly.setdefault((user_key, monday), "w:" + secrets.token_hex(16))
            changes.append((new_key, user_key, day))
        # In slices: the first pass after an upgrade covers all history, and every chat waits
        # while a statement runs on the event loop.
        for start in range(0, len(changes), UNLINK_SLICE):
            async with self._db.transaction() as tx:
                await tx.executemany(
                    "UPDATE events SET user_key = ? WHERE user_key = ? AND occurred_on = ?",
                    changes[start : start + UNLINK_SLICE],
                )
            await asyncio.sleep(0)
        return len(changes)

    async def purge_conversations(self, before: date) -> int:
        """Conversation state untouched since before ``before``."""
        return await self._db.execute(
            "DELETE FROM fsm_state WHERE updated_on < ?", (before.isoformat(),)
        )

    async def purge_access_log(self, before: date) -> int:
        return await self._db.execute(
            "DELETE FROM access_log WHERE day < ?", (before.isoformat(),)
        )

    async def purge_blocks(self, before: date) -> int:
        return await self._db.execute(
            "DELETE FROM blocked_workers WHERE blocked_on < ?", (before.isoformat(),)
        )
