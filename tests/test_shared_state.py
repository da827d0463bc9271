"""With SUPOLKA_REDIS_URL, instances share conversations; without it, nothing changes."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.app import Services, create_dispatcher
from bot.config import Settings
from bot.fsm_storage import SQLiteStorage
from bot.redis_storage import SealedRedisStorage
from bot.shared_state import open_shared_state
from tests.conftest import USER_ID, ChatHarness, buttons, free_port


async def test_without_redis_the_database_keeps_conversations(services: Services) -> None:
    shared = await open_shared_state(services.settings, services.identity)
    assert shared.storage is None and shared.health_checks == []
    dispatcher = create_dispatcher(services, shared.isolation, shared.storage)
    assert isinstance(dispatcher.storage, SQLiteStorage)
    await shared.close()


async def test_an_unreachable_redis_stops_start_up(services: Services) -> None:
    settings = services.settings.model_copy(
        update={"redis_url": SecretStr(f"redis://127.0.0.1:{free_port()}/0")}
    )
    with pytest.raises(RuntimeError, match="does not answer"):
        await open_shared_state(settings, services.identity)


async def test_two_instances_share_one_conversation_through_redis(
    services: Services, settings: Settings, redis_url: str
) -> None:
    """A worker's /coworkers reaches one instance, their answer the other: the second one
    knows what the question was."""
    configured = settings.model_copy(update={"redis_url": SecretStr(redis_url)})
    first_state = await open_shared_state(configured, services.identity)
    second_state = await open_shared_state(configured, services.identity)
    try:
        assert isinstance(first_state.storage, SealedRedisStorage)
        first, second = ChatHarness(services), ChatHarness(services)
        first.dispatcher = create_dispatcher(services, first_state.isolation, first_state.storage)
        second.dispatcher = create_dispatcher(
            services, second_state.isolation, second_state.storage
        )
        worker = first.user(USER_ID, language_code="en")
        await first.feed(worker.text("/start"))
        await first.feed(worker.text("/coworkers"))
        [question] = await second.feed(worker.text("Нафтан"))
        assert any(data and ":pick:" in data for _, data in buttons(question))
        assert [await check() for check in first_state.health_checks] == [None]
    finally:
        await first_state.close()
        await second_state.close()


async def test_an_update_handled_by_another_instance_is_not_handled_again(
    services: Services,
) -> None:
    """Instances share the database: a redelivery that reaches another instance finds the
    update marked there (a single instance needs no look-up)."""
    from bot.redelivery import HandledUpdates

    first = HandledUpdates(services.db, shared=True)
    second = HandledUpdates(services.db, shared=True)
    alone = HandledUpdates(services.db)
    assert await first.claim_shared(501)
    await first.mark(501, services.today())
    assert not await second.claim_shared(501)
    assert await second.claim_shared(502)
    assert await alone.claim_shared(501)  # memory only, as before: one instance, one memory
