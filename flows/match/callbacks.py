"""Typed callback data for matching and circles (ids are integers: well under 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from flows.numbers import Id


class MatchAction(StrEnum):
    START = "start"  # from the menu: status, or ask for the enterprise
    PICK = "pick"  # this enterprise (id)
    NONE = "none"  # none of the candidates: register a new one
    AGREE = "agree"  # consent to be matched at the chosen enterprise
    CANCEL = "cancel"
    WITHDRAW = "withdraw"  # stop looking for coworkers


class MatchCB(CallbackData, prefix="match1"):
    action: MatchAction
    enterprise: Id = 0


class CircleAction(StrEnum):
    MENU = "menu"
    RELAY_ON = "on"
    RELAY_OFF = "off"
    REVEAL_ON = "reveal"
    REVEAL_OFF = "hide"
    INVITE = "invite"
    REVOKE = "revoke"
    LEAVE = "leave"
    LEAVE_SURE = "leave!"
    JOIN = "join"  # from an invite: ``arg`` is the circle


class CircleCB(CallbackData, prefix="circle1"):
    action: CircleAction
    arg: Id = 0
