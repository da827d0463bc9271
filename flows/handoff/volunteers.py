"""Who is a volunteer, and what they are called.

A volunteer is a member of the volunteers' chat (asked of the Bot API, remembered for five
minutes), someone an admin granted the role, or an admin from the settings.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.db.cases import CasesRepo
from bot.db.users import UsersRepo
from bot.identity import Identity

CACHE_SECONDS = 300.0


@dataclass
class VolunteerCheck:
    """Membership answers from Telegram, kept briefly so a busy group costs few API calls."""

    ttl: float = CACHE_SECONDS
    _cache: dict[int, tuple[bool, float]] = field(default_factory=dict)
    #: Volunteers whose sealed id this process has written (once each is enough).
    _noted: set[str] = field(default_factory=set)

    async def note(self, cases: CasesRepo, identity: Identity, user_id: int, key: str) -> None:
        """Keep a volunteer's sealed Telegram id (``volunteers.ref``), once per process: a
        volunteer may never start the bot, and ``rotate-key`` needs the id to re-key them."""
        if key in self._noted:
            return
        await cases.note_volunteer(key, identity.seal_chat(user_id, key))
        self._noted.add(key)

    async def is_volunteer(
        self,
        bot: Bot,
        settings: Settings,
        users: UsersRepo,
        user_id: int,
        user_key: str,
        cases: CasesRepo | None = None,
    ) -> bool:
        if user_id in settings.admin_ids:
            return True
        user = await users.get(user_key)
        if user is not None and user.is_volunteer:
            return True
        if cases is not None and await cases.is_granted(user_key):
            return True
        if settings.volunteers_chat_id is None:
            return False
        cached = self._cache.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await bot.get_chat_member(settings.volunteers_chat_id, user_id)
        except TelegramAPIError:
            return False
        # Restricted members (observers who may not write) are not volunteers.
        allowed = member.status in (
            ChatMemberStatus.CREATOR,
            ChatMemberStatus.ADMINISTRATOR,
            ChatMemberStatus.MEMBER,
        )
        self._cache[user_id] = (allowed, now + self.ttl)
        return allowed


class VolunteersOnly(BaseMiddleware):
    """Inner message middleware: the router's commands run for volunteers only; anyone else
    who can write in the group is told so and nothing happens."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Message)
        sender = event.from_user
        checks: VolunteerCheck = data["volunteer_checks"]
        if sender is not None and not sender.is_bot:
            key = data["identity"].user_key(sender.id)
            if await checks.is_volunteer(
                data["bot"], data["settings"], data["users"], sender.id, key, data["cases"]
            ):
                await checks.note(data["cases"], data["identity"], sender.id, key)
                return await handler(event, data)
        await event.reply(_("Only volunteers can do this."))
        return None
