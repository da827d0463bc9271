"""Fixtures: the production dispatcher on a temporary database, with a recording Bot API."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, methods

from bot.app import Services, create_bot, create_dispatcher
from bot.config import Settings
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.telegram import OutgoingLimiter
from bot.updates import UpdateFactory

#: A user whose id, name and words must never reach the database file or the logs.
USER_ID = 731_904_552
FIRST_NAME = "Ulyana"
USERNAME = "ulyana_tractor_works"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No SUPOLKA_ variable or .env file of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("SUPOLKA_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """``main()`` configures logging for a process; a test that calls it must not leave the
    root logger's level and handlers changed for the tests after it (caplog needs them)."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    event_level = logging.getLogger("aiogram.event").level
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
    logging.getLogger("aiogram.event").setLevel(event_level)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_path": tmp_path / "bot.sqlite3",
        "console_database_path": tmp_path / "console.sqlite3",
        "key_file": tmp_path / "secret.key",
        "default_locale": "ru",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated and seeded once per run (the directory takes ~0.2 s to seed)."""
    import asyncio

    folder = tmp_path_factory.mktemp("seeded")
    settings = make_settings(folder)

    async def seed() -> None:
        services = await Services.open(settings)
        await services.close()

    asyncio.run(seed())
    return folder


@pytest.fixture
def settings(tmp_path: Path, seeded_database: Path) -> Settings:
    """Settings for a fresh bot whose database starts as a copy of the seeded one."""
    import shutil

    for name in ("bot.sqlite3", "secret.key"):
        shutil.copy2(seeded_database / name, tmp_path / name)
    return make_settings(tmp_path)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    opened = await Services.open(settings)
    yield opened
    await opened.close()


class ChatHarness:
    """One Telegram user talking to the production dispatcher through a recording API."""

    def __init__(self, services: Services, api: LocalBotAPI | None = None) -> None:
        self.services = services
        self.api = api or LocalBotAPI()
        self.bot: Bot = create_bot(services, session=self.api, token=LOCAL_TOKEN)
        self.dispatcher: Dispatcher = create_dispatcher(services)

    def user(
        self,
        user_id: int = USER_ID,
        language_code: str | None = "en",
        first_name: str = FIRST_NAME,
        username: str | None = USERNAME,
    ) -> UpdateFactory:
        return UpdateFactory(
            self.api,
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
        )

    async def feed(self, update: Any) -> list[Any]:
        """Feed one update; returns the Bot API calls it caused."""
        before = len(self.api.calls)
        await self.dispatcher.feed_update(self.bot, update)
        return self.api.calls[before:]


@pytest.fixture
def chat(services: Services) -> ChatHarness:
    return ChatHarness(services)


def texts(calls: list[Any]) -> list[str]:
    """The texts the bot sent or edited, and the toasts it showed, in order."""
    found = []
    for call in calls:
        text = getattr(call, "text", None)
        if isinstance(text, str):
            found.append(text)
    return found


def buttons(call: Any) -> list[tuple[str, str | None]]:
    """(label, callback data) of every inline button on a sent or edited message."""
    markup = getattr(call, "reply_markup", None)
    if markup is None:
        return []
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, as a plain handler would print it: message and full exception text.

    Stricter than the bot's redacting formatter, which would mask ids even if code logged them.
    """
    plain = logging.Formatter()
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(plain.formatException(record.exc_info))
    return "\n".join(parts)


async def all_events(services: Services) -> list[Any]:
    """Every recorded event, oldest first."""
    from datetime import date

    from bot.db.events import EventsRepo

    return await EventsRepo(services.db).between(date(2000, 1, 1), date(2100, 1, 1))


def edits(calls: list[Any]) -> list[methods.EditMessageText]:
    """The EditMessageText calls among ``calls``."""
    return [call for call in calls if isinstance(call, methods.EditMessageText)]


class SettableClock:
    """The bot's clock, moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _instant(seconds: float) -> None:
    await asyncio.sleep(0)


def unhurried_harness(services: Services, clock: SettableClock) -> ChatHarness:
    """A harness without waits: no pacing between sends and no per-user limit (scripted users
    are quicker than any person); tests of those set them again."""
    services.limiter = OutgoingLimiter(sleep=_instant)
    services.throttle.per_minute = 0
    harness = ChatHarness(services)
    harness.clock = clock  # type: ignore[attr-defined]
    return harness


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of its own on loopback for the whole run: no disk, gone at the end."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server): "
            "Redis storage not tested"
        )
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    log_path = folder / "redis.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                program,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 10
        while not _answers_ping(port):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
