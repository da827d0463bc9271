"""Typed callback data for onboarding. Prefixes carry a version: change it when fields change."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    MENU = "menu"
    LANGUAGE = "lang"
    HELP = "help"
    PRIVACY = "privacy"


class LanguageCode(StrEnum):
    BE = "be"
    RU = "ru"
    EN = "en"


class MenuCB(CallbackData, prefix="menu1"):
    """A main-menu button, or a "back to menu" button."""

    action: MenuAction


class LanguageCB(CallbackData, prefix="lang1"):
    """A language chosen on the language keyboard."""

    code: LanguageCode
