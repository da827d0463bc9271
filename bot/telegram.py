"""Outgoing calls: retry what Telegram asks us to retry, and pace what the bot sends unasked.

* :class:`RetryRequestMiddleware` sits on the bot's session: on ``RetryAfter`` it waits as told,
  on network and server errors it backs off, on ``Forbidden`` it marks the user inactive; a call
  that finally fails is logged (method and error class only) and counted.
* :class:`OutgoingLimiter` paces messages the bot sends on its own initiative (notifications,
  circle fan-out, reminders, reports) under Telegram's limits and keeps them in order per chat.
  Direct replies to a user's own message do not go through it and are never delayed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageText, GetUpdates, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import MessageId, TelegramObject

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

#: ``Response[T]`` for each result type the bot has asked for, held here on purpose. aiogram
#: parses every answer with ``Response[method.__returning__]``, and pydantic caches such
#: parametrised models only weakly: once a garbage collection has freed, say,
#: ``Response[bool]``, the next answerCallbackQuery builds the class again (about 1 ms).
_RESPONSE_TYPES: dict[Any, type[Response[Any]]] = {}


def keep_response_type(method: TelegramMethod[Any]) -> None:
    """Hold a strong reference to the model aiogram will parse this method's answer with."""
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]


class SendMessageForId(SendMessage):
    """``sendMessage`` where only the new message's id matters: a circle's fan-out.

    Telegram's answer is the whole message, which aiogram parses into a ``Message`` with its
    chat and sender (17 µs here); read as a ``MessageId`` it takes 4 µs. What is sent is the
    same. (``OutgoingMessageIds`` notes the id with the chat the method names, as for copies.)
    """

    __returning__ = MessageId  # type: ignore[assignment]


def _aiogram_name(method: TelegramMethod[Any]) -> str:
    """aiogram's name for the method: SendMessageForId counts as SendMessage."""
    return _aiogram_class_name(type(method))


@functools.cache
def _aiogram_class_name(method_class: type) -> str:
    # Every Bot API call asks: the class hierarchy is walked once per class.
    return next(
        (c.__name__ for c in method_class.__mro__ if c.__module__.startswith("aiogram.")),
        method_class.__name__,
    )


class Acknowledged(TelegramObject):
    """Telegram's answer, read only as far as the caller needs: that the call succeeded."""

    message_id: int | None = None


class EditMessageTextQuietly(EditMessageText):
    """``editMessageText`` for a screen replaced in place, where the edited message is not used.

    Telegram answers with the whole message, keyboard included, which aiogram would parse into
    a ``Message`` and its buttons (45 µs here for a guide step); read as :class:`Acknowledged`
    it takes 5 µs. What is sent is the same.
    """

    __returning__ = Acknowledged | bool


@dataclass
class DeliveryStats:
    """Counters of outgoing calls, for health checks and the operator's log."""

    retried: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    blocked_by_user: int = 0


