"""The events repository: append-only facts from which all statistics are computed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.db.database import Database

FieldValue = str | int | float | bool | None

_ADD = "INSERT INTO events (kind, user_key, occurred_on, fields) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    user_key: str | None
    occurred_on: date
    fields: dict[str, Any]


class EventsRepo:
    """SQL for the ``events`` table."""

    def __init__(self, db: Database, shared: bool = False) -> None:
        self._db = db
        #: Several instances share the database (Redis): an event with a person's key is
        #: written at once, since /forget in another instance cannot reach this one's memory.
        self._shared = shared

    async def add(
        self, kind: str, user_key: str | None, on: date, fields: dict[str, FieldValue]
    ) -> None:
        """Record an event; it is written with others, within a second (Database.defer)."""
        row = (kind, user_key, on.isoformat(), json.dumps(fields, sort_keys=True))
        if self._shared and user_key is not None:
            await self._db.execute(_ADD, row)
        else:
            await self._db.defer(_ADD, row)

    async def between(self, start: date, end: date) -> list[Event]:
        """Events on days ``start <= day < end``, oldest first."""
        await self._db.write_deferred()
        rows = await self._db.read_long(
            "SELECT id, kind, user_key, occurred_on, fields FROM events"
            " WHERE occurred_on >= ? AND occurred_on < ? ORDER BY occurred_on, id",
            (start.isoformat(), end.isoformat()),
        )
        return [
            Event(
                id=row[0],
                kind=row[1],
                user_key=row[2],
                occurred_on=date.fromisoformat(row[3]),
                fields=json.loads(row[4]),
            )
            for row in rows
        ]

    async def activity(self, start: date, end: date) -> tuple[int, int]:
        """(new users, active users) on days ``start <= day < end``, counted in SQL."""
        await self._db.write_deferred()
        [row] = await self._db.read_long(
            "SELECT COUNT(*) FILTER (WHERE kind = 'user_started'),"
            " COUNT(DISTINCT user_key) FILTER (WHERE kind IN ('user_started', 'user_active'))"
            " FROM events WHERE occurred_on >= ? AND occurred_on < ?",
            (start.isoformat(), end.isoformat()),
        )
        return int(row[0]), int(row[1])

    async def claim_report(self, week: str, today: date) -> bool:
        """Mark a week's report as sent; False when it already was (idempotent sending)."""
        changed = await self._db.execute(
            "INSERT OR IGNORE INTO report_runs (week, sent_on) VALUES (?, ?)",
            (week, today.isoformat()),
        )
        return changed > 0

    async def report_claimed(self, week: str) -> bool:
        """Whether a week's report was sent (or is being sent)."""
        row = await self._db.fetchone("SELECT 1 FROM report_runs WHERE week = ?", (week,))
        return row is not None

    async def unclaim_report(self, week: str) -> None:
        """Sending failed: let the next pass try again."""
        await self._db.execute("DELETE FROM report_runs WHERE week = ?", (week,))

    async def count(self, kind: str | None = None) -> int:
        await self._db.write_deferred()
        if kind is None:
            row = await self._db.fetchone("SELECT COUNT(*) FROM events")
        else:
            row = await self._db.fetchone("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,))
        return int(row[0]) if row else 0
