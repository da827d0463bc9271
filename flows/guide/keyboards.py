"""Inline keyboards of the guide."""

from __future__ import annotations

import html
import re

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.content.documents import DocumentTemplate
from bot.content.guide import Pack
from bot.content.telegram_html import visible_length
from bot.db.guide import Checklist
from bot.i18n import LANGUAGE_NAMES
from flows.guide.callbacks import (
    ChecklistAction,
    ChecklistCB,
    DocAction,
    DocCB,
    GuideAction,
    GuideCB,
)
from flows.onboarding.callbacks import MenuAction, MenuCB

#: Telegram cuts long button labels; keep the step titles readable.
_LABEL_LIMIT = 40
_TAG = re.compile(r"<[^>]+>")


def short_label(label: str) -> str:
    """A button label Telegram shows whole: plain text, cut with an ellipsis when long."""
    label = html.unescape(_TAG.sub("", label))
    return label if visible_length(label) <= _LABEL_LIMIT else label[: _LABEL_LIMIT - 1] + "…"


def step_kb(pack: Pack, index: int, extra: list[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """Back · Next (Finish on the last step), the step's own buttons, then Contents · Menu."""
    builder = InlineKeyboardBuilder()
    navigation = 1
    if index > 0:
        previous = pack.steps[index - 1].id
        builder.button(
            text=_("⬅️ Back"), callback_data=GuideCB(action=GuideAction.STEP, arg=previous)
        )
        navigation = 2
    if index + 1 < len(pack.steps):
        following = pack.steps[index + 1].id
        builder.button(
            text=_("Next ➡️"), callback_data=GuideCB(action=GuideAction.STEP, arg=following)
        )
    else:
        builder.button(text=_("✅ Finish"), callback_data=GuideCB(action=GuideAction.FINISH))
    for label, data in extra:
        builder.button(text=label, callback_data=data)
    builder.button(text=_("📑 Contents"), callback_data=GuideCB(action=GuideAction.CONTENTS))
    builder.button(text=_("🏠 Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(navigation, *([1] * len(extra)), 2)
    return builder.as_markup()


def home_kb(pack: Pack, resume_index: int | None, several_packs: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if resume_index is None:
        builder.button(
            text=_("▶️ Start"), callback_data=GuideCB(action=GuideAction.STEP, arg=pack.steps[0].id)
        )
    else:
        builder.button(
            text=_("▶️ Continue"),
            callback_data=GuideCB(action=GuideAction.STEP, arg=pack.steps[resume_index].id),
        )
        builder.button(
            text=_("⏮ From the beginning"),
            callback_data=GuideCB(action=GuideAction.STEP, arg=pack.steps[0].id),
        )
    builder.button(text=_("📑 Contents"), callback_data=GuideCB(action=GuideAction.CONTENTS))
    builder.button(
        text=_("✅ My checklist"), callback_data=ChecklistCB(action=ChecklistAction.OPEN)
    )
    if several_packs:
        builder.button(
            text=_("🌍 Another country"), callback_data=GuideCB(action=GuideAction.PACKS)
        )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return builder.as_markup()


def contents_kb(pack: Pack, locale: str) -> InlineKeyboardMarkup:
    steps = pack.text(locale).steps
    builder = InlineKeyboardBuilder()
    for number, step in enumerate(pack.steps, start=1):
        builder.button(
            text=short_label(f"{number}. {(steps[step.id].title)}"),
            callback_data=GuideCB(action=GuideAction.STEP, arg=step.id),
        )
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def packs_kb(packs: dict[str, Pack], locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for pack in packs.values():
        builder.button(
            text=short_label(pack.text(locale).title),
            callback_data=GuideCB(action=GuideAction.PACK, arg=pack.id),
        )
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def finished_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ My checklist"), callback_data=ChecklistCB(action=ChecklistAction.OPEN)
    )
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return builder.as_markup()


def checklist_intro_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("▶️ Start"), callback_data=ChecklistCB(action=ChecklistAction.BEGIN))
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def question_kb(pack: Pack, locale: str, index: int) -> InlineKeyboardMarkup:
    question = pack.questions[index]
    labels = pack.text(locale).questions[question.id].options
    builder = InlineKeyboardBuilder()
    for option in question.options:
        builder.button(
            text=labels[option],
            callback_data=ChecklistCB(
                action=ChecklistAction.ANSWER, item=question.id, answer=option
            ),
        )
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def checklist_kb(pack: Pack, locale: str, checklist: Checklist) -> InlineKeyboardMarkup:
    """One row per item: the tick toggle and a 📖 button that opens the step."""
    steps = pack.text(locale).steps
    builder = InlineKeyboardBuilder()
    rows = 0
    for number, item in enumerate(checklist.items, start=1):
        if item not in steps:
            continue
        mark = "✅" if item in checklist.done else "☐"
        builder.button(
            text=short_label(f"{mark} {number}. {(steps[item].checklist)}"),
            callback_data=ChecklistCB(action=ChecklistAction.TICK, item=item),
        )
        builder.button(text="📖", callback_data=GuideCB(action=GuideAction.STEP, arg=item))
        rows += 1
    builder.button(
        text=_("🔁 Answer again"), callback_data=ChecklistCB(action=ChecklistAction.RESET)
    )
    builder.button(text=_("🏠 Guide"), callback_data=GuideCB(action=GuideAction.HOME))
    builder.adjust(*([2] * rows), 2)
    return builder.as_markup()


def documents_kb(documents: dict[str, DocumentTemplate], locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for document in documents.values():
        builder.button(
            text=short_label("📄 " + document.text(locale).title),
            callback_data=DocCB(action=DocAction.OPEN, kind=document.id, lang=""),
        )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return builder.as_markup()


def document_kb(document: DocumentTemplate, lang: str) -> InlineKeyboardMarkup:
    """Blank or fill in, in the chosen language; the other languages; back to the list."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📄 Blank form"),
        callback_data=DocCB(action=DocAction.BLANK, kind=document.id, lang=lang),
    )
    builder.button(
        text=_("✍️ Fill in here first"),
        callback_data=DocCB(action=DocAction.FILL, kind=document.id, lang=lang),
    )
    others = [code for code in document.texts if code != lang]
    for code in others:
        builder.button(
            text=LANGUAGE_NAMES.get(code, code),  # type: ignore[call-overload]
            callback_data=DocCB(action=DocAction.OPEN, kind=document.id, lang=code),
        )
    builder.button(text=_("📄 All documents"), callback_data=DocCB(action=DocAction.LIST))
    builder.adjust(1, 1, len(others) or 1, 1)
    return builder.as_markup()


def field_kb(document: DocumentTemplate, lang: str, index: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏭ Leave blank"),
        callback_data=DocCB(action=DocAction.SKIP, kind=document.id, lang=lang, field=index),
    )
    builder.button(
        text=_("✖️ Stop"), callback_data=DocCB(action=DocAction.CANCEL, kind=document.id, lang=lang)
    )
    builder.adjust(2)
    return builder.as_markup()
