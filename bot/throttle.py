"""Per-user limit on updates in private chats: a flood costs one reply, then nothing.

Counted in memory only, per Telegram user, in fixed one-minute windows: the first update over
the limit gets one "slow down" reply; the rest of that minute is ignored without a database read
or a reply. Groups (volunteers, coordinators) and admins are never throttled, nor is what
``exempt`` names (the panic commands: a flood must not stop /wipe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Locale
from bot.db.users import UsersRepo
from bot.i18n import negotiate_locale
from bot.identity import Identity

log = logging.getLogger(__name__)

WINDOW = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0


class Throttle:
    """Counts updates per user in one-minute windows."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._windows: dict[int, _Window] = {}
        self._last_sweep = clock()

    def count(self, user_id: int) -> int:
        """Count one update; returns how far over the limit it is (0: within)."""
        now = self.clock()
        if now - self._last_sweep >= WINDOW:  # forget users whose window has passed
            self._windows = {
                user: window
                for user, window in self._windows.items()
                if now - window.started < WINDOW
            }
            self._last_sweep = now
        window = self._windows.get(user_id)
        if window is None or now - window.started >= WINDOW:
            window = self._windows[user_id] = _Window(now)
        window.count += 1
        return max(0, window.count - self.per_minute)


class ThrottleMiddleware(BaseMiddleware):
    """Outer update middleware: drops a user's updates beyond the limit, answering once."""

    def __init__(
        self,
        throttle: Throttle,
        admin_ids: list[int],
        users: UsersRepo,
        identity: Identity,
        i18n: I18n,
        default_locale: Locale,
        exempt: Callable[[Update], bool] = lambda update: False,
    ) -> None:
        self._exempt = exempt
        self._throttle = throttle
        self._admins = frozenset(admin_ids)
        self._users = users
        self._identity = identity
        self._i18n = i18n
        self._default_locale = default_locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if (
            self._throttle.per_minute == 0
            or sender is None
            or chat is None
            or chat.type != "private"
            or sender.id in self._admins
        ):
            return await handler(event, data)
        over = self._throttle.count(sender.id)
        # The exemption is looked at only over the limit: most updates never need it.
        if over == 0 or (isinstance(event, Update) and self._exempt(event)):
            return await handler(event, data)
        if over == 1:
            await self._slow_down(data["bot"], chat.id, sender)
        return UNHANDLED

    async def _slow_down(self, bot: Bot, chat_id: int, sender: TelegramUser) -> None:
        log.info("a user went over the update limit")
        user = await self._users.get(self._identity.user_key(sender.id))
        locale = negotiate_locale(
            user.locale if user else None, sender.language_code, self._default_locale
        )
        with self._i18n.context(), self._i18n.use_locale(locale):  # before the i18n middleware
            text = _(
                "You are sending messages too fast. I will answer again in a minute; "
                "please wait and then repeat your last message."
            )
        try:
            await bot.send_message(chat_id, text)
        except TelegramAPIError as error:
            log.warning("could not send the slow-down note: %s", type(error).__name__)
