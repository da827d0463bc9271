"""Anything a worker sends outside a flow gets a short, helpful reply: no silence, no crash."""

from __future__ import annotations

import logging

import pytest
from aiogram import methods
from aiogram.fsm.state import State, StatesGroup

from bot.db.users import UsersRepo
from bot.updates import CONTENT_SAMPLES
from tests.conftest import FIRST_NAME, USER_ID, ChatHarness, log_text, texts

EXPIRED = {
    "en": "This button has expired. Send /start for a fresh menu.",
    "ru": "Эта кнопка больше не действует. Отправьте /start, чтобы открыть новое меню.",
    "be": "Гэтая кнопка больш не дзейнічае. Адпраўце /start, каб адкрыць новае меню.",
}


async def test_free_text_outside_a_flow_is_an_faq_question(chat: ChatHarness) -> None:
    [sent] = await chat.feed(chat.user(language_code="en").text("qwzx vbnm plokij"))
    assert isinstance(sent, methods.SendMessage)
    assert "I could not find an answer to that" in sent.text
    assert sent.reply_markup is not None, "a way on: the topics and the menu"


@pytest.mark.parametrize("kind", sorted(CONTENT_SAMPLES))
async def test_every_kind_of_message_gets_a_reply(chat: ChatHarness, kind: str) -> None:
    [sent] = await chat.feed(chat.user(language_code="be").content(kind))
    assert isinstance(sent, methods.SendMessage)
    assert "З такім паведамленнем я тут нічога не магу зрабіць" in sent.text


async def test_unknown_command_names_the_known_ones(chat: ChatHarness) -> None:
    [sent] = await chat.feed(chat.user(language_code="ru").text("/join_union now"))
    assert "Я не знаю такой команды" in sent.text
    assert "/start" in sent.text
    assert "/help" in sent.text


async def test_edited_message_is_acknowledged(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.text("hello"))
    [sent] = await chat.feed(user.edited(chat.api.sent_message_ids[-1] - 1, "hello again"))
    assert "I don't read edited messages" in sent.text


class _Demo(StatesGroup):
    step = State()


async def test_unexpected_input_inside_a_flow_mentions_cancel(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    context = chat.dispatcher.fsm.get_context(chat.bot, user.user_id, user.user_id)
    await context.set_state(_Demo.step)
    for update in (user.text("some text"), user.content("photo"), user.text("/nope")):
        [sent] = await chat.feed(update)
        assert "/cancel" in sent.text


@pytest.mark.parametrize(
    "data",
    [
        "lang1:xx",  # a forged language
        "menu1:delete_everything",  # a forged action
        "menu0:menu",  # an old version of the menu's callback data
        "case1:42",  # a button of a flow that does not exist (yet)
        "",
        "x" * 64,
    ],
)
@pytest.mark.parametrize("locale", ["en", "ru", "be"])
async def test_stale_or_forged_buttons_expire_politely(
    chat: ChatHarness, data: str, locale: str
) -> None:
    calls = await chat.feed(chat.user(language_code=locale).callback(data, message_id=1))
    [answer] = calls
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert answer.text == EXPIRED[locale]


async def test_group_messages_from_outsiders_are_ignored(chat: ChatHarness) -> None:
    user = chat.user()
    for update in (
        user.text("/start", chat_id=-100123, chat_type="supergroup"),
        user.text("hello", chat_id=-100123, chat_type="group"),
        user.content("sticker", chat_id=-100123, chat_type="supergroup"),
        user.callback("menu1:menu", chat_id=-100123, chat_type="supergroup"),
    ):
        assert await chat.feed(update) == []


async def test_a_failing_handler_apologises_in_the_users_language(
    chat: ChatHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret_words = "meeting at gate 3 tomorrow"

    async def broken(self: UsersRepo, key: str) -> None:
        raise RuntimeError(f"database exploded while reading {secret_words} of {USER_ID}")

    user = chat.user(language_code="be")
    await chat.feed(user.text("/start"))
    monkeypatch.setattr(UsersRepo, "get", broken)
    caplog.set_level(logging.DEBUG)

    calls = await chat.feed(user.text(secret_words))

    assert texts(calls) == [
        "Прабачце, у нас нешта пайшло не так. Паспрабуйце яшчэ раз або адпраўце /start."
    ]
    failure = [r for r in caplog.records if r.name == "bot.errors"]
    assert failure, "the failure is logged"
    logged = log_text(caplog)
    assert "RuntimeError" in logged
    for secret in (secret_words, str(USER_ID), FIRST_NAME):
        assert secret not in logged


async def test_a_failing_button_answers_with_an_alert(
    chat: ChatHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: UsersRepo, key: str, locale: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(UsersRepo, "set_locale", broken)
    [answer] = [
        c
        for c in await chat.feed(chat.user(language_code="ru").callback("lang1:be", message_id=1))
        if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert answer.show_alert is True
    assert answer.text is not None
    assert answer.text.startswith("Извините, у нас что-то пошло не так.")
