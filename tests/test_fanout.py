"""Fan-out through the outgoing limiter against a Bot API that enforces Telegram's limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot

from bot.fanout import fan_out
from bot.local_api import LOCAL_TOKEN
from bot.strict_api import StrictTelegram, VirtualTime
from bot.telegram import DeliveryStats, OutgoingLimiter, RetryRequestMiddleware


async def test_a_200_member_circle_gets_every_message_in_order_without_429s() -> None:
    time = VirtualTime()
    api = StrictTelegram(time)
    api.middleware(RetryRequestMiddleware(DeliveryStats(), sleep=time.sleep))
    bot = Bot(LOCAL_TOKEN, session=api)
    limiter = OutgoingLimiter(clock=time.clock, sleep=time.sleep)
    members = list(range(1000, 1200))

    def message(n: int) -> Callable[[int], Awaitable[Any]]:
        return lambda chat: bot.send_message(chat, f"m{n}")

    async def three_messages() -> None:
        for n in range(3):
            await fan_out(limiter, members, message(n))

    await time.run(three_messages())
    assert api.refused == 0, "the limiter kept under Telegram's limits"
    assert all([text for _, text in api.delivered[chat]] == ["m0", "m1", "m2"] for chat in members)
    minimum = (3 * len(members) - 30) / 30  # 30 a second overall is the binding limit
    assert time.now <= minimum * 1.15 + 1.0, f"{time.now:.1f}s for a minimum of {minimum:.1f}s"


async def test_without_the_limiter_telegram_would_refuse_and_retries_recover() -> None:
    time = VirtualTime()
    api = StrictTelegram(time)
    api.middleware(RetryRequestMiddleware(DeliveryStats(), sleep=time.sleep, max_attempts=50))
    bot = Bot(LOCAL_TOKEN, session=api)
    members = list(range(2000, 2100))

    async def unpaced() -> None:
        await asyncio.gather(*(bot.send_message(chat, "hello") for chat in members))

    await time.run(unpaced())
    assert api.refused > 0, "the strict fake really enforces the limits"
    assert all([text for _, text in api.delivered[chat]] == ["hello"] for chat in members), (
        "retries deliver all"
    )
