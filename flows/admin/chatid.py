"""/chatid: the ids an organiser needs for `.env`, told where they are asked for.

In a group only an admin (``SUPOLKA_ADMIN_IDS``) gets an answer: anyone else's /chatid is
taken and ignored, so the bot says nothing in a group to a stranger. In a private chat
anyone learns their own Telegram id, which they know anyway and the bot does not keep.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.filters import CommandsOf


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(CommandsOf("chatid"))
    router.message.register(cmd_chatid_private, Command("chatid"), F.chat.type == ChatType.PRIVATE)
    router.message.register(cmd_chatid_group, Command("chatid"))
    return router


async def cmd_chatid_private(message: Message) -> None:
    """/chatid in a private chat: the sender's own Telegram id, for SUPOLKA_ADMIN_IDS or /grant."""
    if message.from_user is None:
        return
    await message.answer(
        _(
            "Your Telegram id: <code>{user_id}</code>. An admin's id goes into "
            "SUPOLKA_ADMIN_IDS, and /grant takes this number. In a group, an admin's /chatid "
            "gives the group's id."
        ).format(user_id=message.from_user.id)
    )


async def cmd_chatid_group(message: Message, settings: Settings) -> None:
    """/chatid in a group, from an admin: the chat's id (and the topic's, in a forum)."""
    if message.from_user is None or message.from_user.id not in settings.admin_ids:
        return
    text = _(
        "This chat's id: <code>{chat_id}</code>. Put it into .env as "
        "SUPOLKA_VOLUNTEERS_CHAT_ID (the volunteers' forum group) or "
        "SUPOLKA_COORDINATORS_CHAT_ID (the coordinators' chat)."
    ).format(chat_id=message.chat.id)
    if message.is_topic_message and message.message_thread_id is not None:
        text += "\n" + _("This topic's id: {thread_id}.").format(
            thread_id=message.message_thread_id
        )
    await message.answer(text)
