"""Erasing a person: every row keyed to them, in one transaction (for /forget and retention).

The only tables that keep something are, on purpose:

* ``events``: the statistics must not change when someone leaves, so their key is replaced
  by a random value, one per erased person: counts of distinct people stay right, and nothing
  computable from a Telegram id leads to them;
* ``blocked_workers``: a volunteers' block must not be undone by /forget; it expires with the
  users' retention period;
* ``access_log``: volunteers' actions, for accountability, until its own retention period;
* ``circle_members`` rows with status ``removed``: a volunteer removed this person from a
  circle, and /forget must not let them back in; they go with the circle.

A volunteer who is erased gives their cases back to the queue (or, closed ones, loses their
name on them).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from bot.db.database import Database
from bot.db.recent import distinct_ids

#: (table, column) pairs whose rows belong to one user key and go with them.
KEYED_ROWS: tuple[tuple[str, str], ...] = (
    ("guide_progress", "user_key"),
    ("interests", "user_key"),
    ("invites", "created_by"),
    ("recent_messages", "user_key"),
    ("volunteers", "key"),
    ("users", "key"),
)


@dataclass(frozen=True, slots=True)
class Erased:
    """How many rows went, and how many events were detached from the person."""

    rows: int
    events: int


@dataclass(frozen=True, slots=True)
class Footprint:
    """Counts and days about one person, for /mydata."""

    events: int
    message_ids: int
    past_cases: int
    interest_on: date | None
    joined_on: date | None
    invites: int
    volunteer: bool


class PrivacyRepo:
    """SQL that crosses every table a person leaves traces in."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        return self._db

    async def erase(self, user_key: str) -> Erased:
        """Delete every row keyed to ``user_key``; detach their events (see module doc).

        Cases go with their routing rows (``case_messages`` cascades); a pending enterprise
        nobody else is interested in goes too, since only this person typed its name.
        """
        rows = 0
        async with self._db.transaction() as tx:
            # Their events waiting in memory are written here, then detached with the rest.
            await self._db.write_deferred_in(tx)
            pending = await tx.fetchall(
                "SELECT e.id FROM interests i JOIN enterprises e ON e.id = i.enterprise_id"
                " WHERE i.user_key = ? AND e.status = 'pending'",
                (user_key,),
            )
            rows += await tx.execute("DELETE FROM cases WHERE user_key = ?", (user_key,))
            rows += await tx.execute(
                "DELETE FROM circle_members WHERE user_key = ? AND status != 'removed'",
                (user_key,),
            )
            # As a volunteer: the cases they held wait for another; nobody waits for an offer.
            rows += await tx.execute(
                "UPDATE cases SET status = 'open', assignee = NULL, offered_to = NULL,"
                " taken_at = NULL WHERE assignee = ? AND status = 'taken'",
                (user_key,),
            )
            rows += await tx.execute(
                "UPDATE cases SET assignee = NULL WHERE assignee = ?", (user_key,)
            )
            rows += await tx.execute(
                "UPDATE cases SET offered_to = NULL WHERE offered_to = ?", (user_key,)
            )
            for table, column in KEYED_ROWS:
                rows += await tx.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_key,))
            for (enterprise_id,) in pending:
                rows += await tx.execute(
                    "DELETE FROM enterprises WHERE id = ? AND status = 'pending'"
                    " AND NOT EXISTS (SELECT 1 FROM interests WHERE enterprise_id = ?)"
                    " AND NOT EXISTS (SELECT 1 FROM circles WHERE enterprise_id = ?)",
                    (enterprise_id, enterprise_id, enterprise_id),
                )
            events = await tx.execute(
                "UPDATE events SET user_key = ? WHERE user_key = ?",
                (secrets.token_hex(32), user_key),
            )
        # secure_delete zeroes the freed pages in the database file, but the WAL still holds
        # copies of the pages as they were: fold it in and truncate it now (or, if a long read
        # is on, within seconds: see Database.checkpoint).
        await self._db.checkpoint()
        return Erased(rows, events)

    async def footprint(self, user_key: str) -> Footprint:
        """What /mydata lists beyond the rows other repositories read."""
        await self._db.write_deferred()  # their events waiting to be written count too
        row = await self._db.fetchone(
            "SELECT"
            " (SELECT COUNT(*) FROM events WHERE user_key = :key),"
            " (SELECT COUNT(*) FROM cases WHERE user_key = :key AND status = 'closed'),"
            " (SELECT created_on FROM interests WHERE user_key = :key),"
            " (SELECT joined_on FROM circle_members WHERE user_key = :key AND status = 'active'),"
            " (SELECT COUNT(*) FROM invites WHERE created_by = :key),"
            " (SELECT COUNT(*) FROM volunteers WHERE key = :key)",
            {"key": user_key},
        )
        assert row is not None
        # Message ids are kept as a list per day: counted from the lists.
        noted = await self._db.fetchall(
            "SELECT ids FROM recent_messages WHERE user_key = ?", (user_key,)
        )
        return Footprint(
            events=row[0],
            message_ids=len(distinct_ids(noted)),
            past_cases=row[1],
            interest_on=date.fromisoformat(row[2]) if row[2] else None,
            joined_on=date.fromisoformat(row[3]) if row[3] else None,
            invites=row[4],
            volunteer=bool(row[5]),
        )
