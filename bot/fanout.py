"""Sending one thing to many chats through the outgoing limiter, and learning who is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError

from bot.telegram import OutgoingLimiter


@dataclass
class Delivery:
    """How a fan-out went: who got it, who blocked the bot, how many other failures."""

    sent: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    failed: int = 0


async def fan_out(
    limiter: OutgoingLimiter,
    chat_ids: list[int],
    send: Callable[[int], Awaitable[Any]],
) -> Delivery:
    """Call ``send(chat_id)`` for every chat, paced by the limiter, in order within each chat.

    All calls are queued at once (the limiter's per-chat locks keep later fan-outs behind this
    one), so a 200-member circle takes the time Telegram's limits impose, not 200 round trips.
    """

    def call(chat_id: int) -> Callable[[], Awaitable[Any]]:
        return lambda: send(chat_id)

    results = await asyncio.gather(
        *(limiter.send(chat_id, call(chat_id)) for chat_id in chat_ids), return_exceptions=True
    )
    delivery = Delivery()
    for chat_id, result in zip(chat_ids, results, strict=True):
        if isinstance(result, TelegramForbiddenError):
            delivery.blocked.append(chat_id)
        elif isinstance(result, TelegramAPIError):
            delivery.failed += 1
        elif isinstance(result, BaseException):
            raise result
        else:
            delivery.sent.append(chat_id)
    return delivery
