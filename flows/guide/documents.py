"""Documents: a blank form, or one filled in the chat first. Typed values are never stored."""

from __future__ import annotations

import asyncio
import html
import unicodedata

from aiogram import Bot, F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.content.documents import DocumentTemplate
from bot.drafts import DraftStore
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, Command
from flows.guide.callbacks import DocAction, DocCB
from flows.guide.keyboards import document_kb, documents_kb, field_kb
from flows.guide.states import DocumentSG
from flows.screens import show_screen
from flows.state import drop_data

MAX_FIELD_LENGTH = 200


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(DocCB))
    router.message.register(cmd_documents, Command("documents"))
    router.callback_query.register(on_list, DocCB.filter(F.action == DocAction.LIST))
    router.callback_query.register(on_open, DocCB.filter(F.action == DocAction.OPEN))
    router.callback_query.register(on_blank, DocCB.filter(F.action == DocAction.BLANK))
    router.callback_query.register(on_fill, DocCB.filter(F.action == DocAction.FILL))
    router.callback_query.register(on_skip, DocCB.filter(F.action == DocAction.SKIP))
    router.callback_query.register(on_stop, DocCB.filter(F.action == DocAction.CANCEL))
    return router


def create_form_router() -> Router:
    """While a document is being filled in, every message is an answer, except /cancel and
    /start, which leave the form. Included first, so no other flow takes the text."""
    router = Router(name=f"{__name__}.form")
    router.message.register(on_field_text, StateFilter(DocumentSG.field), ~LeavesAFlow())
    return router


class LeavesAFlow(Filter):
    """Passes /cancel and /start: the commands that leave whatever the user is doing."""

    async def __call__(self, message: Message) -> bool:
        words = (message.text or "").split(maxsplit=1)
        return bool(words) and words[0].split("@")[0] in ("/cancel", "/start")


def field_problem(value: str) -> str | None:
    """Why a typed value cannot go into a document, or None when it can."""
    if not value.strip():
        return _("The answer is empty. Type it again, or tap “Leave blank”.")
    if len(value) > MAX_FIELD_LENGTH:
        return _("That is longer than {limit} characters. Please type a shorter answer.").format(
            limit=MAX_FIELD_LENGTH
        )
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in value):
        return _("The answer contains invisible control characters. Please type it again.")
    return None


FORM_KEYS = ("document", "lang", "field")


def _list_text() -> str:
    return _("<b>Documents</b>\nSample documents to print. Choose one:")


def _document_text(document: DocumentTemplate, lang: str) -> str:
    text = document.text(lang)
    title, description = html.escape(text.title), html.escape(text.description)
    hint = _(
        "Get a blank form to fill in by hand, or type the details here first: "
        "they are used for this one file and are not stored."
    )
    return f"<b>{title}</b>\n{description}\n\n{hint}"


async def cmd_documents(
    message: Message, documents: dict[str, DocumentTemplate], i18n: I18n
) -> None:
    """The list of documents."""
    await message.answer(_list_text(), reply_markup=documents_kb(documents, i18n.current_locale))


async def on_list(
    callback: CallbackQuery, documents: dict[str, DocumentTemplate], i18n: I18n
) -> None:
    """The list of documents, from a button."""
    await show_screen(callback, _list_text(), documents_kb(documents, i18n.current_locale))


async def _document_asked(
    callback: CallbackQuery,
    callback_data: DocCB,
    documents: dict[str, DocumentTemplate],
    i18n: I18n,
) -> tuple[DocumentTemplate, str] | None:
    """The document a button names, and its language; for an unknown one (a stale button from
    an older version) the list of documents instead, and None."""
    document = documents.get(callback_data.kind)
    if document is None or callback.message is None:
        await on_list(callback, documents, i18n)
        return None
    return document, document.text_locale(callback_data.lang or i18n.current_locale)


async def on_open(
    callback: CallbackQuery,
    callback_data: DocCB,
    documents: dict[str, DocumentTemplate],
    i18n: I18n,
) -> None:
    """One document: what it is, and the ways to get it."""
    asked = await _document_asked(callback, callback_data, documents, i18n)
    if asked is None:
        return
    document, lang = asked
    await show_screen(callback, _document_text(document, lang), document_kb(document, lang))


async def _send(
    bot: Bot,
    chat_id: int,
    document: DocumentTemplate,
    lang: str,
    values: dict[str, str],
    user_key: str,
    record_event: EventRecorder,
) -> None:
    text = document.text(lang)
    # python-docx takes ~12 ms: off the event loop, so other users are not kept waiting.
    data = await asyncio.to_thread(document.render, lang, values)
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=f"{text.filename}.docx"),
        caption=f"<b>{html.escape(text.title)}</b>",
        protect_content=True,  # no forwarding or saving from the chat: it may carry a name
    )
    await record_event(
        EventKind.DOCUMENT_GENERATED, user_key, kind=document.id, locale=lang, filled=bool(values)
    )


