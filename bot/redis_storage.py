"""FSM state and event isolation in Redis, so that several webhook instances share conversations.

Used when ``SUPOLKA_REDIS_URL`` is set (SQLite otherwise, see :mod:`bot.fsm_storage`). Redis
keeps what the SQLite storage keeps, under the same rules, so that a copy of the Redis data
(an RDB or AOF file, a replica, ``MONITOR``) identifies nobody without the secret:

- keys are ``supolka:fsm:<keyed hash of every StorageKey field>:<part>``, with part ``state``,
  ``data`` or ``lock``: the same hash as a SQLite row key, no Telegram id;
- data is sealed with AES-GCM bound to its Redis key, so a value copied under another key
  does not open;
- state and data expire :data:`DEFAULT_TTL_DAYS` days (the retention of inactive users) after
  the conversation's last write, as the daily retention job deletes ``fsm_state`` rows
  untouched for that long.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any, Literal, cast

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import KeyBuilder, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from bot.fsm_storage import conversation_hash
from bot.identity import Identity

PREFIX = "supolka:fsm"
#: The default of ``retention_users_days``: pass the setting, so both storages forget alike.
DEFAULT_TTL_DAYS = 365
#: Seconds after which the lock of an instance that died mid-update frees itself (aiogram's
#: default). A handler that runs longer loses its lock, and redis-py then fails on release.
LOCK_TIMEOUT = 60
#: A Redis that does not answer fails the update (and /healthz) instead of hanging it.
CONNECT_TIMEOUT = 5.0
SOCKET_TIMEOUT = 10.0
#: An idle connection is checked before use, so one cut by a firewall is replaced quietly.
HEALTH_CHECK_INTERVAL = 30
#: Seconds /healthz waits for Redis: a load balancer's probe must not hang.
PING_TIMEOUT = 2.0

_Part = Literal["data", "state", "lock"]


class HashedKeyBuilder(KeyBuilder):
    """Redis keys named by a keyed hash of the whole :class:`StorageKey`, never by its ids."""

    def __init__(self, identity: Identity, prefix: str = PREFIX) -> None:
        self._identity = identity
        self._prefix = prefix

    def build(self, key: StorageKey, part: _Part | None = None) -> str:
        # The same hash as SQLiteStorage's row key: one conversation has one name.
        name = f"{self._prefix}:{conversation_hash(self._identity, key)}"
        # The part stays readable, as in aiogram's DefaultKeyBuilder: it names no one.
        return f"{name}:{part}" if part else name


class SealedRedisStorage(RedisStorage):
    """aiogram's RedisStorage with hashed keys, sealed data and one lifetime per conversation.

    Data is sealed here rather than in the ``json_dumps`` hook, which never sees the key the
    value goes under: AES-GCM's associated data binds each value to its Redis key.
    """

    def __init__(self, redis: Redis, identity: Identity, ttl: timedelta) -> None:
        seconds = int(ttl.total_seconds())
        super().__init__(
            redis,
            key_builder=HashedKeyBuilder(identity),
            state_ttl=seconds,
            data_ttl=seconds,
        )
        self._identity = identity
        self._ttl = seconds

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        state_key = self.key_builder.build(key, "state")
        if value is None:
            await self.redis.delete(state_key)
            return
        await self._write(state_key, value.encode(), self.key_builder.build(key, "data"))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # Mapping, as SQLiteStorage; aiogram's RedisStorage accepts a dict only.
        if not isinstance(data, Mapping):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        data_key = self.key_builder.build(key, "data")
        if not data:
            await self.redis.delete(data_key)
            return
        plain = json.dumps(dict(data), ensure_ascii=False).encode()
        sealed = self._identity.seal(plain, data_key.encode())
        await self._write(data_key, sealed, self.key_builder.build(key, "state"))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        """The data, or ``{}``; raises ``InvalidTag`` on a value that was not sealed for this
        key under this secret, as SQLiteStorage does (another secret finds no key at all)."""
        data_key = self.key_builder.build(key, "data")
        sealed = await self.redis.get(data_key)
        if sealed is None:
            return {}
        data: dict[str, Any] = json.loads(self._identity.open(bytes(sealed), data_key.encode()))
        return data

    async def _write(self, name: str, value: bytes, sibling: str) -> None:
        """Set one part and renew the other's lifetime in one round trip: state and data of a
        conversation expire together, as its one SQLite row with one ``updated_on``."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(name, value, ex=self._ttl)
            pipe.expire(sibling, self._ttl)  # no-op when the other part is not set
            await pipe.execute()


def open_redis(
    url: str, identity: Identity, *, ttl_days: int = DEFAULT_TTL_DAYS
) -> tuple[SealedRedisStorage, RedisEventIsolation]:
    """The FSM storage and event isolation on the Redis at ``url``, sharing one pool.

    No I/O here: the first command connects (:func:`ping` checks the server). Pass
    ``ttl_days=settings.retention_users_days``. Closing the storage closes the pool; the
    dispatcher does it on shutdown, and a second close is harmless.
    """
    pool = ConnectionPool.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=HEALTH_CHECK_INTERVAL,
    )
    # Options in the URL win over the arguments above; sealed data must stay bytes.
    if pool.connection_kwargs.get("decode_responses"):
        raise ValueError("SUPOLKA_REDIS_URL must not set decode_responses: data is binary")
    storage = SealedRedisStorage(Redis(connection_pool=pool), identity, timedelta(days=ttl_days))
    # Same client, same hashed keys: the lock of a conversation is `supolka:fsm:<hash>:lock`.
    isolation = storage.create_isolation(lock_kwargs={"timeout": LOCK_TIMEOUT})
    return storage, isolation


async def ping(storage: RedisStorage) -> bool:
    """Whether Redis answers within :data:`PING_TIMEOUT` seconds, for the health check; never
    raises."""
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            # redis-py types every command as "awaitable or not", for its sync and async clients.
            return bool(await cast("Awaitable[bool]", storage.redis.ping()))
    except (RedisError, OSError, TimeoutError):
        return False


async def drop_conversations(storage: RedisStorage) -> int:
    """Delete every FSM key of the bot (state, data, locks); returns how many went.

    For a rotation of the secret: the keys hashed and the data sealed under the old one would
    otherwise wait out their TTL, readable by whoever holds the old secret. Conversations
    start again from the menu, as after the SQLite ``fsm_state`` table is emptied.
    """
    dropped = 0
    # SCAN, not KEYS: it does not block a Redis that other instances are using meanwhile.
    async for name in storage.redis.scan_iter(match=f"{PREFIX}:*", count=500):
        dropped += await storage.redis.unlink(name)
    return dropped
