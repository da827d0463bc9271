"""Small async filters.

aiogram runs a synchronous filter (magic filters included) in a worker thread, about 0.25 ms
each here; these are coroutines and run on the event loop.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.filters import Command as AiogramCommand
from aiogram.filters import CommandStart as AiogramCommandStart
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


class _QuickCheck(AiogramCommand):
    """Turns away, with one string check, text that cannot be one of the command's names.

    A plain text on its way to the FAQ passes some seven ``Command`` filters; aiogram parses
    the text in each and fails by raising (and catching) an exception. What passes the check
    is parsed by aiogram as before, so the outcome is the same.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._names = _plain_names(self)

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        if not _may_match(message, self.prefix, self._names):
            return False
        return await super().__call__(message, bot)


class Command(_QuickCheck):
    """aiogram's ``Command``, with the quick check."""


class CommandStart(_QuickCheck, AiogramCommandStart):
    """aiogram's ``CommandStart``, with the quick check."""


def _plain_names(command: AiogramCommand) -> tuple[str, ...] | None:
    """The names a command must begin with, when they are plain and case counts; else None
    (regular expressions, ``ignore_case``): then only the prefix is checked."""
    if command.ignore_case or not all(isinstance(name, str) for name in command.commands):
        return None
    return tuple(str(name) for name in command.commands)


def _may_match(message: Message, prefix: str, names: tuple[str, ...] | None) -> bool:
    """False only for a message aiogram's ``Command`` would refuse: no text or caption, no
    command prefix, or (for plain names) a word after the prefix that begins with none of
    them. aiogram splits the text at whitespace, so leading whitespace is skipped here too."""
    if not isinstance(message, Message):
        return False
    text = (message.text or message.caption or "").lstrip()
    if not text or text[0] not in prefix:
        return False
    return names is None or text.startswith(names, 1)


def command_name(text: str | None) -> str | None:
    """``start`` for "/start", "/start@bot" or "/start payload"; None for anything else."""
    if not text or not text.startswith("/"):
        return None
    parts = text[1:].split(maxsplit=1)
    return parts[0].partition("@")[0] if parts else None
