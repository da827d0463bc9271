"""Outgoing calls: bounded retries, blocked users, and pacing under Telegram's limits."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
from aiogram import methods
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import Message

from bot.app import Services
from bot.local_api import QueuedError
from bot.telegram import OutgoingLimiter, Rate
from tests.conftest import USER_ID, ChatHarness, log_text

TOO_MANY = QueuedError(429, "Too Many Requests: retry after 7", {"retry_after": 7})
BLOCKED = QueuedError(403, "Forbidden: bot was blocked by the user")
SERVER = QueuedError(502, "Bad Gateway")


class FakeTime:
    """Virtual time: sleepers wake in order of their deadlines, and no test really waits.

    Sequential code just advances the clock. For concurrent code, :meth:`run` lets every task
    run until all are asleep, then jumps to the earliest deadline.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._running = False

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if not self._running:
            self.now += seconds
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, id(future), future))
        await future

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> None:
        self._running = True
        tasks = [asyncio.create_task(c) for c in coroutines]
        try:
            while not all(t.done() for t in tasks):
                for _ in range(20):  # let every runnable task reach its next sleep
                    await asyncio.sleep(0)
                if self._sleepers:
                    deadline, _, future = heapq.heappop(self._sleepers)
                    self.now = max(self.now, deadline)
                    future.set_result(None)
            for task in tasks:
                task.result()
        finally:
            self._running = False


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def chat(services: Services, fake_time: FakeTime) -> ChatHarness:
    """A chat whose bot waits on the fake clock before retries."""
    services.sleep = fake_time.sleep
    return ChatHarness(services)


async def test_retry_after_is_honoured_then_the_call_succeeds(
    chat: ChatHarness, services: Services, fake_time: FakeTime
) -> None:
    chat.api.fail_next(TOO_MANY)
    message = await chat.bot.send_message(USER_ID, "hello")
    assert message.text == "hello"
    assert fake_time.sleeps == [7]
    assert len(chat.api.sent(methods.SendMessage)) == 2
    assert services.delivery.retried["SendMessage"] == 1


async def test_server_errors_back_off_exponentially(
    chat: ChatHarness, fake_time: FakeTime
) -> None:
    for _ in range(3):
        chat.api.fail_next(SERVER)
    await chat.bot.send_message(USER_ID, "hello")
    assert fake_time.sleeps == [0.5, 1.0, 2.0]


async def test_retries_are_bounded_and_the_failure_is_counted_and_logged(
    chat: ChatHarness,
    services: Services,
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for _ in range(10):
        chat.api.fail_next(TOO_MANY)
    with pytest.raises(TelegramRetryAfter):
        await chat.bot.send_message(USER_ID, "a secret plan")
    assert len(chat.api.sent(methods.SendMessage)) == 5
    assert services.delivery.failed["SendMessage:TelegramRetryAfter"] == 1
    logged = log_text(caplog)
    assert "SendMessage failed: TelegramRetryAfter" in logged
    assert "a secret plan" not in logged
    assert str(USER_ID) not in logged


async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    chat: ChatHarness, services: Services
) -> None:
    user = chat.user()
    await chat.feed(user.text("/start"))
    key = services.identity.user_key(USER_ID)

    chat.api.fail_next(BLOCKED)
    with pytest.raises(TelegramForbiddenError):
        await chat.bot.send_message(USER_ID, "your circle opened")

    stored = await services.users.get(key)
    assert stored is not None
    assert stored.is_active is False
    assert services.delivery.blocked_by_user == 1

    await chat.feed(user.text("/start"))  # they came back
    stored = await services.users.get(key)
    assert stored is not None
    assert stored.is_active is True


def _limiter(fake: FakeTime, **rates: Rate) -> OutgoingLimiter:
    return OutgoingLimiter(clock=fake.clock, sleep=fake.sleep, **rates)


