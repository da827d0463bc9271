"""Notes the ids of messages in private chats, both ways, for /wipe (see bot/db/recent.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, MessageId, TelegramObject, Update

from bot.db.database import Database
from bot.db.recent import RecentMessages
from bot.identity import Identity

log = logging.getLogger(__name__)

#: Seconds between writes of the ids waiting in memory.
FLUSH_EVERY = 5.0
#: Seconds between writes of the deferred rows (handled updates, events: Database.defer).
DEFERRED_EVERY = 1.0
#: Seconds between purges of ids older than 48 hours: ids of day D go early on day D+2.
PURGE_EVERY = 3600.0

#: Methods that put a new message into a chat.
_NEW_MESSAGE = ("send", "copy", "forward")


class MessageIds:
    """Where both directions note an id: the user key is the HMAC of the private chat's id."""

    def __init__(
        self, recent: RecentMessages, identity: Identity, today: Callable[[], date]
    ) -> None:
        self.recent = recent
        self._identity = identity
        self._today = today

    async def note(self, chat_id: int, message_id: int) -> None:
        if self.recent.note(self._identity.user_key(chat_id), message_id, self._today()):
            await self.recent.flush()


class IncomingMessageIds(BaseMiddleware):
    """Outer update middleware: the id of each message a user sends in a private chat, noted
    before anything may drop the update (the per-user limit), so /wipe finds it."""

    def __init__(self, ids: MessageIds) -> None:
        self._ids = ids

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is not None and message.chat.type == "private":
            await self._ids.note(message.chat.id, message.message_id)
        return await handler(event, data)


class OutgoingMessageIds(BaseRequestMiddleware):
    """Session middleware: the id of each message the bot sends to a private chat."""

    def __init__(self, ids: MessageIds) -> None:
        self._ids = ids

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if not type(method).__api_method__.startswith(_NEW_MESSAGE):
            return response  # edits and the rest make no new message
        # Typed as a Response, but what comes back through the middlewares is the result.
        result: Any = response
        sent = result if isinstance(result, list) else [result]
        for item in sent:
            if isinstance(item, Message) and item.chat.type == "private":
                await self._ids.note(item.chat.id, item.message_id)
            elif isinstance(item, MessageId):
                # copyMessage answers with the id alone; private chats have positive ids.
                chat_id = getattr(method, "chat_id", None)
                if isinstance(chat_id, int) and chat_id > 0:
                    await self._ids.note(chat_id, item.message_id)
        return response


async def run_flush(
    recent: RecentMessages,
    db: Database,
    today: Callable[[], date],
    interval: float = FLUSH_EVERY,
    purge_every: float = PURGE_EVERY,
    deferred_every: float = DEFERRED_EVERY,
) -> None:
    """Write deferred rows every second and waiting ids every few seconds, drop old ids every
    hour, until cancelled (then write once more). A checkpoint that a long read held up is
    retried here."""
    since_flush = interval
    since_purge = purge_every  # purge at once: the bot may have been down for days
    try:
        while True:
            try:
                await db.write_deferred()
                if since_purge >= purge_every:
                    await recent.purge(today())
                    since_purge = 0.0
                if since_flush >= interval:
                    await recent.flush()
                    since_flush = 0.0
                    if db.checkpoint_due and not await db.checkpoint():
                        log.info("the WAL checkpoint waits for a long read to end")
            except Exception:
                log.exception("writing or purging message ids failed")
            await asyncio.sleep(deferred_every)
            since_flush += deferred_every
            since_purge += deferred_every
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(recent.flush())
        with contextlib.suppress(Exception):
            await asyncio.shield(db.write_deferred())
