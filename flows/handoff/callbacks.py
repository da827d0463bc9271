"""Typed callback data of the hand-off."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from flows.numbers import Id

TOPICS = ("legal", "safety", "organising", "other")


class HelpAction(StrEnum):
    START = "start"  # "Talk to a volunteer"
    TOPIC = "topic"  # arg: one of TOPICS
    SHARE = "share"  # arg: "1" share the enterprise with the volunteer, "0" do not
    END = "end"  # the worker ends the conversation
    RATE = "rate"  # arg: case-score (":" separates callback data fields)
    COMMENT = "comment"  # the worker wants to add a comment after rating
    SKIP = "skip"  # no comment after rating


class HelpCB(CallbackData, prefix="help1"):
    """The worker's side."""

    action: HelpAction
    arg: str = ""


class CaseAction(StrEnum):
    TAKE = "take"
    ENTERPRISE = "firm"  # show the assignee the enterprise the worker agreed to share
    RELEASE = "release"
    CLOSE = "close"
    ACCEPT = "accept"  # accept a transfer


class CaseCB(CallbackData, prefix="case1"):
    """Buttons on a case card in the volunteers' group."""

    action: CaseAction
    case: Id
