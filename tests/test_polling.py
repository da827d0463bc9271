"""Polling mode talks to the Bot API server named in the settings (here, one on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import flows.onboarding.router as onboarding
from bot.__main__ import main, poll
from tests.conftest import make_settings

TOKEN = "123456:TEST-token"


class FakeBotAPIServer:
    """Just enough of the Bot API on 127.0.0.1: one /start update, then empty long polls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.pending = [
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1_764_000_000,
                    "chat": {"id": 731904552, "type": "private", "first_name": "Ulyana"},
                    "from": {
                        "id": 731904552,
                        "is_bot": False,
                        "first_name": "Ulyana",
                        "language_code": "be",
                    },
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
        ]
        self.replied = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        assert request.match_info["token"] == TOKEN
        payload = dict(await request.post())
        self.calls.append((method, payload))
        result: Any = True
        if method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Supolka", "username": "s_bot"}
        elif method == "getUpdates":
            result, self.pending = self.pending, []
            if not result:
                await asyncio.sleep(0.05)
        elif method == "sendMessage":
            result = {
                "message_id": 2,
                "date": 1_764_000_001,
                "chat": {"id": int(str(payload["chat_id"])), "type": "private"},
                "text": payload["text"],
            }
            self.replied.set()
        return web.json_response({"ok": True, "result": result})


async def _fake_api(
    handle: Callable[[web.Request], Awaitable[web.Response]],
) -> tuple[web.AppRunner, int]:
    """A Bot API stand-in on 127.0.0.1: its runner (to clean up) and its port."""
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def test_polling_uses_the_configured_api_url(tmp_path: Path) -> None:
    server = FakeBotAPIServer()
    runner, port = await _fake_api(server.handle)

    settings = make_settings(
        tmp_path, bot_token=TOKEN, telegram_api_url=f"http://127.0.0.1:{port}"
    )
    task = asyncio.create_task(poll(settings, handle_signals=False))
    try:
        await asyncio.wait_for(server.replied.wait(), timeout=20)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runner.cleanup()

    methods = [name for name, _ in server.calls]
    assert methods.count("setMyCommands") == 4, "default + ru + be + en"
    # A webhook left by webhook mode is removed before the first getUpdates, pending kept.
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    [(_, removal)] = [call for call in server.calls if call[0] == "deleteWebhook"]
    assert removal.get("drop_pending_updates") in (None, "false", "False")
    commands = [
        json.loads(str(p["commands"])) for name, p in server.calls if name == "setMyCommands"
    ]
    languages = [p.get("language_code") for name, p in server.calls if name == "setMyCommands"]
    by_language = dict(zip(languages, commands, strict=True))
    assert by_language["be"][0] == {"command": "start", "description": "Галоўнае меню"}
    assert by_language["ru"][0]["description"] == "Главное меню"
    assert by_language["en"][0]["description"] == "Main menu"
    assert by_language[None][0]["description"] == "Главное меню"  # default_locale ru
    [reply] = [p for name, p in server.calls if name == "sendMessage"]
    assert "Вітаем! Гэта Суполка." in str(reply["text"])


async def test_a_revoked_token_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Telegram answers 401 to everything: `run` stops with one line, not a traceback."""

    async def unauthorized(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    runner, port = await _fake_api(unauthorized)
    for name, value in {
        "SUPOLKA_BOT_TOKEN": TOKEN,
        "SUPOLKA_TELEGRAM_API_URL": f"http://127.0.0.1:{port}",
        "SUPOLKA_DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "SUPOLKA_KEY_FILE": str(tmp_path / "secret.key"),
    }.items():
        monkeypatch.setenv(name, value)
    try:
        # main() runs its own event loop: in a thread, beside this test's.
        status = await asyncio.to_thread(main, ["run"])
    finally:
        await runner.cleanup()
    assert status == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "Cannot start: Telegram server says - Unauthorized"
    assert "Traceback" not in err


async def test_a_stop_during_polling_lets_the_update_in_flight_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (systemctl stop, docker stop) while a /start is being handled: polling stops,
    and the reply still goes out before the session and the database close."""
    started = asyncio.Event()
    real_start = onboarding.cmd_start

    async def slow_start(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await asyncio.sleep(0.5)  # a slow Bot API call, say
        return await real_start(*args, **kwargs)

    slow_start.__signature__ = inspect.signature(real_start)  # type: ignore[attr-defined]
    monkeypatch.setattr(onboarding, "cmd_start", slow_start)
    server = FakeBotAPIServer()
    runner, port = await _fake_api(server.handle)
    settings = make_settings(
        tmp_path, bot_token=TOKEN, telegram_api_url=f"http://127.0.0.1:{port}"
    )
    try:
        task = asyncio.create_task(poll(settings, handle_signals=True))
        await asyncio.wait_for(started.wait(), 20)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, 20)
    finally:
        await runner.cleanup()
    assert [name for name, _ in server.calls].count("sendMessage") == 1
