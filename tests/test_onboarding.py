"""/start, the menu, /language, /help and /cancel, through the production dispatcher."""

from __future__ import annotations

import pytest
from aiogram import methods
from aiogram.fsm.state import State, StatesGroup

from bot.app import Services
from bot.config import Settings
from bot.db.events import EventsRepo
from flows.onboarding.callbacks import LanguageCB, LanguageCode, MenuAction, MenuCB
from tests.conftest import ChatHarness, buttons

GREETING = {
    "ru": "Здравствуйте! Это Суполка.",
    "be": "Вітаем! Гэта Суполка.",
    "en": "Hello! This is Supolka.",
}
MENU_LANGUAGE_BUTTON = {"ru": "🌐 Язык", "be": "🌐 Мова", "en": "🌐 Language"}


@pytest.mark.parametrize(
    ("language_code", "locale"),
    [("ru", "ru"), ("be", "be"), ("en", "en"), ("uk", "ru"), ("de", "en"), ("be-BY", "be")],
)
async def test_start_answers_in_the_telegram_language(
    chat: ChatHarness, language_code: str, locale: str
) -> None:
    calls = await chat.feed(chat.user(language_code=language_code).text("/start"))

    [sent] = calls
    assert isinstance(sent, methods.SendMessage)
    assert GREETING[locale] in sent.text
    assert MENU_LANGUAGE_BUTTON[locale] in [label for label, _ in buttons(sent)]


async def test_start_without_a_telegram_language_uses_the_default(chat: ChatHarness) -> None:
    [sent] = await chat.feed(chat.user(language_code=None).text("/start"))
    assert GREETING["ru"] in sent.text  # the settings' default_locale is ru


async def test_second_start_welcomes_back(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.text("/start"))
    [sent] = await chat.feed(user.text("/start"))
    assert "Welcome back to Supolka." in sent.text


async def test_start_records_one_user_started_event(chat: ChatHarness, services: Services) -> None:
    user = chat.user()
    await chat.feed(user.text("/start"))
    await chat.feed(user.text("/start"))
    assert await EventsRepo(services.db).count("user_started") == 1
    assert await services.users.count() == 1


async def test_start_explains_what_is_and_is_not_stored(chat: ChatHarness) -> None:
    [sent] = await chat.feed(chat.user(language_code="ru").text("/start"))
    assert "никогда — текста ваших сообщений" in sent.text
    assert "/language" in sent.text


async def test_language_switch_persists_across_a_restart(settings: Settings) -> None:
    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="en")
        await chat.feed(user.text("/start"))

        [keyboard] = await chat.feed(user.text("/language"))
        labels = [label for label, _ in buttons(keyboard)]
        assert {"Беларуская", "Русский", "English"} <= set(labels)

        chosen = LanguageCB(code=LanguageCode.BE).pack()
        keyboard_id = chat.api.sent_message_ids[-1]
        calls = await chat.feed(user.callback(chosen, message_id=keyboard_id))
        [edited] = [c for c in calls if isinstance(c, methods.EditMessageText)]
        assert edited.message_id == keyboard_id
        assert "Мова: Беларуская." in (edited.text or "")
        [scoped] = [c for c in calls if isinstance(c, methods.SetMyCommands)]
        assert scoped.scope is not None
        assert scoped.commands[0].description == "Галоўнае меню"
    finally:
        await services.close()

    # A new process: new services, new dispatcher, same database and key file.
    reopened = await Services.open(settings)
    try:
        restarted = ChatHarness(reopened)
        [sent] = await restarted.feed(restarted.user(language_code="en").text("/start"))
        assert "Вітаем зноў у Суполцы." in sent.text
    finally:
        await reopened.close()


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (MenuAction.PRIVACY, "What the bot never stores"),
        (MenuAction.HELP, "How to use Supolka"),
        (MenuAction.LANGUAGE, "Choose the language:"),
        (MenuAction.MENU, "Main menu."),
    ],
)
async def test_menu_buttons_open_their_screens_in_place(
    chat: ChatHarness, action: MenuAction, expected: str
) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.text("/start"))
    menu_id = chat.api.sent_message_ids[-1]
    calls = await chat.feed(user.callback(MenuCB(action=action).pack(), message_id=menu_id))
    [edit] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert edit.message_id == menu_id
    assert expected in (edit.text or "")
    assert buttons(edit), "every screen has a way back"
    assert any(isinstance(c, methods.AnswerCallbackQuery) for c in calls)


async def test_help_lists_the_commands_in_belarusian(chat: ChatHarness) -> None:
    [sent] = await chat.feed(chat.user(language_code="be").text("/help"))
    assert "Як карыстацца Суполкай" in sent.text
    for command in ("/start", "/language", "/cancel", "/help"):
        assert command in sent.text


class _Demo(StatesGroup):
    step = State()


async def test_cancel_leaves_a_flow(chat: ChatHarness, services: Services) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.text("/start"))
    [sent] = await chat.feed(user.text("/cancel"))
    assert sent.text.startswith("There is nothing to cancel.")

    context = chat.dispatcher.fsm.get_context(chat.bot, user.user_id, user.user_id)
    await context.set_state(_Demo.step)
    [sent] = await chat.feed(user.text("/cancel"))
    assert sent.text.startswith("Cancelled.")
    assert await context.get_state() is None


async def test_start_leaves_a_flow(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    context = chat.dispatcher.fsm.get_context(chat.bot, user.user_id, user.user_id)
    await context.set_state(_Demo.step)
    await chat.feed(user.text("/start"))
    assert await context.get_state() is None


async def test_language_chosen_before_start_registers_the_user(
    chat: ChatHarness, services: Services
) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.callback(LanguageCB(code=LanguageCode.RU).pack(), message_id=1))
    stored = await services.users.get(services.identity.user_key(user.user_id))
    assert stored is not None
    assert stored.locale == "ru"
    assert await EventsRepo(services.db).count("language_set") == 1
