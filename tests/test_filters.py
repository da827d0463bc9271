"""bot.filters' Command and CommandStart answer exactly as aiogram's, only sooner."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiogram import Bot
from aiogram.filters import Command as AiogramCommand
from aiogram.filters import CommandStart as AiogramCommandStart
from aiogram.types import Message

from bot.filters import Command, CommandStart
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.updates import UpdateFactory

TEXTS = [
    "/help",
    "/help now",
    " /help",  # aiogram splits at whitespace: a leading space still makes a command
    "/help@supolka_bot",
    "/help@other_bot",
    "/HELP",
    "/helpme",
    "/hel",
    "!help",
    "help",
    "/",
    " ",
    "/start",
    "/start abc",
    "/start@supolka_bot payload",
    "how do I start",
]

FILTERS: list[tuple[str, dict[str, Any]]] = [
    ("help", {}),
    ("help", {"ignore_case": True}),
    ("help", {"prefix": "!/"}),
    ("help", {"ignore_mention": True}),
]


def _message(bot: Bot, text: str, caption: bool = False) -> Message:
    api = bot.session
    assert isinstance(api, LocalBotAPI)
    update = UpdateFactory(api, user_id=7).text(text)
    message = update.message
    assert message is not None
    if caption:  # a photo's caption is read as aiogram reads it
        message = message.model_copy(update={"text": None, "caption": text})
    return message


@pytest.fixture
def bot() -> Bot:
    return Bot(LOCAL_TOKEN, session=LocalBotAPI())


@pytest.mark.parametrize("caption", [False, True])
@pytest.mark.parametrize("text", TEXTS)
async def test_command_answers_as_aiogram(bot: Bot, text: str, caption: bool) -> None:
    message = _message(bot, text, caption)
    cases: list[tuple[Any, Any]] = [
        (Command(name, **options), AiogramCommand(name, **options)) for name, options in FILTERS
    ]
    cases.append((Command(re.compile(r"he.p")), AiogramCommand(re.compile(r"he.p"))))
    cases.append((Command("help", "start"), AiogramCommand("help", "start")))
    cases.append((CommandStart(), AiogramCommandStart()))
    cases.append((CommandStart(deep_link=True), AiogramCommandStart(deep_link=True)))
    for ours, theirs in cases:
        assert _plain(await ours(message, bot)) == _plain(await theirs(message, bot)), (text, ours)


def _plain(result: bool | dict[str, Any]) -> Any:
    """The filter's answer, with a regular expression's match (compared by identity) as text."""
    if isinstance(result, bool):
        return result
    command = result["command"]
    match = command.regexp_match
    return (command.prefix, command.command, command.mention, command.args, match and match[0])
