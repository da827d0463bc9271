"""Keyboards of the privacy screens."""

from __future__ import annotations

import functools

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.privacy.callbacks import PrivacyAction, PrivacyCB


def privacy_kb() -> InlineKeyboardMarkup:
    return _privacy(get_i18n().current_locale)


def back_to_privacy_kb(with_forget: bool = False) -> InlineKeyboardMarkup:
    return _back(get_i18n().current_locale, with_forget)


def forget_kb() -> InlineKeyboardMarkup:
    return _forget(get_i18n().current_locale)


@functools.cache
def _privacy(locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📋 My data"), callback_data=PrivacyCB(action=PrivacyAction.MYDATA))
    builder.button(text=_("🛡 Staying safe"), callback_data=PrivacyCB(action=PrivacyAction.SAFETY))
    builder.button(text=_("🧹 Wipe this chat"), callback_data=PrivacyCB(action=PrivacyAction.WIPE))
    builder.button(
        text=_("🗑 Delete all my data"), callback_data=PrivacyCB(action=PrivacyAction.FORGET)
    )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(2, 1, 1, 1)
    return builder.as_markup()


@functools.cache
def _back(locale: str, with_forget: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if with_forget:
        builder.button(
            text=_("🗑 Delete all my data"), callback_data=PrivacyCB(action=PrivacyAction.FORGET)
        )
    builder.button(text=_("⬅️ Back"), callback_data=PrivacyCB(action=PrivacyAction.MENU))
    builder.adjust(1)
    return builder.as_markup()


@functools.cache
def _forget(locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🗑 Yes, delete my data"),
        callback_data=PrivacyCB(action=PrivacyAction.FORGET_SURE),
    )
    builder.button(
        text=_("🗑 Delete my data and wipe this chat"),
        callback_data=PrivacyCB(action=PrivacyAction.FORGET_AND_WIPE),
    )
    builder.button(text=_("⬅️ No, go back"), callback_data=PrivacyCB(action=PrivacyAction.MENU))
    builder.adjust(1)
    return builder.as_markup()
