"""The console simulator: chat with the real bot in a terminal, with no token and no network.

The real dispatcher, storage and database run; :class:`ConsoleAPI` plays Telegram and prints
what the bot sends. Buttons are numbered: ``#2`` presses button 2 of the latest keyboard.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiogram import Dispatcher, methods
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Update

from bot.app import Services, create_bot, create_dispatcher
from bot.config import Settings
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.updates import CONTENT_SAMPLES, UpdateFactory

#: The simulated volunteers' group when none is configured.
CONSOLE_GROUP = -100_000_000_001

HELP = """Console commands:
  any text       send it to the bot as a message (/start, /help, … are commands)
  #N             press button N of the latest keyboard
  :edit TEXT     edit your last message to TEXT
  :as volunteer  act as a volunteer in the volunteers' group (the latest case's topic)
  :as worker     back to the worker's private chat
  :{kinds}
                 send that kind of message instead of text
  :help          this help
  /quit          leave (also Ctrl-D)"""


class _TerminalHTML(HTMLParser):
    """Telegram HTML to terminal text: bold stays bold on a terminal, links show their URL."""

    def __init__(self, color: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.color = color
        self.parts: list[str] = []
        self._href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("b", "strong") and self.color:
            self.parts.append("\033[1m")
        elif tag in ("i", "em") and self.color:
            self.parts.append("\033[3m")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong", "i", "em") and self.color:
            self.parts.append("\033[0m")
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text: str, color: bool = False) -> str:
    parser = _TerminalHTML(color)
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


class ConsoleAPI(LocalBotAPI):
    """The local Bot API, printing what the bot sends as a chat transcript."""

    def __init__(self, write: Callable[[str], None], color: bool = False) -> None:
        super().__init__()
        self.write = write
        self.color = color
        #: The simulated volunteers' group, and the latest forum topic the bot opened in it.
        self.group: int | None = None
        self.last_topic: int | None = None
        #: Per chat: button number → (message id, callback data) of its latest keyboard.
        self.keyboards: dict[int, dict[int, tuple[int, str]]] = {}

    async def make_request(
        self,
        bot: Any,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        result = await super().make_request(bot, method, timeout)
        self._show(method, result)
        return result

    def _show(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, methods.CreateForumTopic):
            self.last_topic = result.message_thread_id
            self.write(f"  (the bot opened the topic “{method.name}” in the volunteers' group)\n")
        elif isinstance(method, methods.SendMessage):
            where = " → volunteers' group" if method.chat_id == self.group else ""
            chat_id = int(method.chat_id)
            self._bubble(chat_id, result.message_id, method.text, method.reply_markup, where=where)
        elif isinstance(method, methods.EditMessageText):
            message_id = method.message_id or 0
            chat_id = int(method.chat_id or 0)
            where = " → volunteers' group" if chat_id == self.group else ""
            self._bubble(
                chat_id, message_id, method.text, method.reply_markup, edited=True, where=where
            )
        elif isinstance(method, methods.AnswerCallbackQuery) and method.text:
            self.write(f"  ⓘ {method.text}\n")
        elif isinstance(method, methods.SendDocument):
            name = getattr(method.document, "filename", "file")
            self.write(f"bot: [document: {name}] {html_to_text(method.caption or '')}\n")
        elif isinstance(method, methods.SendPhoto):
            name = getattr(method.photo, "filename", "photo")
            size = len(getattr(method.photo, "data", b""))
            caption = html_to_text(method.caption or "")
            self.write(f"bot: [photo: {name}, {size // 1024} KB] {caption}\n".replace(" \n", "\n"))
        elif isinstance(method, methods.DeleteMessage):
            self.write(f"  (the bot deleted message {method.message_id})\n")
        elif isinstance(method, methods.DeleteMessages):
            numbers = ", ".join(str(number) for number in method.message_ids)
            self.write(f"  (the bot deleted messages {numbers})\n")
        elif isinstance(method, methods.DeleteForumTopic):
            self.write("  (the bot deleted a topic in the volunteers' group)\n")
        elif isinstance(method, methods.CopyMessage):
            self.write(f"  (a copy of message {method.message_id} was sent to another chat)\n")

    def _bubble(
        self,
        chat_id: int,
        message_id: int,
        text: str | None,
        markup: Any,
        edited: bool = False,
        where: str = "",
    ) -> None:
        state = ", edited" if edited else ""
        label = f"bot{where} (message {message_id}{state})"
        body = html_to_text(text or "", self.color)
        lines = [f"{label}:", *("  " + line for line in body.splitlines())]
        if isinstance(markup, InlineKeyboardMarkup):
            buttons: dict[int, tuple[int, str]] = {}
            self.keyboards[chat_id] = buttons
            for row in markup.inline_keyboard:
                cells = []
                for button in row:
                    number = len(buttons) + 1
                    if button.callback_data is not None:
                        buttons[number] = (message_id, button.callback_data)
                        cells.append(f"[#{number} {button.text}]")
                    elif button.url:
                        cells.append(f"[{button.text}: {button.url}]")
                lines.append("  " + "  ".join(cells))
        self.write("\n".join(lines) + "\n\n")


class Console:
    """One simulated worker in a private chat with the bot."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        api: ConsoleAPI,
        services: Services,
        user_id: int,
        language_code: str | None,
    ) -> None:
        self.dispatcher = dispatcher
        self.api = api
        self.bot = create_bot(services, session=api, token=LOCAL_TOKEN)
        self.updates = UpdateFactory(api, user_id=user_id, language_code=language_code)
        self.volunteer = UpdateFactory(
            api, user_id=user_id + 1, first_name="Volunteer", language_code=language_code
        )
        self.as_volunteer = False
        self.last_sent: int | None = None

    async def handle(self, line: str) -> bool:
        """Act on one input line; returns False when the user wants to leave."""
        line = line.strip()
        if line in ("/quit", "/exit"):
            return False
        if line:
            outcome = self._update_for(line)
            if isinstance(outcome, str):
                self.api.write(f"  ({outcome})\n\n")
            else:
                await self.dispatcher.feed_update(self.bot, outcome)
        return True

    def _update_for(self, line: str) -> Update | str:
        """The update a console line stands for, or a note to print instead."""
        if line == ":help":
            return HELP.format(kinds=" | :".join(CONTENT_SAMPLES))
        if line in (":as volunteer", ":as worker"):
            self.as_volunteer = line == ":as volunteer" and self.api.group is not None
            who = "a volunteer in the volunteers' group" if self.as_volunteer else "the worker"
            return f"you are now {who}"
        if self.as_volunteer:
            return self._volunteer_update(line)
        return self._worker_update(line)

    def _worker_update(self, line: str) -> Update | str:
        """The worker's button press, edit, other kind of message, or text."""
        if re.fullmatch(r"#\d+", line):
            button = self.api.keyboards.get(self.updates.user_id, {}).get(int(line[1:]))
            if button is None:
                return "no such button on the latest keyboard"
            message_id, data = button
            return self.updates.callback(data, message_id=message_id)
        if line.startswith(":edit "):
            if self.last_sent is None:
                return "send a message first"
            return self.updates.edited(self.last_sent, line.removeprefix(":edit "))
        if line.startswith(":"):
            if line[1:] in CONTENT_SAMPLES:
                return self.updates.content(line[1:])
            return "unknown console command; :help lists them"
        update = self.updates.text(line)
        assert update.message is not None
        self.last_sent = update.message.message_id
        return update

    def _volunteer_update(self, line: str) -> Update | str:
        """A volunteer's button press on the latest card, or words in the latest topic."""
        group = self.api.group
        assert group is not None
        if re.fullmatch(r"#\d+", line):
            button = self.api.keyboards.get(group, {}).get(int(line[1:]))
            if button is None:
                return "no such button on the group's latest keyboard"
            message_id, data = button
            return self.volunteer.callback(
                data, message_id=message_id, chat_id=group, chat_type="supergroup"
            )
        return self.volunteer.text(
            line, chat_id=group, chat_type="supergroup", thread_id=self.api.last_topic
        )

    async def close(self) -> None:
        await self.bot.session.close()


async def run_console(
    settings: Settings,
    user_id: int = 700_100_200,
    language_code: str | None = "ru",
    database_path: Path | None = None,
) -> None:
    """Read lines from standard input until /quit or end of input."""
    color = sys.stdout.isatty()
    if settings.volunteers_chat_id is None:
        # No real group: simulate one, so that the hand-off can be walked from both sides.
        settings = settings.model_copy(update={"volunteers_chat_id": CONSOLE_GROUP})
    services = await Services.open(settings, database_path or settings.console_database_path)
    api = ConsoleAPI(lambda text: print(text, end="", flush=True), color=color)
    api.group = settings.volunteers_chat_id
    if api.group is not None:
        api.remember_chat(api.group, "supergroup")
    console = Console(create_dispatcher(services), api, services, user_id, language_code)
    print(
        f"Supolka console: you are a worker (simulated Telegram user {user_id}, "
        f"language {language_code or 'not set'}), database {services.db.path}.\n"
        "Type /start to begin, #N to press button N, :help for more, /quit to leave.\n"
    )
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not sys.stdin.isatty():
                print(line)  # echo piped input so the transcript reads like a chat
            if not await console.handle(line):
                break
    finally:
        await console.close()
        await services.close()