async def on_blank(
    callback: CallbackQuery,
    callback_data: DocCB,
    bot: Bot,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    record_event: EventRecorder,
    i18n: I18n,
) -> None:
    """Send the document with every field blank."""
    asked = await _document_asked(callback, callback_data, documents, i18n)
    if asked is None or callback.message is None:
        return
    document, lang = asked
    await _send(bot, callback.message.chat.id, document, lang, {}, user_key, record_event)
    await callback.answer()


async def _ask(
    bot: Bot, chat_id: int, document: DocumentTemplate, lang: str, index: int, note: str = ""
) -> None:
    text = document.text(lang)
    field_id = document.fields[index]
    position = _("Field {number} of {total}").format(number=index + 1, total=len(document.fields))
    prompt = f"{note}<i>{position}</i>\n<b>{html.escape(text.prompts[field_id])}</b>"
    await bot.send_message(chat_id, prompt, reply_markup=field_kb(document, lang, index))


async def on_fill(
    callback: CallbackQuery,
    callback_data: DocCB,
    state: FSMContext,
    bot: Bot,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    drafts: DraftStore,
    i18n: I18n,
) -> None:
    """Ask the document's fields one by one; the answers stay in memory only."""
    asked = await _document_asked(callback, callback_data, documents, i18n)
    if asked is None or callback.message is None:
        return
    document, lang = asked
    drafts.start(user_key, document.id, lang)
    await state.set_state(DocumentSG.field)
    await state.update_data({"document": document.id, "lang": lang, "field": 0})
    count = len(document.fields)
    intro = _(
        "I will ask {count} question. Type the answer, or tap “Leave blank”.",
        "I will ask {count} questions. Type each answer, or tap “Leave blank”.",
        count,
    ).format(count=count)
    await _ask(bot, callback.message.chat.id, document, lang, 0, note=intro + "\n\n")
    await callback.answer()


async def _advance(
    message: Message,
    state: FSMContext,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    drafts: DraftStore,
    record_event: EventRecorder,
    bot: Bot,
    value: str | None,
) -> None:
    """Store the answer to the current field (in memory), then ask the next or send the file."""
    data = await state.get_data()
    document = documents.get(str(data.get("document")))
    draft = drafts.get(user_key)
    index = int(data.get("field", 0))
    if document is None or index >= len(document.fields):
        # The content changed under a form in progress: start it again or give up cleanly.
        await state.set_state(None)
        await drop_data(state, *FORM_KEYS)
        drafts.drop(user_key)
        await message.answer(_("This document is no longer available. Send /documents."))
        return
    lang = str(data.get("lang"))
    chat_id = message.chat.id
    if draft is None or draft.document != document.id:
        # A restart (or 30 minutes of silence) forgot the answers: they were never stored.
        draft = drafts.start(user_key, document.id, lang)
        if index > 0:
            await state.update_data({"field": 0})
            note = _(
                "Your earlier answers were not kept (they are never stored). Let's start again."
            )
            await _ask(bot, chat_id, document, lang, 0, note=note + "\n\n")
            return
    if value is not None:
        drafts.put(user_key, document.fields[index], value.strip())
    if index + 1 < len(document.fields):
        await state.update_data({"field": index + 1})
        await _ask(bot, chat_id, document, lang, index + 1)
        return
    values = dict(draft.values)
    drafts.drop(user_key)
    await state.set_state(None)
    await drop_data(state, *FORM_KEYS)
    await _send(bot, chat_id, document, lang, values, user_key, record_event)


async def on_field_text(
    message: Message,
    state: FSMContext,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    drafts: DraftStore,
    record_event: EventRecorder,
    bot: Bot,
) -> None:
    """A typed answer to the current field, checked before it is used."""
    if message.text is None:
        await message.answer(_("Please type the answer as text, or tap “Leave blank”."))
        return
    if message.text.startswith("/"):
        await message.answer(
            _("You are filling in a document. Type the answer, or send /cancel to stop.")
        )
        return
    problem = field_problem(message.text)
    if problem is not None:
        await message.answer(problem)
        return
    await _advance(message, state, user_key, documents, drafts, record_event, bot, message.text)


async def on_skip(
    callback: CallbackQuery,
    callback_data: DocCB,
    state: FSMContext,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    drafts: DraftStore,
    record_event: EventRecorder,
    bot: Bot,
) -> None:
    """Leave the current field blank (to be filled by hand); a stale button does nothing."""
    data = await state.get_data()
    current = (
        await state.get_state() == DocumentSG.field.state
        and data.get("document") == callback_data.kind
        and data.get("field") == callback_data.field
    )
    if not current or not isinstance(callback.message, Message):
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    await callback.answer()
    await _advance(callback.message, state, user_key, documents, drafts, record_event, bot, None)


async def on_stop(
    callback: CallbackQuery,
    callback_data: DocCB,
    state: FSMContext,
    user_key: str,
    documents: dict[str, DocumentTemplate],
    drafts: DraftStore,
    i18n: I18n,
) -> None:
    """Stop filling in: forget the answers and go back to the document."""
    drafts.drop(user_key)
    if await state.get_state() == DocumentSG.field.state:
        await state.set_state(None)
        await drop_data(state, *FORM_KEYS)
    await on_open(callback, callback_data, documents, i18n)
