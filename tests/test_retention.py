"""The daily retention job, with a controllable clock: each rule deletes what it should, and
nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from flows.handoff.callbacks import HelpAction, HelpCB
from flows.privacy.retention import Purged, purge, run_retention
from tests.conftest import (
    ChatHarness,
    SettableClock,
    all_events,
    make_settings,
    unhurried_harness,
)
from tests.test_privacy_flow import _join_circle

GROUP = -100_777_000
WORKER, SECOND, THIRD, IDLE = 741_000_001, 741_000_002, 741_000_003, 741_000_004
START = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)  # a Monday


class Clock(SettableClock):
    def days_later(self, days: int) -> None:
        self.now = START + timedelta(days=days)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        volunteers_chat_id=GROUP,
        default_locale="en",
        circle_threshold=3,
        retention_cases_days=90,
        retention_circles_days=180,
        retention_users_days=365,
        retention_access_log_days=30,
    )


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    clock = Clock(START)
    services = await Services.open(settings, clock=clock)
    yield unhurried_harness(services, clock)
    await services.close()


def clock_of(chat: ChatHarness) -> Clock:
    clock: Clock = chat.clock  # type: ignore[attr-defined]
    return clock


async def _count(services: Services, table: str) -> int:
    row = await services.db.fetchone(f"SELECT COUNT(*) FROM {table}")
    return int(row[0]) if row else 0


async def _open_and_end_case(chat: ChatHarness, user_id: int) -> None:
    worker = chat.user(user_id, language_code="en")
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()))
    await chat.feed(worker.text("Can they fire me?"))
    await chat.feed(worker.text("/end"))


async def _purge(chat: ChatHarness) -> tuple[Purged, list[Any]]:
    before = len(chat.api.calls)
    purged = await purge(chat.services, chat.bot)
    return purged, chat.api.calls[before:]


async def test_closed_cases_go_with_their_topics_after_the_period(chat: ChatHarness) -> None:
    """Closed 90 days ago: kept. 91: deleted, with its forum topic and routing rows."""
    await _open_and_end_case(chat, WORKER)
    assert await _count(chat.services, "cases") == 1
    clock_of(chat).days_later(90)
    purged, calls = await _purge(chat)
    assert purged.cases == 0 and await _count(chat.services, "cases") == 1
    clock_of(chat).days_later(91)
    purged, calls = await _purge(chat)
    assert (purged.cases, purged.topics) == (1, 1)
    assert [type(c) for c in calls] == [methods.DeleteForumTopic]
    assert await _count(chat.services, "cases") == 0
    assert await _count(chat.services, "case_messages") == 0
    assert await chat.services.users.get(chat.services.identity.user_key(WORKER)) is not None


async def test_a_quiet_circle_is_closed_and_its_members_told(chat: ChatHarness) -> None:
    """No activity for 180 days: the circle, its members and invites go; each member hears
    it in their language and stops looking (a new coworker does not reopen it around them)."""
    for user_id in (WORKER, SECOND, THIRD):
        await _join_circle(chat, chat.user(user_id, language_code="en"))
    assert await _count(chat.services, "circles") == 1
    clock_of(chat).days_later(180)
    assert (await _purge(chat))[0].circles == 0
    clock_of(chat).days_later(181)
    purged, calls = await _purge(chat)
    assert purged.circles == 1
    notes = [c for c in calls if isinstance(c, methods.SendMessage)]
    assert sorted(c.chat_id for c in notes) == [WORKER, SECOND, THIRD]
    assert all("closed after 180 days without messages" in c.text for c in notes)
    for table in ("circles", "circle_members", "invites", "interests"):
        assert await _count(chat.services, table) == 0, table


async def test_inactive_users_are_erased_unless_a_case_is_open(chat: ChatHarness) -> None:
    """A year without activity: erased as with /forget, silently. A worker whose case is
    still open is kept for the volunteers."""
    services = chat.services
    await chat.feed(chat.user(IDLE, language_code="en").text("/start"))
    waiting = chat.user(WORKER, language_code="en")
    await chat.feed(waiting.text("/start"))
    await chat.feed(waiting.text("/volunteer"))
    await chat.feed(waiting.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()))
    await chat.feed(waiting.text("Can they fire me?"))
    clock_of(chat).days_later(366)
    purged, calls = await _purge(chat)
    assert purged.users == 1
    assert not [c for c in calls if isinstance(c, methods.SendMessage)], "silently"
    assert await services.users.get(services.identity.user_key(IDLE)) is None
    assert await services.users.get(services.identity.user_key(WORKER)) is not None
    keys = {e.user_key for e in await all_events(services)}
    assert services.identity.user_key(IDLE) not in keys


async def test_access_log_blocks_and_old_conversations_go(chat: ChatHarness) -> None:
    """Access-log rows after their period; blocks and stale conversation state after the
    users' period."""
    services = chat.services
    await services.cases.log("v" * 64, 1, "take", START.date())
    await services.cases.block("w" * 64, START.date())
    await services.db.execute(
        "INSERT INTO fsm_state (key, state, updated_on) VALUES ('k', 's', ?)",
        (START.date().isoformat(),),
    )
    clock_of(chat).days_later(31)
    purged, _ = await _purge(chat)
    assert (purged.access_log, purged.blocks, purged.conversations) == (1, 0, 0)
    clock_of(chat).days_later(366)
    purged, _ = await _purge(chat)
    assert (purged.blocks, purged.conversations) == (1, 1)


