"""The events repository: append-only facts from which all statistics are computed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.database import Database

FieldValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: str
    user_key: str | None
    occurred_at: datetime
    fields: dict[str, Any]


class EventsRepo:
    """SQL for the ``events`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, kind: str, user_key: str | None, at: datetime, fields: dict[str, FieldValue]
    ) -> int:
        return await self._db.insert(
            "INSERT INTO events (kind, user_key, occurred_at, fields) VALUES (?, ?, ?, ?)",
            (kind, user_key, at.isoformat(timespec="seconds"), json.dumps(fields, sort_keys=True)),
        )

    async def between(self, start: datetime, end: datetime) -> list[Event]:
        """Events with ``start <= occurred_at < end`` (both aware, UTC), oldest first."""
        rows = await self._db.fetchall(
            "SELECT id, kind, user_key, occurred_at, fields FROM events"
            " WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id",
            (start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")),
        )
        return [
            Event(
                id=row[0],
                kind=row[1],
                user_key=row[2],
                occurred_at=datetime.fromisoformat(row[3]),
                fields=json.loads(row[4]),
            )
            for row in rows
        ]

    async def count(self, kind: str | None = None) -> int:
        if kind is None:
            row = await self._db.fetchone("SELECT COUNT(*) FROM events")
        else:
            row = await self._db.fetchone("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,))
        return int(row[0]) if row else 0
