"""Inline keyboards for onboarding. Button labels go through gettext at build time."""

from __future__ import annotations

import functools

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import LANGUAGE_NAMES
from flows.guide.callbacks import (
    ChecklistAction,
    ChecklistCB,
    DocAction,
    DocCB,
    FaqAction,
    FaqCB,
    GuideAction,
    GuideCB,
)
from flows.handoff.callbacks import HelpAction, HelpCB
from flows.match.callbacks import MatchAction, MatchCB
from flows.onboarding.callbacks import LanguageCB, LanguageCode, MenuAction, MenuCB


def main_menu_kb() -> InlineKeyboardMarkup:
    """The main menu: only what works. Later flows add their entries here."""
    return _main_menu(get_i18n().current_locale)


def back_to_menu_kb() -> InlineKeyboardMarkup:
    return _back_to_menu(get_i18n().current_locale)


# Static keyboards are built once per language: building one deep-copies every button.
@functools.cache
def _main_menu(locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📘 Step-by-step guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.button(text=_("👥 Find coworkers"), callback_data=MatchCB(action=MatchAction.START))
    builder.button(
        text=_("✅ My checklist"), callback_data=ChecklistCB(action=ChecklistAction.OPEN)
    )
    builder.button(text=_("📄 Documents"), callback_data=DocCB(action=DocAction.LIST))
    builder.button(
        text=_("❓ Questions and answers"), callback_data=FaqCB(action=FaqAction.TOPICS)
    )
    builder.button(text=_("💬 Talk to a volunteer"), callback_data=HelpCB(action=HelpAction.START))
    builder.button(
        text=_("🔒 What the bot stores"), callback_data=MenuCB(action=MenuAction.PRIVACY)
    )
    builder.button(text=_("🌐 Language"), callback_data=MenuCB(action=MenuAction.LANGUAGE))
    builder.button(text=_("ℹ️ Help"), callback_data=MenuCB(action=MenuAction.HELP))
    builder.adjust(1, 1, 2, 1, 1, 1, 2)
    return builder.as_markup()


@functools.cache
def _back_to_menu(locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    return builder.as_markup()


def language_kb() -> InlineKeyboardMarkup:
    """Each language named in itself, so anyone can find their own."""
    builder = InlineKeyboardBuilder()
    for code in LanguageCode:
        builder.button(text=LANGUAGE_NAMES[code.value], callback_data=LanguageCB(code=code))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(3, 1)
    return builder.as_markup()
