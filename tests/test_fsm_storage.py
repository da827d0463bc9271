"""The SQLite and Redis FSM storages meet aiogram's storage contract, isolate keys, keep no ids.

The contract tests follow aiogram's own (tests/test_fsm/storage/test_storages.py) and run
against aiogram's MemoryStorage too, so that a wrong expectation here shows up as a failure there.
The Redis runs use a throwaway ``redis-server`` on loopback, started once per test run; without
the program they are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from cryptography.exceptions import InvalidTag

from bot.db import Database, apply_migrations
from bot.fsm_storage import SQLiteStorage
from bot.identity import Identity
from bot.redis_storage import (
    DEFAULT_TTL_DAYS,
    PING_TIMEOUT,
    SealedRedisStorage,
    drop_conversations,
    open_redis,
    ping,
)
from tests.conftest import free_port

SECRET = b"s" * 32
KEY = StorageKey(bot_id=42, chat_id=-100777, user_id=731904552, thread_id=5)


async def _open_sqlite(path: Path, secret: bytes = SECRET) -> tuple[Database, SQLiteStorage]:
    db = await Database.open(path)
    await apply_migrations(db)
    return db, SQLiteStorage(db, Identity(secret))


async def _open_redis_storage(url: str) -> SealedRedisStorage:
    """A storage on an emptied database: no test sees another's keys."""
    storage, _ = open_redis(url, Identity(SECRET))
    await storage.redis.flushdb()
    return storage


@pytest.fixture
async def redis_storage(redis_url: str) -> AsyncIterator[SealedRedisStorage]:
    storage = await _open_redis_storage(redis_url)
    yield storage
    await storage.close()


