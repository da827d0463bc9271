"""After a conversation, neither the database file (with its WAL) nor the logs identify anyone."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import Services
from bot.config import Settings
from bot.identity import Identity, load_secret
from bot.logs import RedactingFormatter
from flows.onboarding.callbacks import LanguageCB, LanguageCode, MenuAction, MenuCB
from tests.conftest import (
    FIRST_NAME,
    USER_ID,
    USERNAME,
    ChatHarness,
    SettableClock,
    log_text,
    make_settings,
    unhurried_harness,
)
from tests.test_privacy_flow import walk_every_flow

WORDS = (
    "Our shift at Naftan wants a union",
    "сход у чацвер каля прахадной",
    "встреча в цеху номер 5",
)


async def _conversation(chat: ChatHarness) -> None:
    user = chat.user(language_code="be")
    await chat.feed(user.text("/start"))
    await chat.feed(user.callback(MenuCB(action=MenuAction.PRIVACY).pack(), message_id=2))
    await chat.feed(user.callback(LanguageCB(code=LanguageCode.EN).pack(), message_id=2))
    for words in WORDS:
        await chat.feed(user.text(words))
    await chat.feed(user.content("photo"))
    await chat.feed(user.content("contact"))
    await chat.feed(user.edited(1, WORDS[0] + " (edited)"))
    await chat.feed(user.text("/unknown_command_" + WORDS[0].split()[0]))


def _secrets() -> list[bytes]:
    found = []
    for value in (str(USER_ID), FIRST_NAME, USERNAME, *WORDS):
        found.append(value.encode())
        found.append(value.encode("utf-16-le"))
    found.append(USER_ID.to_bytes(8, "big", signed=True))  # an integer column would look so
    return found


def _database_bytes(settings: Settings) -> bytes:
    path = settings.database_path
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_database_file_and_wal_hold_no_identity_or_text(settings: Settings) -> None:
    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        await _conversation(chat)
        assert await services.users.count() == 1
        raw_open = _database_bytes(settings)  # while open: the WAL holds the recent writes
        assert Path(str(settings.database_path) + "-wal").exists()
    finally:
        await services.close()
    raw_closed = _database_bytes(settings)
    for raw in (raw_open, raw_closed):
        assert raw, "the database file was read"
        for secret in _secrets():
            assert secret not in raw, f"found {secret!r} in the database file"


async def test_logs_hold_no_identity_or_text(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    services = await Services.open(settings)
    try:
        await _conversation(ChatHarness(services))
    finally:
        await services.close()
    logged = log_text(caplog)
    assert caplog.records, "the conversation logged something (else this test proves nothing)"
    for secret in (str(USER_ID), FIRST_NAME, USERNAME, *WORDS):
        assert secret not in logged


def test_the_formatter_masks_ids_and_drops_exception_messages() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError(f"text {WORDS[0]}")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "user %s in chat %s", (USER_ID, -1001234567), None
        )
        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert str(USER_ID) not in text
    assert "1001234567" not in text
    assert WORDS[0] not in text
    assert "ValueError" in text


@pytest.mark.parametrize(
    "message",
    [
        f"chat {USER_ID}.",
        f"user_{USER_ID}",
        f"id={USER_ID}",
        "POST https://api.telegram.org/bot123456:AAH-secret_token/sendMessage",
    ],
)
def test_the_formatter_masks_ids_wherever_they_stand(message: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)
    text = RedactingFormatter("%(message)s").format(record)
    assert str(USER_ID) not in text
    assert "secret_token" not in text
    assert "123456" not in text


async def test_a_scenario_across_every_flow_leaves_no_identity_and_no_readable_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Guide, checklist, circle (with a relayed message), invite, FAQ and a case with a
    volunteer: afterwards neither the database file, its WAL nor the log holds the user's id,
    names or words; and under any other key no chat reference opens."""
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, volunteers_chat_id=-100_777_000, circle_threshold=3)
    clock = SettableClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    services = await Services.open(settings, clock=clock)
    try:
        chat = unhurried_harness(services, clock)
        worker = chat.user(USER_ID, language_code="be", first_name=FIRST_NAME, username=USERNAME)
        await walk_every_flow(chat, worker, WORDS)
        raw_open = _database_bytes(settings)
    finally:
        await services.close()
    for raw in (raw_open, _database_bytes(settings)):
        for secret in _secrets():
            assert secret not in raw, f"found {secret!r} in the database file"
    logged = log_text(caplog)
    for word in (str(USER_ID), FIRST_NAME, USERNAME, *WORDS):
        assert word not in logged

    with sqlite3.connect(settings.database_path) as plain:
        refs = plain.execute("SELECT key, chat_ref FROM users").fetchall()
    assert len(refs) == 3  # the worker and two coworkers
    stranger = Identity(os.urandom(32))
    assert all(stranger.open_chat(bytes(ref), key) is None for key, ref in refs)
    owner = Identity(load_secret(settings))
    assert USER_ID in {owner.open_chat(bytes(ref), key) for key, ref in refs}


async def test_today_turns_at_midnight_in_the_bots_time_zone(services: Services) -> None:
    """Services.today() keeps the day between calls, but never past a local midnight, also
    where a clock change skips or repeats midnight (Santiago), and when the clock goes back."""
    for zone in ("Europe/Minsk", "America/Santiago"):
        services.settings = services.settings.model_copy(update={"timezone": zone})
        services._today_span = None
        clock = SettableClock(datetime(2026, 11, 23, 20, 59, 59, tzinfo=UTC))
        services.clock = clock
        instants = [
            datetime(2026, 11, 23, 20, 59, 59, tzinfo=UTC),
            datetime(2026, 11, 23, 21, 0, tzinfo=UTC),
            datetime(2026, 11, 23, 20, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 11, 24, 2, 59, tzinfo=UTC),
            datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
            datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        ]
        # Around Santiago's changes (midnight skipped in September, repeated in April).
        for start in (datetime(2026, 9, 6, 2, tzinfo=UTC), datetime(2026, 4, 5, 1, tzinfo=UTC)):
            instants += [start + timedelta(minutes=15 * n) for n in range(24)]
        for now in instants:
            clock.now = now
            assert services.today() == now.astimezone(ZoneInfo(zone)).date(), (zone, now)