async def test_private_chat_allows_a_short_burst_then_one_per_second() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    sent_at = []

    async def send() -> None:
        sent_at.append(fake.now - 1000.0)

    for _ in range(6):
        await limiter.send(111, send)
    # Three at once (evenly spaced by the overall limit), then one a second.
    assert sent_at == pytest.approx([0.0, 1 / 30, 2 / 30, 1.0, 2.0, 3.0])


async def test_groups_get_twenty_messages_a_minute() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    sent_at = []

    async def send() -> None:
        sent_at.append(fake.now - 1000.0)

    for _ in range(40):
        await limiter.send(-100_555, send)
    assert sent_at[1] - sent_at[0] == pytest.approx(3.0)
    in_first_minute = [t for t in sent_at if t < 60.0]
    assert len(in_first_minute) == 20


async def test_overall_rate_holds_across_chats_and_order_holds_per_chat() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    log: list[tuple[int, int, float]] = []

    async def deliver(chat_id: int, n: int) -> None:
        async def call() -> None:
            log.append((chat_id, n, fake.now))

        await limiter.send(chat_id, call)

    await fake.run(*(deliver(chat, n) for n in range(3) for chat in range(1, 41)))

    assert len(log) == 120
    for chat in range(1, 41):
        assert [n for c, n, _ in log if c == chat] == [0, 1, 2], "per-chat order kept"
    times = sorted(t for _, _, t in log)
    for i in range(len(times) - 30):
        # In any window of one second, at most 30 messages (plus float tolerance).
        assert times[i + 30] - times[i] >= 1.0 - 1e-6


async def test_a_retried_message_is_not_overtaken(chat: ChatHarness, fake_time: FakeTime) -> None:
    limiter = OutgoingLimiter(clock=fake_time.clock, sleep=fake_time.sleep)
    chat.api.fail_next(TOO_MANY)

    def send(n: int) -> Callable[[], Awaitable[Message]]:
        return lambda: chat.bot.send_message(USER_ID, f"m{n}")

    await fake_time.run(*(limiter.send(USER_ID, send(n)) for n in range(4)))
    delivered = [c.text for c in chat.api.sent(methods.SendMessage)]
    assert delivered == ["m0", "m0", "m1", "m2", "m3"]  # m0 refused once, then sent, in order


async def test_limiter_forgets_chats_it_no_longer_writes_to() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)

    async def noop() -> None:
        return None

    await limiter.send(1, noop)
    assert limiter._locks == {}
    assert limiter._waiting == {}


async def test_a_paced_fan_out_takes_the_time_the_limits_impose() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)

    async def noop() -> None:
        return None

    # 90 members, one message each: 30 a second overall means about 3 seconds, not 90.
    await fake.run(*(limiter.send(chat_id, noop) for chat_id in range(1, 91)))
    assert fake.now - 1000.0 == pytest.approx(89 / 30)


def test_quiet_methods_read_only_what_is_needed_from_telegrams_answer() -> None:
    """A screen's edit reads the answer as an acknowledgement (a message, or True for a
    message sent inline); a fan-out's send reads the new message's id alone."""
    from aiogram.methods.base import Response

    from bot.telegram import (
        Acknowledged,
        EditMessageTextQuietly,
        SendMessageForId,
        _aiogram_name,
    )

    edited = {
        "message_id": 7,
        "date": 1,
        "chat": {"id": 5, "type": "private"},
        "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
    }
    answer: Any = Response[EditMessageTextQuietly.__returning__]
    assert isinstance(answer.model_validate({"ok": True, "result": edited}).result, Acknowledged)
    assert answer.model_validate({"ok": True, "result": True}).result is True
    sent: Any = Response[SendMessageForId.__returning__]  # type: ignore[valid-type]
    assert sent.model_validate({"ok": True, "result": edited}).result.message_id == 7
    assert EditMessageTextQuietly.__api_method__ == "editMessageText"
    assert SendMessageForId.__api_method__ == "sendMessage"
    # Counted and logged under aiogram's names.
    assert _aiogram_name(SendMessageForId(chat_id=1, text="x")) == "SendMessage"
