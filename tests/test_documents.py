"""Documents: every template in every language opens in python-docx with the values filled;
the fill-in flow checks each answer and never stores one."""

from __future__ import annotations

import io

import pytest
from aiogram import methods
from aiogram.types import BufferedInputFile
from docx import Document

from bot.app import Services
from bot.config import Settings
from bot.content.documents import BLANK, load_documents
from bot.updates import UpdateFactory
from flows.guide.callbacks import DocAction, DocCB
from tests.conftest import ChatHarness, all_events, buttons, edits

DOCUMENTS = load_documents()
KINDS = ["membership_application", "founding_minutes", "employer_notice", "leave_state_union"]


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


def test_the_four_documents_in_guide_order() -> None:
    assert list(DOCUMENTS) == KINDS
    for document in DOCUMENTS.values():
        assert {"ru", "be"} <= set(document.texts), "ru and be, for handing in"
        assert "en" in document.texts, "en, as a reference translation"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("locale", ["ru", "be", "en"])
def test_every_document_opens_with_the_values_filled(kind: str, locale: str) -> None:
    document = DOCUMENTS[kind]
    values = {field: f"Value-{field}-Ўі" for field in document.fields}
    text = _text(document.render(locale, values))
    for value in values.values():
        assert value in text
    assert "{" not in text, "no placeholder left"
    assert document.text(locale).disclaimer in text


@pytest.mark.parametrize("kind", KINDS)
def test_a_blank_document_has_lines_to_write_on(kind: str) -> None:
    text = _text(DOCUMENTS[kind].render("be", {}))
    assert BLANK in text
    assert "{" not in text


def test_the_two_applications_to_leave_are_on_separate_pages() -> None:
    data = DOCUMENTS["leave_state_union"].render("ru", {})
    xml = Document(io.BytesIO(data)).element.xml
    assert 'w:type="page"' in xml


def _sent_document(calls: list[object]) -> methods.SendDocument:
    [sent] = [c for c in calls if isinstance(c, methods.SendDocument)]
    return sent


async def test_a_blank_form_is_sent_protected(chat: ChatHarness, services: Services) -> None:
    user = chat.user(language_code="be")
    [listing] = await chat.feed(user.text("/documents"))
    labels = [label for label, _ in buttons(listing)]
    assert labels[0].startswith("📄 "), "documents first, the way back last"
    message_id = chat.api.sent_message_ids[-1]
    open_ = DocCB(action=DocAction.OPEN, kind="membership_application").pack()
    [screen] = edits(await chat.feed(user.callback(open_, message_id=message_id)))
    blank = DocCB(action=DocAction.BLANK, kind="membership_application", lang="be").pack()
    assert blank in [d for _, d in buttons(screen)]

    sent = _sent_document(await chat.feed(user.callback(blank, message_id=message_id)))
    assert sent.protect_content is True
    assert isinstance(sent.document, BufferedInputFile)
    assert (sent.document.filename or "").endswith(".docx")
    assert BLANK in _text(sent.document.data)
    [event] = [e for e in await all_events(services) if e.kind == "document_generated"]
    assert event.fields == {"kind": "membership_application", "locale": "be", "filled": False}


async def _start_filling(chat: ChatHarness, user: UpdateFactory, kind: str, lang: str) -> str:
    fill = DocCB(action=DocAction.FILL, kind=kind, lang=lang).pack()
    calls = await chat.feed(user.callback(fill, message_id=1))
    [prompt] = [c for c in calls if isinstance(c, methods.SendMessage)]
    return prompt.text


async def test_filling_in_the_chat(settings: Settings) -> None:
    services = await Services.open(settings)
    document = DOCUMENTS["membership_application"]
    typed = {
        "union": "Прафсаюз работнікаў хімічнай прамысловасці",
        "organisation": "ППА «Азот»",
        "enterprise": "ААТ «Гродна Азот»",
        "full_name": "Ульяна Цішкевіч",
        "position": "аператар",
        "date": "12.03.2026",
    }
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="be")
        first = await _start_filling(chat, user, "membership_application", "be")
        assert "Я задам 7 пытанняў" in first
        assert document.text("be").prompts[document.fields[0]] in first
        for index, field in enumerate(document.fields):
            if field == "department":
                skip = DocCB(
                    action=DocAction.SKIP, kind=document.id, lang="be", field=index
                ).pack()
                calls = await chat.feed(user.callback(skip, message_id=1))
            else:
                calls = await chat.feed(user.text(typed[field]))
        sent = _sent_document(calls)
        assert sent.protect_content is True
        text = _text(sent.document.data)  # type: ignore[union-attr]
        for value in typed.values():
            assert value in text
        assert BLANK in text, "the skipped field is left to fill by hand"
        assert len(services.drafts) == 0, "the values are gone once the file is sent"
        [event] = [e for e in await all_events(services) if e.kind == "document_generated"]
        assert event.fields["filled"] is True
    finally:
        await services.close()

    raw = b"".join(
        p.read_bytes() for p in settings.database_path.parent.iterdir() if "sqlite3" in p.name
    )
    for value in typed.values():
        assert value.encode() not in raw, "typed values are never stored"


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("x" * 201, "longer than 200 characters"),
        ("Ulyana\x07", "invisible control characters"),
        ("Ulyana\u200b", "invisible control characters"),
        ("   ", "The answer is empty"),
    ],
)
async def test_a_bad_answer_is_asked_again(chat: ChatHarness, typed: str, complaint: str) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    [reply] = await chat.feed(user.text(typed))
    assert complaint in reply.text
    [prompt] = await chat.feed(user.text("Director Ivanov"))
    assert "Field 2 of 7" in prompt.text, "the same field was asked again, then the next"


