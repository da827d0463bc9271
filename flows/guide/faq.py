"""Questions and answers: topics to browse, and search for any question the user types."""

from __future__ import annotations

import functools
import html

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.content.faq import Entry, FaqCatalog
from bot.content.guide import Pack
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, Command, HasText, IsCommand
from flows.guide.callbacks import FaqAction, FaqCB
from flows.guide.keyboards import short_label
from flows.handoff.callbacks import HelpAction, HelpCB
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.screens import reply, show_screen


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(FaqCB))
    router.message.register(cmd_faq, Command("faq"))
    router.callback_query.register(on_topics, FaqCB.filter(F.action == FaqAction.TOPICS))
    router.callback_query.register(on_topic, FaqCB.filter(F.action == FaqAction.TOPIC))
    router.callback_query.register(on_entry, FaqCB.filter(F.action == FaqAction.ENTRY))
    # Any text outside a flow is a question (commands are left to the fallback).
    router.message.register(on_question, StateFilter(None), HasText(), ~IsCommand())
    return router


def _catalog(faqs: dict[str, FaqCatalog], locale: str) -> FaqCatalog:
    return faqs.get(locale) or next(iter(faqs.values()))


def _topics_kb(catalog: FaqCatalog) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for topic, title in catalog.topics.items():
        builder.button(text=title, callback_data=FaqCB(action=FaqAction.TOPIC, arg=topic))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return builder.as_markup()


def _topics_text() -> str:
    return _(
        "<b>Questions and answers</b>\nType your question in your own words, or choose a topic:"
    )


async def cmd_faq(message: Message, faqs: dict[str, FaqCatalog], i18n: I18n) -> None:
    """The FAQ's topics."""
    catalog = _catalog(faqs, i18n.current_locale)
    await message.answer(_topics_text(), reply_markup=_topics_kb(catalog))


async def on_topics(callback: CallbackQuery, faqs: dict[str, FaqCatalog], i18n: I18n) -> None:
    """The FAQ's topics, from a button."""
    catalog = _catalog(faqs, i18n.current_locale)
    await show_screen(callback, _topics_text(), _topics_kb(catalog))


async def on_topic(
    callback: CallbackQuery, callback_data: FaqCB, faqs: dict[str, FaqCatalog], i18n: I18n
) -> None:
    """The questions of one topic."""
    catalog = _catalog(faqs, i18n.current_locale)
    if callback_data.arg not in catalog.topics:
        await on_topics(callback, faqs, i18n)
        return
    builder = InlineKeyboardBuilder()
    for entry in catalog.by_topic(callback_data.arg):
        builder.button(
            text=short_label(entry.question),
            callback_data=FaqCB(action=FaqAction.ENTRY, arg=entry.id),
        )
    builder.button(text=_("⬅️ Topics"), callback_data=FaqCB(action=FaqAction.TOPICS))
    builder.adjust(1)
    await show_screen(callback, f"<b>{catalog.topics[callback_data.arg]}</b>", builder.as_markup())


async def on_entry(
    callback: CallbackQuery,
    callback_data: FaqCB,
    faqs: dict[str, FaqCatalog],
    packs: dict[str, Pack],
    i18n: I18n,
) -> None:
    """One answer, with its sources."""
    catalog = _catalog(faqs, i18n.current_locale)
    entry = catalog.entry(callback_data.arg)
    if entry is None:
        await on_topics(callback, faqs, i18n)
        return
    lines = [f"<b>{entry.question}</b>", "", entry.answer]
    cited = [_cite(packs, source_id, i18n.current_locale) for source_id in entry.sources]
    if any(cited):
        lines += ["", "<i>" + _("Sources:") + "</i>"]
        lines += [f"{n}. {link}" for n, link in enumerate(filter(None, cited), start=1)]
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⬅️ Topics"), callback_data=FaqCB(action=FaqAction.TOPIC, arg=entry.topic)
    )
    builder.button(text=_("🏠 Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(2)
    await show_screen(callback, "\n".join(lines), builder.as_markup())


def _cite(packs: dict[str, Pack], source_id: str, locale: str) -> str | None:
    """A source as a link with its title in the user's language, from whichever pack has it."""
    for pack in packs.values():
        if source_id in pack.sources:
            source = pack.sources[source_id]
            title = html.escape(pack.source_title(source_id, locale))
            return f'<a href="{html.escape(source.url)}">{title}</a>'
    return None


async def on_question(
    message: Message,
    user_key: str,
    faqs: dict[str, FaqCatalog],
    record_event: EventRecorder,
    i18n: I18n,
) -> None:
    """A typed question: the three best answers as buttons, or an honest "no match"."""
    catalog = _catalog(faqs, i18n.current_locale)
    found = catalog.search(message.text or "")
    await record_event(EventKind.FAQ_SEARCHED, user_key, hit=bool(found), locale=catalog.locale)
    if found:
        text = _("This may answer your question:")
    else:
        text = _("I could not find an answer to that. Try other words, or browse the topics.")
    await reply(message, text, _answers_kb(get_i18n().current_locale, tuple(found)))


# Built once per language and set of answers, since the same questions come back: the
# builder deep-copies every button each time. Nothing changes a markup once built.
@functools.lru_cache(maxsize=1024)
def _answers_kb(locale: str, found: tuple[Entry, ...]) -> InlineKeyboardMarkup:
    """The answers found, All topics, a volunteer when nothing was found, and the menu."""
    builder = InlineKeyboardBuilder()
    for entry in found:
        builder.button(
            text=short_label(entry.question),
            callback_data=FaqCB(action=FaqAction.ENTRY, arg=entry.id),
        )
    builder.button(text=_("📚 All topics"), callback_data=FaqCB(action=FaqAction.TOPICS))
    if not found:
        builder.button(
            text=_("💬 Talk to a volunteer"), callback_data=HelpCB(action=HelpAction.START)
        )
    builder.button(text=_("🏠 Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return builder.as_markup()
