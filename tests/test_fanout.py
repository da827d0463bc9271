"""Fan-out through the outgoing limiter against a Bot API that enforces Telegram's limits."""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, methods
from aiogram.methods import TelegramMethod

from bot.fanout import fan_out
from bot.local_api import LOCAL_TOKEN, LocalBotAPI, QueuedError
from bot.telegram import DeliveryStats, OutgoingLimiter, RetryRequestMiddleware


class VirtualTime:
    """Sleepers wake by deadline; time jumps when every task is waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, id(future), future))
        await future

    async def run(self, coroutine: Any) -> Any:
        task = asyncio.ensure_future(coroutine)
        while not task.done():
            for _ in range(50):
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                deadline, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, deadline)
                future.set_result(None)
        return task.result()


class StrictTelegram(LocalBotAPI):
    """Answers 429 whenever a message would break 1/s per chat (burst 3) or 30/s overall."""

    def __init__(self, time: VirtualTime) -> None:
        super().__init__()
        self.time = time
        self.per_chat: dict[int, deque[float]] = defaultdict(deque)
        self.overall: deque[float] = deque()
        self.refused = 0
        self.delivered: dict[int, list[str]] = defaultdict(list)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if isinstance(method, methods.SendMessage):
            now = self.time.now
            chat = self.per_chat[int(method.chat_id)]
            while chat and chat[0] <= now - 3.0 + 1e-9:  # float sums of 1/30 s
                chat.popleft()
            while self.overall and self.overall[0] <= now - 1.0 + 1e-9:
                self.overall.popleft()
            if len(chat) >= 3 or len(self.overall) >= 30:
                self.refused += 1
                self.fail_next(
                    QueuedError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
                )
            else:
                chat.append(now)
                self.overall.append(now)
                self.delivered[int(method.chat_id)].append(method.text)
        return await super().make_request(bot, method, timeout)


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
    assert all(api.delivered[chat] == ["m0", "m1", "m2"] for chat in members)
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
    assert all(api.delivered[chat] == ["hello"] for chat in members), "retries deliver all"
