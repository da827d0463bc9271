"""The per-update middleware: who is writing (as a key), and in which language to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.clock import utc_now
from bot.config import Locale
from bot.db.users import User, UsersRepo
from bot.events import EventKind, EventRecorder
from bot.i18n import negotiate_locale
from bot.identity import Identity

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserLocaleMiddleware(I18nMiddleware):
    """Loads the user before choosing the locale, so the stored language wins.

    Handlers receive ``user_key`` (str, or None for updates without a sender) and ``user``
    (the stored :class:`User`, or None before the first /start).
    """

    def __init__(
        self,
        i18n: I18n,
        users: UsersRepo,
        identity: Identity,
        default_locale: Locale,
        today: Callable[[], date] = lambda: utc_now().date(),
        record_event: EventRecorder | None = None,
    ) -> None:
        super().__init__(i18n)
        self._record_event = record_event
        self._users = users
        self._identity = identity
        self._default_locale = default_locale
        self._today = today

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: TelegramUser | None = data.get("event_from_user")
        user_key = None
        user = None
        if sender is not None and not sender.is_bot:
            user_key = self._identity.user_key(sender.id)
            user = await self._users.get(user_key)
            today = self._today()
            new_day = user is not None and user.last_seen_on != today
            # At most one write per user per day (last-seen has day precision on purpose), and
            # one when an inactive user writes: they unblocked the bot, reachable again.
            if user is not None and (new_day or not user.is_active):
                await self._users.touch(user_key, today)
            # The day's activity is counted (with the language) for the statistics.
            if user is not None and new_day and self._record_event is not None:
                locale = negotiate_locale(user.locale, sender.language_code, self._default_locale)
                await self._record_event(EventKind.USER_ACTIVE, user_key, locale=locale)
        data["user_key"] = user_key
        data["user"] = user
        # What aiogram's I18nMiddleware.__call__ does, without its two generator context
        # managers (a few microseconds an update): the locale and the I18n for this update.
        current = await self.get_locale(event, data) or self.i18n.default_locale
        if self.i18n_key:
            data[self.i18n_key] = self.i18n
        if self.middleware_key:
            data[self.middleware_key] = self
        i18n_token = self.i18n.set_current(self.i18n)
        locale_token = self.i18n.ctx_locale.set(current)
        try:
            return await handler(event, data)
        finally:
            self.i18n.ctx_locale.reset(locale_token)
            self.i18n.reset_current(i18n_token)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data["user"]
        sender: TelegramUser | None = data.get("event_from_user")
        return negotiate_locale(
            user.locale if user else None,
            sender.language_code if sender else None,
            self._default_locale,
        )
