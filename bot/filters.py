"""Small async filters.

aiogram runs a synchronous filter (magic filters included) in a worker thread, about 0.25 ms
each here; these are coroutines and run on the event loop.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message


class ChatTypeFilter(Filter):
    """Passes messages and button presses from chats of the given types."""

    def __init__(self, *chat_types: str) -> None:
        self.chat_types = frozenset(chat_types)

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        if isinstance(event, Message):
            return event.chat.type in self.chat_types
        message = event.message
        return message is not None and message.chat.type in self.chat_types


class ChatIdFilter(Filter):
    """Passes messages and button presses from one chat (the volunteers' group)."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: Message | CallbackQuery) -> bool:
        if isinstance(event, Message):
            return event.chat.id == self.chat_id
        return event.message is not None and event.message.chat.id == self.chat_id


class IsCommand(Filter):
    """Passes a text message that starts with a slash (any command, known or not)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text and message.text.startswith("/"))


class HasText(Filter):
    """Passes a message with text (not a caption, sticker or file)."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None


class ButtonsOf(Filter):
    """Passes a button press made with one of these callback-data classes.

    Set on a flow's router (``router.callback_query.filter(ButtonsOf(GuideCB))``), it lets a
    press meant for another flow skip all of the router's handlers with one ``startswith``,
    instead of each handler's filter failing to unpack the data in turn.
    """

    def __init__(self, *kinds: type[CallbackData]) -> None:
        self.prefixes = tuple(f"{kind.__prefix__}{kind.__separator__}" for kind in kinds)

    async def __call__(self, callback: CallbackQuery) -> bool:
        return callback.data is not None and callback.data.startswith(self.prefixes)


class CommandsOf(Filter):
    """Passes a text message that starts with one of these commands (``/name``, ``/name@bot``).

    Set on a router whose messages are all commands, it lets other text skip the router's
    handlers with one check; the handlers' own ``Command`` filters still parse the arguments.
    """

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    async def __call__(self, message: Message) -> bool:
        return command_name(message.text) in self.names


def command_name(text: str | None) -> str | None:
    """``start`` for "/start", "/start@bot" or "/start payload"; None for anything else."""
    if not text or not text.startswith("/"):
        return None
    parts = text[1:].split(maxsplit=1)
    return parts[0].partition("@")[0] if parts else None
