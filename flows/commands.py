"""The bot's command list, published per language with ``set_my_commands``."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from bot.config import LOCALES

COMMANDS = (
    ("start", __("Main menu")),
    ("guide", __("Step-by-step guide")),
    ("coworkers", __("Find coworkers")),
    ("circle", __("Your circle of coworkers")),
    ("volunteer", __("Talk to a volunteer")),
    ("end", __("End the conversation with the volunteer")),
    ("documents", __("Sample documents")),
    ("faq", __("Questions and answers")),
    ("language", __("Choose the language")),
    ("safety", __("Staying safe")),
    ("mydata", __("What the bot stores about you")),
    ("wipe", __("Delete the recent messages in this chat")),
    ("forget", __("Delete everything the bot knows about you")),
    ("help", __("How to use the bot")),
    ("cancel", __("Leave the current step, back to the menu")),
)


def bot_commands(i18n: I18n, locale: str) -> list[BotCommand]:
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=name, description=str(text)) for name, text in COMMANDS]


async def publish_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """One list per language for Telegram's UI language, and the default for everyone else."""
    await bot.set_my_commands(bot_commands(i18n, default_locale))
    for locale in LOCALES:
        await bot.set_my_commands(bot_commands(i18n, locale), language_code=locale)


async def publish_chat_commands(bot: Bot, i18n: I18n, chat_id: int, locale: str) -> None:
    """After /language: this chat sees the commands in the language the user chose."""
    await bot.set_my_commands(
        bot_commands(i18n, locale), scope=BotCommandScopeChat(chat_id=chat_id)
    )
