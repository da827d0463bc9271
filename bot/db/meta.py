"""The meta repository: facts about the database itself, such as which key it belongs to."""

from __future__ import annotations

from bot.db.database import Database


class MetaRepo:
    """SQL for the ``meta`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        row = await self._db.fetchone("SELECT value FROM meta WHERE name = ?", (name,))
        return str(row[0]) if row else None

    async def set_once(self, name: str, value: str) -> str:
        """Store ``value`` unless a value is there already; returns the stored one."""
        await self._db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, value),
        )
        stored = await self.get(name)
        assert stored is not None
        return stored