async def test_non_text_while_filling_is_explained(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    [reply] = await chat.feed(user.content("sticker"))
    assert "type the answer as text" in reply.text


async def test_exactly_200_characters_are_accepted(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    [prompt] = await chat.feed(user.text("y" * 200))
    assert "Field 2 of 7" in prompt.text


async def test_stop_forgets_the_answers(chat: ChatHarness, services: Services) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    await chat.feed(user.text("Director Ivanov"))
    stop = DocCB(action=DocAction.CANCEL, kind="employer_notice", lang="en").pack()
    [screen] = edits(await chat.feed(user.callback(stop, message_id=1)))
    assert "Notice" in (screen.text or "") or "notice" in (screen.text or "")
    assert len(services.drafts) == 0
    [reply] = await chat.feed(user.text("what is a local?"))
    assert "This may answer your question:" in reply.text, "back outside the form"


async def test_a_restart_while_filling_starts_the_form_again(settings: Settings) -> None:
    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="ru")
        await _start_filling(chat, user, "employer_notice", "ru")
        await chat.feed(user.text("Иванову И. И."))
    finally:
        await services.close()

    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        [reply] = await chat.feed(chat.user(language_code="ru").text("ОАО «Завод»"))
        assert "Ваши прежние ответы не сохранились" in reply.text
        assert "Поле 1 из 7" in reply.text
    finally:
        await services.close()


async def test_commands_while_filling_get_a_hint_not_a_field(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    for command in ("/guide", "/faq", "/documents", "/help"):
        [reply] = await chat.feed(user.text(command))
        assert "You are filling in a document" in reply.text, command
    [prompt] = await chat.feed(user.text("Director Ivanov"))
    assert "Field 2 of 7" in prompt.text, "the form is where it was"


async def test_cancel_and_start_leave_the_form_and_forget_the_answers(
    chat: ChatHarness, services: Services
) -> None:
    user = chat.user(language_code="en")
    for leave in ("/cancel", "/start"):
        await _start_filling(chat, user, "employer_notice", "en")
        await chat.feed(user.text("Director Ivanov"))
        assert len(services.drafts) == 1
        await chat.feed(user.text(leave))
        assert len(services.drafts) == 0, leave
        [reply] = await chat.feed(user.text("how many founders do we need?"))
        assert "This may answer your question:" in reply.text, "outside the form again"


async def test_a_stale_leave_blank_button_skips_nothing(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    await chat.feed(user.text("Director Ivanov"))  # now at field 2 (index 1)
    for stale in (
        DocCB(action=DocAction.SKIP, kind="employer_notice", lang="en", field=0),
        DocCB(action=DocAction.SKIP, kind="membership_application", lang="en", field=1),
    ):
        [answer] = await chat.feed(user.callback(stale.pack(), message_id=1))
        assert isinstance(answer, methods.AnswerCallbackQuery)
        assert answer.text == "This button has expired. Send /start for a fresh menu."
    [prompt] = await chat.feed(user.text("OJSC Plant"))
    assert "Field 3 of 7" in prompt.text


async def test_the_form_leaves_no_conversation_row_behind(
    chat: ChatHarness, services: Services
) -> None:
    user = chat.user(language_code="en")
    await _start_filling(chat, user, "employer_notice", "en")
    stop = DocCB(action=DocAction.CANCEL, kind="employer_notice", lang="en").pack()
    await chat.feed(user.callback(stop, message_id=1))
    row = await services.db.fetchone("SELECT COUNT(*) FROM fsm_state")
    assert row is not None
    assert row[0] == 0
