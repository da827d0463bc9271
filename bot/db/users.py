"""The users repository: a key, a sealed chat reference, a locale, two dates and role flags."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from bot.db.database import Database


@dataclass(frozen=True, slots=True)
class User:
    """What the bot knows about a person, which is deliberately little."""

    key: str
    chat_ref: bytes
    locale: str | None
    created_on: date
    last_seen_on: date
    is_active: bool
    is_volunteer: bool
    is_coordinator: bool


_COLUMNS = (
    "key, chat_ref, locale, created_on, last_seen_on, is_active, is_volunteer, is_coordinator"
)


def _user(row: sqlite3.Row) -> User:
    return User(
        key=row["key"],
        chat_ref=bytes(row["chat_ref"]),
        locale=row["locale"],
        created_on=date.fromisoformat(row["created_on"]),
        last_seen_on=date.fromisoformat(row["last_seen_on"]),
        is_active=bool(row["is_active"]),
        is_volunteer=bool(row["is_volunteer"]),
        is_coordinator=bool(row["is_coordinator"]),
    )


class UsersRepo:
    """SQL for the ``users`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> User | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE key = ?", (key,))
        return _user(row) if row else None

    async def get_or_create(
        self, key: str, chat_ref: bytes, today: date, locale: str | None = None
    ) -> tuple[User, bool]:
        """The user with this key, created if new; the flag says whether it was created.

        ``locale`` is the language the user was first answered in: notifications sent later,
        when no Telegram language comes with them, use it until /language changes it.
        """
        async with self._db.transaction() as tx:
            created = await tx.execute(
                "INSERT INTO users (key, chat_ref, locale, created_on, last_seen_on)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, chat_ref, locale, today.isoformat(), today.isoformat()),
            )
            if not created:
                # A user who blocked and came back is reachable again, maybe in a new chat.
                await tx.execute(
                    "UPDATE users SET is_active = 1, chat_ref = ?, last_seen_on = ? WHERE key = ?",
                    (chat_ref, today.isoformat(), key),
                )
            row = await tx.fetchone(f"SELECT {_COLUMNS} FROM users WHERE key = ?", (key,))
        assert row is not None
        return _user(row), bool(created)

    async def set_locale(self, key: str, locale: str) -> None:
        await self._db.execute("UPDATE users SET locale = ? WHERE key = ?", (locale, key))

    async def touch(self, key: str, today: date) -> None:
        """Record activity today (the middleware calls this at most once a day per user)."""
        await self._db.execute(
            "UPDATE users SET last_seen_on = ?, is_active = 1 WHERE key = ?",
            (today.isoformat(), key),
        )

    async def mark_inactive(self, key: str) -> bool:
        """The user blocked the bot; returns whether a row changed."""
        changed = await self._db.execute(
            "UPDATE users SET is_active = 0 WHERE key = ? AND is_active = 1", (key,)
        )
        return changed > 0

    async def set_coordinator(self, key: str, on: bool) -> bool:
        """The coordinator role, granted by an admin; False if there is no such user."""
        changed = await self._db.execute(
            "UPDATE users SET is_coordinator = ? WHERE key = ?", (int(on), key)
        )
        return changed > 0

    async def reachable(self, keys: list[str]) -> dict[str, tuple[bytes, str | None]]:
        """Sealed chat reference and locale of those of these users who can still be reached."""
        if not keys:
            return {}
        marks = ", ".join("?" * len(keys))
        rows = await self._db.fetchall(
            f"SELECT key, chat_ref, locale FROM users WHERE is_active = 1 AND key IN ({marks})",
            keys,
        )
        return {row["key"]: (bytes(row["chat_ref"]), row["locale"]) for row in rows}

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0
