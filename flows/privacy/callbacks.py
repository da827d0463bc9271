"""Typed callback data for the privacy screens. The prefix carries a version."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class PrivacyAction(StrEnum):
    MENU = "menu"  # what the bot stores, with the buttons below
    MYDATA = "mine"
    SAFETY = "safe"
    WIPE = "wipe"
    FORGET = "forget"  # asks first
    FORGET_SURE = "forget!"
    FORGET_AND_WIPE = "forget+wipe"


class PrivacyCB(CallbackData, prefix="priv1"):
    action: PrivacyAction