@pytest.fixture(params=["sqlite", "memory", "redis"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BaseStorage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    if request.param == "redis":
        # Asked for here, not as a parameter, so that sqlite and memory runs never need Redis.
        redis = await _open_redis_storage(request.getfixturevalue("redis_url"))
        yield redis
        await redis.close()
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


# Redis: several webhook instances share it, and it must keep no more than the SQLite file.


async def _dump(storage: SealedRedisStorage) -> dict[bytes, bytes]:
    """Every key of the database with its value; the storage writes only strings."""
    dump = {}
    async for name in storage.redis.scan_iter():
        assert await storage.redis.type(name) == b"string", name
        value = await storage.redis.get(name)
        assert value is not None
        dump[name] = value
    return dump


async def test_redis_holds_no_ids_and_no_plain_data(redis_storage: SealedRedisStorage) -> None:
    await redis_storage.set_state(key=KEY, state="GuideSG:step")
    await redis_storage.set_data(key=KEY, data={"enterprise": "Naftan refinery"})
    isolation = redis_storage.create_isolation()
    async with isolation.lock(KEY):  # the lock key is in the database too while held
        dump = await _dump(redis_storage)

    assert len(dump) == 3
    assert {name.rsplit(b":", 1)[1] for name in dump} == {b"state", b"data", b"lock"}
    for name, value in dump.items():
        assert name.startswith(b"supolka:fsm:")
        for secret in (b"731904552", b"-100777", b"Naftan"):
            assert secret not in name
            assert secret not in value


async def test_redis_state_and_data_expire_together(redis_storage: SealedRedisStorage) -> None:
    retention = timedelta(days=DEFAULT_TTL_DAYS).total_seconds()
    state_key = redis_storage.key_builder.build(KEY, "state")
    data_key = redis_storage.key_builder.build(KEY, "data")
    await redis_storage.set_data(key=KEY, data={"a": 1})
    await redis_storage.set_state(key=KEY, state="s")
    for name in (state_key, data_key):
        assert retention - 60 < await redis_storage.redis.ttl(name) <= retention

    # Like the one updated_on of a SQLite row: writing one part renews the other.
    await redis_storage.redis.expire(data_key, 100)
    await redis_storage.set_state(key=KEY, state="next")
    assert await redis_storage.redis.ttl(data_key) > retention - 60
    await redis_storage.redis.expire(state_key, 100)
    await redis_storage.set_data(key=KEY, data={"a": 2})
    assert await redis_storage.redis.ttl(state_key) > retention - 60


async def test_redis_ttl_follows_the_retention_setting(redis_url: str) -> None:
    storage, _ = open_redis(redis_url, Identity(SECRET), ttl_days=30)
    try:
        await storage.set_state(key=KEY, state="s")
        ttl = await storage.redis.ttl(storage.key_builder.build(KEY, "state"))
        assert 30 * 86_400 - 60 < ttl <= 30 * 86_400
    finally:
        await storage.close()


async def test_redis_instances_share_conversations(
    redis_url: str, redis_storage: SealedRedisStorage
) -> None:
    await redis_storage.set_state(key=KEY, state="GuideSG:step")
    await redis_storage.set_data(key=KEY, data={"step": 4})

    other, _ = open_redis(redis_url, Identity(SECRET))  # a second webhook instance
    try:
        assert await other.get_state(key=KEY) == "GuideSG:step"
        assert await other.get_data(key=KEY) == {"step": 4}
    finally:
        await other.close()


async def test_redis_data_does_not_open_under_another_secret(
    redis_url: str, redis_storage: SealedRedisStorage
) -> None:
    await redis_storage.set_state(key=KEY, state="s")
    await redis_storage.set_data(key=KEY, data={"a": 1})

    other, _ = open_redis(redis_url, Identity(b"t" * 32))
    try:
        # As with SQLite: another secret computes other keys, and finds nothing.
        assert await other.get_state(key=KEY) is None
        assert await other.get_data(key=KEY) == {}
    finally:
        await other.close()


async def test_redis_data_is_bound_to_its_key(redis_storage: SealedRedisStorage) -> None:
    other = dataclasses.replace(KEY, user_id=731904553)
    await redis_storage.set_data(key=KEY, data={"a": 1})
    sealed = await redis_storage.redis.get(redis_storage.key_builder.build(KEY, "data"))
    assert sealed is not None
    await redis_storage.redis.set(redis_storage.key_builder.build(other, "data"), sealed)

    # Someone with write access cannot hand one user's conversation to another.
    with pytest.raises(InvalidTag):
        await redis_storage.get_data(key=other)


async def test_redis_isolation_serialises_one_conversation(
    redis_storage: SealedRedisStorage,
) -> None:
    isolation = redis_storage.create_isolation()
    order: list[str] = []
    first_holds = asyncio.Event()

    async def first() -> None:
        async with isolation.lock(KEY):
            order.append("first in")
            first_holds.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    async def second() -> None:
        await first_holds.wait()
        async with isolation.lock(KEY):
            order.append("second in")

    async def elsewhere() -> None:
        await first_holds.wait()
        async with isolation.lock(dataclasses.replace(KEY, user_id=731904553)):
            order.append("elsewhere in")

    await asyncio.wait_for(asyncio.gather(first(), second(), elsewhere()), timeout=10)
    # Another conversation does not wait; the same one waits for the first to finish.
    assert order == ["first in", "elsewhere in", "first out", "second in"]


async def test_redis_ping(redis_storage: SealedRedisStorage) -> None:
    assert await ping(redis_storage) is True

    nobody, _ = open_redis(f"redis://127.0.0.1:{free_port()}/0", Identity(SECRET))
    try:
        started = time.monotonic()
        assert await ping(nobody) is False
        assert time.monotonic() - started < PING_TIMEOUT + 1
    finally:
        await nobody.close()


async def test_redis_close_twice(redis_url: str) -> None:
    storage, isolation = open_redis(redis_url, Identity(SECRET))
    await storage.set_state(key=KEY, state="s")
    # The dispatcher closes both on shutdown; an application that also does must not fail.
    for _ in range(2):
        await storage.close()
        await isolation.close()


async def test_redis_drop_conversations_keeps_other_keys(
    redis_storage: SealedRedisStorage,
) -> None:
    await redis_storage.set_state(key=KEY, state="s")
    await redis_storage.set_data(key=KEY, data={"a": 1})
    await redis_storage.set_state(key=dataclasses.replace(KEY, user_id=731904553), state="s")
    await redis_storage.redis.set("someone-else:key", b"kept")  # a Redis may be shared

    assert await drop_conversations(redis_storage) == 3
    assert await redis_storage.get_state(key=KEY) is None
    assert await redis_storage.get_data(key=KEY) == {}
    assert list(await _dump(redis_storage)) == [b"someone-else:key"]


def test_redis_refuses_decoded_responses() -> None:
    with pytest.raises(ValueError, match="decode_responses"):
        open_redis("redis://127.0.0.1:6379/0?decode_responses=True", Identity(SECRET))
