"""An aiogram FSM storage on the bot's SQLite database, so conversations survive restarts.

Keys hold Telegram ids, so a row is found by a keyed hash of every :class:`StorageKey` field;
data (which may hold what a user chose) is sealed with AES-GCM. State and data are independent:
clearing one never touches the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.clock import Clock, utc_now
from bot.db.database import Database
from bot.identity import Identity

#: Row keys remembered (each an HMAC, asked for two or three times an update); past this many
#: the memo starts afresh.
ROW_KEYS = 10_000


def conversation_hash(identity: Identity, key: StorageKey) -> str:
    """A keyed hash naming one conversation, in SQLite and in Redis alike.

    Every field, so that topics (thread_id), business chats and destinies never collide.
    """
    parts = (
        key.bot_id,
        key.chat_id,
        key.user_id,
        key.thread_id,
        key.business_connection_id,
        key.destiny,
    )
    return identity.storage_key(json.dumps(parts))


class SQLiteStorage(BaseStorage):
    """FSM state and data in the ``fsm_state`` table."""

    def __init__(self, db: Database, identity: Identity, clock: Clock = utc_now) -> None:
        self._db = db
        self._identity = identity
        self._clock = clock
        self._row_keys: dict[StorageKey, str] = {}

    def _today(self) -> str:
        return self._clock().date().isoformat()

    def _row_key(self, key: StorageKey) -> str:
        row_key = self._row_keys.get(key)
        if row_key is None:
            if len(self._row_keys) >= ROW_KEYS:
                self._row_keys.clear()
            row_key = self._row_keys[key] = conversation_hash(self._identity, key)
        return row_key

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        row_key = self._row_key(key)
        if value is None:
            await self._clear(row_key, "state")
            return
        await self._db.execute(
            "INSERT INTO fsm_state (key, state, updated_on) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
            " updated_on = excluded.updated_on",
            (row_key, value, self._today()),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._db.fetchone(
            "SELECT state FROM fsm_state WHERE key = ?", (self._row_key(key),)
        )
        return row[0] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        row_key = self._row_key(key)
        if not data:
            await self._clear(row_key, "data")
            return
        plain = json.dumps(dict(data), ensure_ascii=False).encode()
        await self._db.execute(
            "INSERT INTO fsm_state (key, data, updated_on) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
            " updated_on = excluded.updated_on",
            (row_key, self._identity.seal(plain, row_key.encode()), self._today()),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row_key = self._row_key(key)
        row = await self._db.fetchone("SELECT data FROM fsm_state WHERE key = ?", (row_key,))
        if row is None or row[0] is None:
            return {}
        data: dict[str, Any] = json.loads(self._identity.open(bytes(row[0]), row_key.encode()))
        return data

    async def _clear(self, row_key: str, column: str) -> None:
        """Empty one column; a row left with nothing is deleted. Clearing what is already
        empty (most /start and menu presses) costs one statement that finds no row."""
        changed = await self._db.execute(
            f"UPDATE fsm_state SET {column} = NULL WHERE key = ? AND {column} IS NOT NULL",
            (row_key,),
        )
        if changed:
            await self._db.execute(
                "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data IS NULL",
                (row_key,),
            )

    async def close(self) -> None:
        """The database belongs to the application, which closes it."""
