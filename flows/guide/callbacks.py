"""Typed callback data for the guide. Ids come from the packs and are at most 24 characters,
so every button stays under Telegram's 64-byte limit."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class GuideAction(StrEnum):
    HOME = "home"
    STEP = "step"
    CONTENTS = "toc"
    FINISH = "end"
    PACKS = "packs"
    PACK = "pack"


class GuideCB(CallbackData, prefix="guide1"):
    """Navigation: ``arg`` is a step id (STEP) or a pack id (PACK)."""

    action: GuideAction
    arg: str = ""


class ChecklistAction(StrEnum):
    OPEN = "open"
    BEGIN = "begin"
    ANSWER = "ans"
    TICK = "tick"
    RESET = "reset"


class ChecklistCB(CallbackData, prefix="check1"):
    """The questionnaire and the checklist: ``item`` is a question or step id."""

    action: ChecklistAction
    item: str = ""
    answer: str = ""


class DocAction(StrEnum):
    LIST = "list"
    OPEN = "open"
    BLANK = "blank"
    FILL = "fill"
    SKIP = "skip"
    CANCEL = "cancel"


class DocCB(CallbackData, prefix="doc1"):
    """Documents: ``kind`` is a document id, ``lang`` the language of the file, ``field`` the
    field a "Leave blank" button was shown for (a stale one must not skip another field)."""

    action: DocAction
    kind: str = ""
    lang: str = ""
    field: Annotated[int, Field(ge=-1, lt=100)] = -1


class FaqAction(StrEnum):
    TOPICS = "topics"
    TOPIC = "topic"
    ENTRY = "entry"


class FaqCB(CallbackData, prefix="faq1"):
    """The FAQ: ``arg`` is a topic id (TOPIC) or an entry id (ENTRY)."""

    action: FaqAction
    arg: str = ""
