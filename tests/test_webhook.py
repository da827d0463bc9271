"""Webhook mode: the secret-token check, the health endpoint, a graceful stop, end to end.

Requests go over loopback to a real aiohttp server; the bot talks to the recording Bot API.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import methods
from aiohttp.test_utils import TestClient, TestServer

from bot.__main__ import serve_webhook
from bot.config import Settings
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.updates import UpdateFactory
from bot.webhook import HEALTH_PATH, SECRET_HEADER, UpdateReceiver, create_webhook_app
from tests.conftest import USER_ID, ChatHarness, free_port, log_text, make_settings

SECRET = "s3cret-token_for-the-webhook"
PATH = "/telegram"


def _update(chat: ChatHarness, text: str = "/start") -> dict[str, Any]:
    update = chat.user(USER_ID, language_code="en").text(text)
    return update.model_dump(mode="json", exclude_none=True)


@pytest.fixture
async def client(chat: ChatHarness) -> AsyncIterator[TestClient[Any, Any]]:
    receiver = UpdateReceiver(chat.dispatcher, chat.bot, SECRET)
    app = create_webhook_app(receiver, PATH, chat.services.db)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_an_update_with_the_secret_is_handled(
    chat: ChatHarness, client: TestClient[Any, Any]
) -> None:
    response = await client.post(PATH, json=_update(chat), headers={SECRET_HEADER: SECRET})
    assert response.status == 200
    [greeting] = chat.api.sent(methods.SendMessage)
    assert greeting.chat_id == USER_ID


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""}])
async def test_a_request_without_the_secret_gets_401_and_a_log_line(
    chat: ChatHarness,
    client: TestClient[Any, Any],
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO)
    response = await client.post(PATH, json=_update(chat), headers=headers)
    assert response.status == 401
    assert chat.api.calls == []
    assert "refused 1 request(s) without the right secret token (401)" in log_text(caplog)
    assert str(USER_ID) not in log_text(caplog)


async def test_refusals_are_logged_once_a_minute_with_their_number(
    chat: ChatHarness, client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A scanner sending thousands of requests must not fill the journal."""
    caplog.set_level(logging.INFO, logger="bot.webhook")
    for _ in range(30):
        assert (await client.post(PATH, json=_update(chat))).status == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.webhook"]
    assert lines == ["webhook: refused 1 request(s) without the right secret token (401)"]


async def test_what_is_not_an_update_gets_400(
    chat: ChatHarness, client: TestClient[Any, Any]
) -> None:
    for body in (b"{not json", b'{"message": 1}', b"[]"):
        response = await client.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == 400
    assert chat.api.calls == []


async def test_health_is_ok_then_names_each_problem(
    chat: ChatHarness, client: TestClient[Any, Any]
) -> None:
    response = await client.get(HEALTH_PATH)
    assert response.status == 200 and await response.json() == {"status": "ok"}

    await chat.services.db.execute("INSERT INTO schema_version VALUES (999, '2030-01-01')")
    response = await client.get(HEALTH_PATH)
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable" and "database schema 999" in body["problems"][0]
    await chat.services.db.execute("DELETE FROM schema_version WHERE version = 999")

    await chat.services.db.close()
    response = await client.get(HEALTH_PATH)
    assert response.status == 503
    assert (await response.json())["problems"] == ["database unreachable"]


async def test_health_asks_redis_when_configured(chat: ChatHarness) -> None:
    async def redis_down() -> str | None:
        return "redis unreachable"

    receiver = UpdateReceiver(chat.dispatcher, chat.bot, SECRET)
    app = create_webhook_app(receiver, PATH, chat.services.db, [redis_down])
    async with TestClient(TestServer(app)) as client:
        response = await client.get(HEALTH_PATH)
        assert response.status == 503
        assert (await response.json())["problems"] == ["redis unreachable"]


class _SlowDispatcher:
    """Holds every update until released, to catch the server mid-update."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = 0

    async def feed_update(self, bot: Any, update: Any) -> None:
        self.started.set()
        await self.release.wait()
        self.finished += 1


async def test_a_graceful_stop_finishes_updates_in_flight_and_takes_no_new_ones(
    chat: ChatHarness,
) -> None:
    slow = _SlowDispatcher()
    receiver = UpdateReceiver(slow, chat.bot, SECRET)  # type: ignore[arg-type]
    app = create_webhook_app(receiver, PATH, chat.services.db)
    async with TestClient(TestServer(app)) as client:
        headers = {SECRET_HEADER: SECRET}
        in_flight = asyncio.create_task(client.post(PATH, json=_update(chat), headers=headers))
        await slow.started.wait()
        draining = asyncio.create_task(receiver.drain(within=5))
        await asyncio.sleep(0)
        late = await client.post(PATH, json=_update(chat, "/help"), headers=headers)
        assert late.status == 503  # Telegram delivers it again later, elsewhere or after start
        health = await client.get(HEALTH_PATH)
        assert health.status == 503 and (await health.json())["problems"] == ["shutting down"]
        assert not draining.done()
        slow.release.set()
        assert (await in_flight).status == 200
        assert await draining is True
        assert slow.finished == 1


async def test_drain_gives_up_after_its_time(chat: ChatHarness) -> None:
    slow = _SlowDispatcher()
    receiver = UpdateReceiver(slow, chat.bot, SECRET)  # type: ignore[arg-type]
    app = create_webhook_app(receiver, PATH, chat.services.db)
    async with TestClient(TestServer(app)) as client:
        task = asyncio.create_task(
            client.post(PATH, json=_update(chat), headers={SECRET_HEADER: SECRET})
        )
        await slow.started.wait()
        assert await receiver.drain(within=0.05) is False
        assert receiver.in_flight == 1
        slow.release.set()
        await task


async def test_webhook_mode_end_to_end(settings: Settings) -> None:
    """`python -m bot webhook` in-process: sets the webhook with the secret, serves updates on
    the URL's path, answers /healthz, and stops when asked."""
    port = free_port()
    configured = make_settings(
        settings.database_path.parent,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
        webhook_port=port,
    )
    api = LocalBotAPI()
    stop = asyncio.Event()
    server = asyncio.create_task(serve_webhook(configured, api, LOCAL_TOKEN, stop))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):  # until it listens
            try:
                async with http.get(base + HEALTH_PATH) as response:
                    assert response.status == 200
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        update = UpdateFactory(api, user_id=USER_ID, first_name="U", language_code="be")
        payload = update.text("/start").model_dump(mode="json", exclude_none=True)
        async with http.post(
            base + "/telegram", json=payload, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
        async with http.post(base + "/telegram", json=payload) as response:
            assert response.status == 401
    stop.set()
    await asyncio.wait_for(server, 10)
    [webhook] = api.sent(methods.SetWebhook)
    assert webhook.url == "https://bot.example.org/telegram" and webhook.secret_token == SECRET
    assert "message" in (webhook.allowed_updates or [])
    [greeting] = api.sent(methods.SendMessage)
    assert greeting.chat_id == USER_ID
    # Stopped: the database was closed and the port is free again.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


async def test_webhook_mode_needs_its_settings(settings: Settings) -> None:
    with pytest.raises(RuntimeError, match="SUPOLKA_WEBHOOK_URL and SUPOLKA_WEBHOOK_SECRET"):
        await serve_webhook(settings)
