"""Who is a volunteer, and what they are called.

A volunteer is a member of the volunteers' chat (asked of the Bot API, remembered for five
minutes), someone an admin granted the role, or an admin from the settings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError

from bot.config import Settings
from bot.db.cases import CasesRepo
from bot.db.users import UsersRepo

CACHE_SECONDS = 300.0


@dataclass
class VolunteerCheck:
    """Membership answers from Telegram, kept briefly so a busy group costs few API calls."""

    ttl: float = CACHE_SECONDS
    _cache: dict[int, tuple[bool, float]] = field(default_factory=dict)

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
