"""Where conversation state and per-chat ordering live: the bot's database, or Redis.

One instance keeps them in SQLite (``bot/fsm_storage.py``) and orders each chat's updates in
memory. Several webhook instances behind one address must share both, so with
``SUPOLKA_REDIS_URL`` set they move to Redis, and the health check asks Redis too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

from bot.config import Settings
from bot.identity import Identity
from bot.redis_storage import SealedRedisStorage, open_redis, ping
from bot.webhook import HealthCheck


@dataclass
class SharedState:
    """The storage and isolation to give the dispatcher; ``None`` means the defaults."""

    storage: BaseStorage | None = None
    isolation: BaseEventIsolation | None = None
    health_checks: list[HealthCheck] = field(default_factory=list)
    redis: SealedRedisStorage | None = None

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()  # also the isolation's: they share one pool


async def open_shared_state(settings: Settings, identity: Identity) -> SharedState:
    """Redis when ``SUPOLKA_REDIS_URL`` is set, else nothing to open."""
    if settings.redis_url is None:
        return SharedState()
    storage, isolation = open_redis(
        settings.redis_url.get_secret_value(), identity, ttl_days=settings.retention_users_days
    )
    if not await ping(storage):
        await storage.close()
        raise RuntimeError("SUPOLKA_REDIS_URL: the Redis server does not answer")

    async def redis_answers() -> str | None:
        return None if await ping(storage) else "redis unreachable"

    return SharedState(storage, isolation, [redis_answers], storage)