class RetryRequestMiddleware(BaseRequestMiddleware):
    """Bounded retries for every Bot API call the bot makes."""

    def __init__(
        self,
        stats: DeliveryStats,
        on_forbidden: Callable[[int], Awaitable[None]] | None = None,
        *,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_retry_after: float = 120.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._stats = stats
        self._on_forbidden = on_forbidden
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        keep_response_type(method)
        if isinstance(method, GetUpdates):  # polling has its own back-off
            return await make_request(bot, method)  # type: ignore[arg-type]
        name = _aiogram_name(method)
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self._max_attempts or error.retry_after > self._max_retry_after:
                    self._fail(name, error)
                    raise
                self._stats.retried[name] += 1
                await self._sleep(error.retry_after)
            except TelegramEntityTooLarge as error:  # a network error subclass: retrying is futile
                self._fail(name, error)
                raise
            except (TelegramNetworkError, TelegramServerError) as error:
                # A network error after sending may mean the message arrived: a rare duplicate
                # is better than a silent loss.
                if attempt == self._max_attempts:
                    self._fail(name, error)
                    raise
                self._stats.retried[name] += 1
                await self._sleep(self._backoff * 2 ** (attempt - 1))
            except TelegramForbiddenError as error:
                self._stats.blocked_by_user += 1
                self._fail(name, error)
                chat_id = getattr(method, "chat_id", None)
                # Private chats have positive ids equal to the user's id; groups are negative.
                if self._on_forbidden and isinstance(chat_id, int) and chat_id > 0:
                    await self._on_forbidden(chat_id)
                raise
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _fail(self, method_name: str, error: Exception) -> None:
        self._stats.failed[f"{method_name}:{type(error).__name__}"] += 1
        log.warning("Bot API call %s failed: %s", method_name, type(error).__name__)


@dataclass(frozen=True)
class Rate:
    """``count`` messages per ``seconds``, with up to ``burst`` sent back to back.

    With ``burst`` b, a window of ``seconds`` may see ``count + b - 1`` messages, so a hard
    limit ("at most 20 a minute") takes ``burst=1``: messages are evenly spaced instead.
    """

    count: int
    seconds: float
    burst: int = 1

    @property
    def interval(self) -> float:
        return self.seconds / self.count


class _Pacer:
    """The generic cell rate algorithm: reserve the next free slot, say how long to wait."""

    def __init__(self, rate: Rate, clock: Callable[[], float]) -> None:
        self._interval = rate.interval
        self._tolerance = rate.interval * (rate.burst - 1)
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        now = self._clock()
        start = max(self._next, now)
        delay = max(0.0, start - self._tolerance - now)
        self._next = start + self._interval
        return delay

    def idle(self) -> bool:
        return self._next <= self._clock()


#: Telegram's published guidance: about 1 message/s per chat (short bursts allowed),
#: 20 messages/min per group, 30 messages/s overall.
PRIVATE_CHAT_RATE = Rate(count=1, seconds=1.0, burst=3)
GROUP_CHAT_RATE = Rate(count=20, seconds=60.0, burst=1)
OVERALL_RATE = Rate(count=30, seconds=1.0, burst=1)


class OutgoingLimiter:
    """Paces unsolicited messages under Telegram's limits, preserving order within each chat."""

    def __init__(
        self,
        *,
        private_rate: Rate = PRIVATE_CHAT_RATE,
        group_rate: Rate = GROUP_CHAT_RATE,
        overall_rate: Rate = OVERALL_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._private_rate = private_rate
        self._group_rate = group_rate
        self._clock = clock
        self._sleep = sleep
        self._overall = _Pacer(overall_rate, clock)
        self._chats: dict[int, _Pacer] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: Counter[int] = Counter()

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` (one Bot API request to ``chat_id``) when the limits allow it."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._waiting[chat_id] += 1
        try:
            # One call per chat at a time, in arrival order (asyncio.Lock wakes waiters FIFO),
            # so a retried message cannot be overtaken by the next one.
            async with lock:
                # The chat's slot first, then the global one, so that a global slot is taken
                # only when the message is really about to go.
                for pacer in (self._chat_pacer(chat_id), self._overall):
                    delay = pacer.reserve()
                    if delay > 0:
                        await self._sleep(delay)
                return await call()
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                del self._waiting[chat_id]
                del self._locks[chat_id]
                self._forget_idle_pacers()

    def _chat_pacer(self, chat_id: int) -> _Pacer:
        pacer = self._chats.get(chat_id)
        if pacer is None:
            rate = self._group_rate if chat_id < 0 else self._private_rate
            pacer = self._chats[chat_id] = _Pacer(rate, self._clock)
        return pacer

    def _forget_idle_pacers(self) -> None:
        # Keep memory bounded on a bot that writes to many chats.
        if len(self._chats) > 10_000:
            for chat_id in [
                c for c, p in self._chats.items() if p.idle() and c not in self._locks
            ]:
                del self._chats[chat_id]
