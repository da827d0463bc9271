"""Updates as Telegram would send them, for the console simulator and the tests."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from aiogram.types import Update

from bot.local_api import BOT_USER, LocalBotAPI

#: Message content of each kind a user can send, as Telegram describes it.
CONTENT_SAMPLES: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]},
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "v1", "duration": 3}},
    "video": {
        "video": {
            "file_id": "vd1",
            "file_unique_id": "vd1",
            "width": 1,
            "height": 1,
            "duration": 1,
        }
    },
    "document": {"document": {"file_id": "d1", "file_unique_id": "d1", "file_name": "scan.pdf"}},
    "image_document": {
        "document": {
            "file_id": "d2",
            "file_unique_id": "d2",
            "file_name": "IMG_0042.jpg",
            "mime_type": "image/jpeg",
        }
    },
    "location": {"location": {"latitude": 53.9, "longitude": 27.56}},
    "contact": {"contact": {"phone_number": "+375000000000", "first_name": "Contact"}},
}


class UpdateFactory:
    """Makes updates from one Telegram user, numbering updates and messages like Telegram."""

    # Numbered from the clock, like Telegram's ever-growing numbers: the bot skips numbers it
    # has handled, and a console session started again must not reuse the last one's.
    _update_ids = itertools.count(int(time.time() * 1000))

    def __init__(
        self,
        api: LocalBotAPI,
        user_id: int = 700_100_200,
        first_name: str = "Alesia",
        language_code: str | None = "en",
        username: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self._user_id = user_id
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.user["language_code"] = language_code
        if username:
            self.user["username"] = username
        self.clock = clock

    @property
    def user_id(self) -> int:
        return self._user_id

    def _chat(self, chat_id: int | None, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            return {
                "id": chat_id or self.user_id,
                "type": "private",
                "first_name": self.user["first_name"],
            }
        return {
            "id": chat_id,
            "type": chat_type,
            "title": "Group",
            "is_forum": chat_type == "supergroup",
        }

    def _message(
        self, chat_id: int | None, chat_type: str, message_id: int | None, **content: Any
    ) -> dict[str, Any]:
        chat = self._chat(chat_id, chat_type)
        self.api.remember_chat(chat["id"], chat_type)
        return {
            "message_id": message_id or self.api.next_message_id(chat["id"]),
            "date": int(self.clock()),
            "chat": chat,
            "from": self.user,
            **content,
        }

    def _update(self, **payload: Any) -> Update:
        return Update.model_validate({"update_id": next(self._update_ids), **payload})

    def text(
        self,
        text: str,
        chat_id: int | None = None,
        chat_type: str = "private",
        thread_id: int | None = None,
        reply_to: int | None = None,
        reply_to_user: dict[str, Any] | None = None,
    ) -> Update:
        """A text message; a leading slash makes it a command, as in Telegram.

        ``thread_id`` puts it in a forum topic; ``reply_to`` makes it a reply to that message
        (the bot's, or ``reply_to_user``'s).
        """
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if thread_id is not None:
            content["message_thread_id"] = thread_id
            content["is_topic_message"] = True
        message = self._message(chat_id, chat_type, None, **content)
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": message["date"],
                "chat": message["chat"],
                "from": reply_to_user or BOT_USER,
                "text": "…",
            }
        return self._update(message=message)

    def content(self, kind: str, chat_id: int | None = None, chat_type: str = "private") -> Update:
        """A non-text message of one of :data:`CONTENT_SAMPLES`' kinds."""
        return self._update(
            message=self._message(chat_id, chat_type, None, **CONTENT_SAMPLES[kind])
        )

    def edited(self, message_id: int, text: str) -> Update:
        message = self._message(None, "private", message_id, text=text)
        message["edit_date"] = int(self.clock())
        return self._update(edited_message=message)

    def callback(
        self,
        data: str,
        message_id: int = 1,
        chat_id: int | None = None,
        chat_type: str = "private",
    ) -> Update:
        """A press on an inline button of the bot's message ``message_id``."""
        chat = self._chat(chat_id, chat_type)
        message = {
            "message_id": message_id,
            "date": int(self.clock()),
            "chat": chat,
            "from": BOT_USER,
            "text": "…",
        }
        return self._update(
            callback_query={
                "id": str(next(self._update_ids)),
                "from": self.user,
                "chat_instance": "local",
                "message": message,
                "data": data,
            }
        )
