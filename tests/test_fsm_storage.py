"""The SQLite FSM storage meets aiogram's storage contract, isolates keys, survives restarts.

The contract tests follow aiogram's own (tests/test_fsm/storage/test_storages.py) and run
against aiogram's MemoryStorage too, so that a wrong expectation here shows up as a failure there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.db import Database, apply_migrations
from bot.fsm_storage import SQLiteStorage
from bot.identity import Identity

SECRET = b"s" * 32
KEY = StorageKey(bot_id=42, chat_id=-100777, user_id=731904552, thread_id=5)


async def _open_sqlite(path: Path, secret: bytes = SECRET) -> tuple[Database, SQLiteStorage]:
    db = await Database.open(path)
    await apply_migrations(db)
    return db, SQLiteStorage(db, Identity(secret))


@pytest.fixture(params=["sqlite", "memory"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStorage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    db, sqlite = await _open_sqlite(tmp_path / "fsm.sqlite3")
    yield sqlite
    await db.close()


class _Flow(StatesGroup):
    first = State()


async def test_set_state(storage: BaseStorage) -> None:
    assert await storage.get_state(key=KEY) is None
    await storage.set_state(key=KEY, state="state")
    assert await storage.get_state(key=KEY) == "state"
    await storage.set_state(key=KEY, state=_Flow.first)
    assert await storage.get_state(key=KEY) == "_Flow:first"
    await storage.set_state(key=KEY, state=None)
    assert await storage.get_state(key=KEY) is None


async def test_set_data(storage: BaseStorage) -> None:
    assert await storage.get_data(key=KEY) == {}
    await storage.set_data(key=KEY, data={"foo": "bar"})
    assert await storage.get_data(key=KEY) == {"foo": "bar"}
    await storage.set_data(key=KEY, data={})
    assert await storage.get_data(key=KEY) == {}


async def test_update_data(storage: BaseStorage) -> None:
    assert await storage.get_data(key=KEY) == {}
    assert await storage.update_data(key=KEY, data={"foo": "bar"}) == {"foo": "bar"}
    assert await storage.update_data(key=KEY, data={}) == {"foo": "bar"}
    assert await storage.get_data(key=KEY) == {"foo": "bar"}
    assert await storage.update_data(key=KEY, data={"baz": "spam"}) == {
        "foo": "bar",
        "baz": "spam",
    }
    assert await storage.update_data(key=KEY, data={"baz": "test"}) == {
        "foo": "bar",
        "baz": "test",
    }
    assert await storage.get_data(key=KEY) == {"foo": "bar", "baz": "test"}


async def test_get_value(storage: BaseStorage) -> None:
    await storage.set_data(key=KEY, data={"step": 3})
    assert await storage.get_value(KEY, "step") == 3
    assert await storage.get_value(KEY, "missing") is None
    assert await storage.get_value(KEY, "missing", "default") == "default"


async def test_state_and_data_are_independent(storage: BaseStorage) -> None:
    await storage.set_state(key=KEY, state="state")
    await storage.set_data(key=KEY, data={"foo": "bar"})
    await storage.set_state(key=KEY, state=None)
    assert await storage.get_data(key=KEY) == {"foo": "bar"}
    await storage.set_state(key=KEY, state="again")
    await storage.set_data(key=KEY, data={})
    assert await storage.get_state(key=KEY) == "again"


async def test_non_dict_data_is_refused(storage: BaseStorage) -> None:
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(key=KEY, data=["not", "a", "dict"])  # type: ignore[arg-type]


async def test_unicode_and_nested_data_round_trip(storage: BaseStorage) -> None:
    data: dict[str, Any] = {"назва": "Беларуськалій ўі", "list": [1, 2, {"x": None}], "f": 1.5}
    await storage.set_data(key=KEY, data=data)
    assert await storage.get_data(key=KEY) == data


@pytest.mark.parametrize(
    "change",
    [
        {"bot_id": 43},
        {"chat_id": -100778},
        {"user_id": 731904553},
        {"thread_id": None},
        {"thread_id": 6},
        {"business_connection_id": "bc1"},
        {"destiny": "other"},
    ],
)
async def test_every_key_field_separates_conversations(
    storage: BaseStorage, change: dict[str, Any]
) -> None:
    other = dataclasses.replace(KEY, **change)
    await storage.set_state(key=KEY, state="mine")
    await storage.set_data(key=KEY, data={"mine": True})
    assert await storage.get_state(key=other) is None
    assert await storage.get_data(key=other) == {}
    await storage.set_state(key=other, state="theirs")
    assert await storage.get_state(key=KEY) == "mine"


async def test_state_and_data_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    db, storage = await _open_sqlite(path)
    await storage.set_state(key=KEY, state="GuideSG:step")
    await storage.set_data(key=KEY, data={"step": 4})
    await db.close()

    db, storage = await _open_sqlite(path)
    try:
        assert await storage.get_state(key=KEY) == "GuideSG:step"
        assert await storage.get_data(key=KEY) == {"step": 4}
    finally:
        await db.close()


async def test_rows_are_deleted_when_empty(tmp_path: Path) -> None:
    db, storage = await _open_sqlite(tmp_path / "fsm.sqlite3")
    try:
        await storage.set_state(key=KEY, state="s")
        await storage.set_data(key=KEY, data={"a": 1})
        await storage.set_state(key=KEY, state=None)
        await storage.set_data(key=KEY, data={})
        row = await db.fetchone("SELECT COUNT(*) FROM fsm_state")
        assert row is not None
        assert row[0] == 0
    finally:
        await db.close()


async def test_the_file_holds_no_ids_and_no_plain_data(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    db, storage = await _open_sqlite(path)
    await storage.set_state(key=KEY, state="s")
    await storage.set_data(key=KEY, data={"enterprise": "Naftan refinery"})
    await db.close()

    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("fsm"))
    assert str(KEY.user_id).encode() not in raw
    assert str(KEY.chat_id).encode() not in raw
    assert b"Naftan" not in raw


async def test_data_does_not_open_under_another_secret(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    db, storage = await _open_sqlite(path)
    await storage.set_data(key=KEY, data={"a": 1})
    await db.close()

    db, other = await _open_sqlite(path, secret=b"t" * 32)
    try:
        # Another secret computes another row key: the conversation is simply not found.
        assert await other.get_data(key=KEY) == {}
    finally:
        await db.close()
