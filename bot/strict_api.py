"""Telegram's sending limits, simulated in virtual time, for the fan-out test and benchmark.

:class:`VirtualTime` lets waits pass instantly but in order; :class:`StrictTelegram` answers
429 whenever a message would break about 1 a second per chat (a burst of 3) or 30 a second
overall, as Telegram does.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict, deque
from typing import Any

from aiogram import Bot, methods
from aiogram.methods import TelegramMethod

from bot.local_api import LocalBotAPI, QueuedError

OVERALL_PER_SECOND = 30


class VirtualTime:
    """Sleepers wake by deadline; time jumps when every task is waiting ."""

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
        super().__init__(clock=time.clock, strict_html=False)
        self.time = time
        self.per_chat: dict[int, deque[float]] = defaultdict(deque)
        self.overall: deque[float] = deque()
        self.refused = 0
        #: Per chat: (virtual time, text) of each message let through.
        self.delivered: dict[int, list[tuple[float, str]]] = defaultdict(list)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> Any:
        if isinstance(method, methods.SendMessage):
            now = self.time.now
            chat = self.per_chat[int(method.chat_id)]
            while chat and chat[0] <= now - 3.0 + 1e-9:  # float sums of 1/30 s
                chat.popleft()
            while self.overall and self.overall[0] <= now - 1.0 + 1e-9:
                self.overall.popleft()
            if len(chat) >= 3 or len(self.overall) >= OVERALL_PER_SECOND:
                self.refused += 1
                self.fail_next(
                    QueuedError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
                )
            else:
                chat.append(now)
                self.overall.append(now)
                self.delivered[int(method.chat_id)].append((now, method.text))
        return await super().make_request(bot, method, timeout)
