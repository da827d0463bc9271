"""A Bot API that answers locally: no token, no network.

The console simulator and the tests give it to the bot as its session. It records every call
and answers it the way Telegram would (a sent message comes back as a ``Message`` with an id),
so the real dispatcher, middlewares and handlers run unchanged. Tests can queue errors, such as
a 429 with ``retry_after``, for the next calls.
"""

from __future__ import annotations

import functools
import itertools
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import methods
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from bot.content.telegram_html import html_problems

if TYPE_CHECKING:
    from aiogram import Bot

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Supolka", "username": "supolka_bot"}
#: A well-formed token for a bot that never talks to Telegram.
LOCAL_TOKEN = "42:local-bot-api-no-network"

#: The message-sending methods and the key under which each keeps its payload.
_SENDS: dict[type[TelegramMethod[Any]], str] = {
    methods.SendMessage: "text",
    methods.SendDocument: "document",
    methods.SendPhoto: "photo",
    methods.SendVoice: "voice",
    methods.SendVideo: "video",
    methods.SendAudio: "audio",
    methods.SendSticker: "sticker",
}


@dataclass(frozen=True)
class QueuedError:
    """An error answer for a future call: Telegram's status code, description, parameters."""

    status: int
    description: str
    parameters: dict[str, Any] | None = None
    method: type[TelegramMethod[Any]] | None = None  # None: the next call of any method


@functools.cache
def _payload_key(method_class: type) -> str | None:
    """What a send method sends, by its class or the one it refines (SendMessageForId)."""
    return next((_SENDS[c] for c in method_class.__mro__ if c in _SENDS), None)


def _html_error(method: TelegramMethod[Any]) -> QueuedError | None:
    """Telegram's answer to text it cannot parse as HTML (the bot always sends HTML)."""
    for name in ("text", "caption"):
        value = getattr(method, name, None)
        if isinstance(value, str) and getattr(method, "parse_mode", None) is not None:
            problems = html_problems(value)
            if problems:
                return QueuedError(400, f"Bad Request: can't parse entities: {problems[0]}")
    return None


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    return value


class LocalBotAPI(BaseSession):
    """A recording session that plays Telegram's part."""

    def __init__(self, clock: Callable[[], float] = time.time, strict_html: bool = True) -> None:
        """``strict_html``: refuse text Telegram could not parse, as Telegram does (tests)."""
        super().__init__()
        self._strict_html = strict_html
        self.calls: list[TelegramMethod[Any]] = []
        #: Ids of the messages the bot sent, in order.
        self.sent_message_ids: list[int] = []
        self.errors: deque[QueuedError] = deque()
        self._clock = clock
        self._message_ids: dict[int, itertools.count[int]] = {}
        #: getChatMember answers: user id → status ("member" when not set).
        self.chat_members: dict[int, str] = {}
        self._chat_types: dict[int, str] = {}

    # -- for tests and the console ---------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by the user's and the bot's messages."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def remember_chat(self, chat_id: int, chat_type: str) -> None:
        self._chat_types[chat_id] = chat_type

    def fail_next(self, error: QueuedError) -> None:
        self.errors.append(error)

    def sent(self, method: type[TelegramMethod[Any]] | None = None) -> list[Any]:
        """The recorded calls, optionally of one method type."""
        return [call for call in self.calls if method is None or isinstance(call, method)]

    def clear(self) -> None:
        self.calls.clear()

    # -- BaseSession ------------------------------------------------------------------------

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        self.calls.append(method)
        error = self._take_error(method) or (_html_error(method) if self._strict_html else None)
        if error is not None:
            body: dict[str, Any] = {"ok": False, "description": error.description}
            if error.parameters:
                body["parameters"] = error.parameters
            self.check_response(bot, method, error.status, json.dumps(body))
        result = self._answer(method)
        if isinstance(result, dict) and "message_id" in result and "chat" in result:
            self.sent_message_ids.append(result["message_id"])
        response = self.check_response(
            bot, method, 200, json.dumps({"ok": True, "result": result})
        )
        return response.result  # type: ignore[return-value]

    async def close(self) -> None:
        """Nothing to close: there is no connection."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (aiogram's signature)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    # -- answers ----------------------------------------------------------------------------

    def _take_error(self, method: TelegramMethod[Any]) -> QueuedError | None:
        for error in self.errors:
            if error.method is None or isinstance(method, error.method):
                self.errors.remove(error)
                return error
        return None

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat_type = self._chat_types.get(chat_id, "private" if chat_id > 0 else "supergroup")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Group"
        return chat

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": self.next_message_id(chat_id),
            "date": int(self._clock()),
            "chat": self._chat(chat_id),
            "from": BOT_USER,
            **{key: value for key, value in content.items() if value is not None},
        }

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, methods.GetMe):
            return BOT_USER
        payload_key = _payload_key(type(method))
        if payload_key is not None:
            return self._sent_message(method, payload_key)
        if isinstance(method, methods.EditMessageText):
            if method.inline_message_id is not None or method.chat_id is None:
                return True
            return {
                "message_id": method.message_id,
                "date": int(self._clock()),
                "edit_date": int(self._clock()),
                "chat": self._chat(int(method.chat_id)),
                "from": BOT_USER,
                "text": method.text,
                "reply_markup": _dump(method.reply_markup),
            }
        if isinstance(method, methods.GetChatMember):
            status = self.chat_members.get(int(method.user_id), "member")
            member: dict[str, Any] = {
                "status": status,
                "user": {"id": int(method.user_id), "is_bot": False, "first_name": "Member"},
            }
            if status == "restricted":
                member.update(
                    is_member=True,
                    can_send_messages=False,
                    can_send_audios=False,
                    can_send_documents=False,
                    can_send_photos=False,
                    can_send_videos=False,
                    can_send_video_notes=False,
                    can_send_voice_notes=False,
                    can_send_polls=False,
                    can_send_other_messages=False,
                    can_add_web_page_previews=False,
                    can_react_to_messages=False,
                    can_edit_tag=False,
                    can_change_info=False,
                    can_invite_users=False,
                    can_pin_messages=False,
                    can_manage_topics=False,
                    until_date=0,
                )
            if status == "kicked":
                member["until_date"] = 0
            return member
        if isinstance(method, methods.CopyMessage):
            return {"message_id": self.next_message_id(int(method.chat_id))}
        if isinstance(method, methods.CreateForumTopic):
            return {
                "message_thread_id": self.next_message_id(int(method.chat_id)),
                "name": method.name,
                "icon_color": 7322096,
            }
        if method.__returning__ is bool:
            return True
        raise NotImplementedError(f"the local Bot API does not answer {type(method).__name__}")

    def _sent_message(self, method: Any, payload_key: str) -> dict[str, Any]:
        chat_id = int(method.chat_id)
        content: dict[str, Any] = {"reply_markup": _dump(method.reply_markup)}
        if payload_key == "text":
            content["text"] = method.text
        else:
            name = getattr(method, payload_key)
            filename = getattr(name, "filename", None) if isinstance(name, InputFile) else None
            file = {"file_id": f"local-{payload_key}", "file_unique_id": "local"}
            if payload_key == "document":
                content["document"] = {**file, "file_name": filename or "file"}
            elif payload_key == "photo":
                content["photo"] = [{**file, "width": 1, "height": 1}]
            elif payload_key == "sticker":
                content["sticker"] = {
                    **file,
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            else:
                content[payload_key] = {**file, "duration": 1}
            content["caption"] = getattr(method, "caption", None)
        return self._message(chat_id, **content)
