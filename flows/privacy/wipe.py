"""/wipe: delete the chat's recent messages, both the bot's and the user's."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.db.recent import RecentMessages

log = logging.getLogger(__name__)

#: deleteMessages takes at most 100 ids.
BATCH = 100


async def wipe_chat(bot: Bot, chat_id: int, user_key: str, recent: RecentMessages) -> bool:
    """Delete every message whose id was kept; False if Telegram could not be reached.

    deleteMessages skips messages that are already gone. When Telegram refuses a batch (one of
    them is too old, say), each message of it is tried alone, so the others still go. Ids are
    forgotten once tried; after a network failure the untried ones stay for another /wipe.
    """
    ids = await recent.ids(user_key)
    tried: list[int] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            await _delete(bot, chat_id, batch)
        except TelegramAPIError as error:
            log.warning("wiping a chat failed: %s", type(error).__name__)
            await recent.drop(user_key, tried)
            return False
        tried.extend(batch)
    await recent.drop(user_key, tried)
    return True


async def _delete(bot: Bot, chat_id: int, batch: list[int]) -> None:
    try:
        await bot.delete_messages(chat_id, batch)
    except TelegramBadRequest:
        for message_id in batch:
            try:
                await bot.delete_message(chat_id, message_id)
            except TelegramBadRequest:
                continue  # too old, or deleted already