async def test_old_events_stop_linking_a_persons_weeks(chat: ChatHarness) -> None:
    """After 13 weeks each person's events get a new key per week: the weekly counts stay,
    but the person's weeks no longer join up, and their key finds nothing."""
    services = chat.services
    worker = chat.user(WORKER, language_code="en")
    key = services.identity.user_key(WORKER)
    for day in (0, 1, 7, 8):  # two days in each of two weeks
        clock_of(chat).days_later(day)
        await chat.feed(worker.text("/start"))
    first_week = (START.date(), START.date() + timedelta(days=7))
    second_week = (first_week[1], first_week[1] + timedelta(days=7))
    counts = [await services.events.activity(*w) for w in (first_week, second_week)]
    clock_of(chat).days_later(7 * 15)
    purged, _ = await _purge(chat)
    assert purged.unlinked_events == 4  # four days: (person, day) pairs
    assert [await services.events.activity(*w) for w in (first_week, second_week)] == counts
    old = [e for e in await all_events(services) if e.occurred_on < second_week[1]]
    assert key not in {e.user_key for e in old}
    by_week = {e.user_key for e in old if e.occurred_on < first_week[1]}
    assert len(by_week) == 1 and by_week.isdisjoint(
        {e.user_key for e in old if e.occurred_on >= first_week[1]}
    )
    assert (await _purge(chat))[0].unlinked_events == 0, "once only"


async def test_message_and_update_numbers_are_purged(chat: ChatHarness) -> None:
    """Message ids after 48 hours, handled update numbers after two days."""
    await chat.feed(chat.user(WORKER, language_code="en").text("/start"))
    await chat.services.db.write_deferred()
    key = chat.services.identity.user_key(WORKER)
    assert len(await chat.services.recent.ids(key)) == 2
    assert await _count(chat.services, "handled_updates") == 1
    clock_of(chat).days_later(3)
    purged, _ = await _purge(chat)
    assert (purged.message_ids, purged.update_ids) == (2, 1)


async def test_the_job_runs_daily_and_survives_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing pass is logged and the next day's runs anyway."""
    passes: list[int] = []
    pauses: list[float] = []

    async def once() -> Purged:
        passes.append(1)
        if len(passes) == 1:
            raise RuntimeError("disk full")
        return Purged()

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_retention(once, sleep=sleep)
    assert len(passes) == 3 and pauses == [86_400.0] * 3
    assert "the retention pass failed" in caplog.text


async def test_the_log_counts_and_names_nothing(
    chat: ChatHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """One line of numbers per pass; no key, no id."""
    caplog.set_level("INFO")
    await _open_and_end_case(chat, WORKER)
    clock_of(chat).days_later(400)
    await _purge(chat)
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention")]
    assert "cases 1" in line and "users 1" in line
    assert chat.services.identity.user_key(WORKER)[:12] not in caplog.text
    assert str(WORKER) not in caplog.text
