"""Onboarding: /start, the main menu, /language, /help, /cancel."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.db.users import User, UsersRepo
from bot.drafts import DraftStore
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, Command, CommandsOf, CommandStart
from bot.i18n import LANGUAGE_NAMES
from bot.identity import Identity
from bot.templating import Templates
from flows.commands import publish_chat_commands
from flows.onboarding.callbacks import LanguageCB, MenuAction, MenuCB
from flows.onboarding.keyboards import back_to_menu_kb, language_kb, main_menu_kb
from flows.privacy.keyboards import privacy_kb
from flows.privacy.screens import privacy_text
from flows.screens import reply, show_screen

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(CommandsOf("start", "help", "language", "cancel"))
    router.callback_query.filter(ButtonsOf(MenuCB, LanguageCB))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_language, Command("language"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_menu_button, MenuCB.filter())
    router.callback_query.register(on_language_chosen, LanguageCB.filter())
    return router


async def ensure_user(
    chat_id: int,
    user_key: str,
    users: UsersRepo,
    identity: Identity,
    record_event: EventRecorder,
    i18n: I18n,
    clock: Clock,
) -> tuple[User, bool]:
    """The stored user, registered on first contact (the one place a user row is created)."""
    user, created = await users.get_or_create(
        user_key, identity.seal_chat(chat_id, user_key), clock().date(), i18n.current_locale
    )
    if created:
        await record_event(EventKind.USER_STARTED, user_key, locale=i18n.current_locale)
    return user, created


async def cmd_start(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    user_key: str,
    users: UsersRepo,
    identity: Identity,
    record_event: EventRecorder,
    i18n: I18n,
    templates: Templates,
    clock: Clock,
    drafts: DraftStore,
) -> None:
    """Greet, say what the bot does and stores, show the main menu; leaves any flow."""
    # The state read for this update: most /start come from users in no flow at all.
    if raw_state is not None:
        await state.set_state(None)
    await state.set_data({})
    drafts.drop(user_key)  # a document being filled in is forgotten with the flow
    _user, created = await ensure_user(
        message.chat.id, user_key, users, identity, record_event, i18n, clock
    )
    text = templates.render_variant(
        "onboarding/start.html.j2",
        returning=not created,
        language_name=LANGUAGE_NAMES[i18n.current_locale],  # type: ignore[index]
    )
    await reply(message, text, main_menu_kb())


async def cmd_help(message: Message, templates: Templates) -> None:
    """What the commands do, and one safety tip."""
    await reply(message, templates.render("onboarding/help.html.j2"), back_to_menu_kb())


async def cmd_language(message: Message, templates: Templates) -> None:
    """Offer the three languages, each named in itself."""
    await message.answer(
        templates.render("onboarding/language.html.j2"), reply_markup=language_kb()
    )


async def cmd_cancel(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    templates: Templates,
    drafts: DraftStore,
    user_key: str,
) -> None:
    """Leave whatever flow the user is in and show the menu."""
    drafts.drop(user_key)
    # raw_state: the state aiogram read for this update (its lock keeps it current).
    if raw_state is None and not await state.get_data():
        note = _("There is nothing to cancel.")
    else:
        await state.clear()
        note = _("Cancelled.")
    menu = templates.render("onboarding/menu.html.j2")
    await reply(message, f"{note}\n\n{menu}", main_menu_kb())


async def on_menu_button(
    callback: CallbackQuery,
    callback_data: MenuCB,
    templates: Templates,
    state: FSMContext,
    raw_state: str | None,
    settings: Settings,
) -> None:
    """A main-menu entry: each opens its screen in the same message."""
    if callback_data.action == MenuAction.MENU and raw_state is not None:
        await state.set_state(None)  # the menu leaves whatever step the user was on
    match callback_data.action:
        case MenuAction.MENU:
            await show_screen(
                callback, templates.render("onboarding/menu.html.j2"), main_menu_kb()
            )
        case MenuAction.LANGUAGE:
            await show_screen(
                callback, templates.render("onboarding/language.html.j2"), language_kb()
            )
        case MenuAction.HELP:
            await show_screen(
                callback, templates.render("onboarding/help.html.j2"), back_to_menu_kb()
            )
        case MenuAction.PRIVACY:
            await show_screen(callback, privacy_text(templates, settings), privacy_kb())


async def on_language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageCB,
    bot: Bot,
    user_key: str,
    users: UsersRepo,
    identity: Identity,
    record_event: EventRecorder,
    i18n: I18n,
    templates: Templates,
    clock: Clock,
) -> None:
    """Store the language, switch to it at once, and show the menu in it."""
    assert callback.message is not None  # ChatTypeFilter on the parent router guarantees it
    chat_id = callback.message.chat.id
    locale = callback_data.code.value
    await ensure_user(chat_id, user_key, users, identity, record_event, i18n, clock)
    await users.set_locale(user_key, locale)
    await record_event(EventKind.LANGUAGE_SET, user_key, locale=locale)
    i18n.current_locale = locale  # the rest of this update speaks the new language
    text = _("Language: {language}.").format(language=LANGUAGE_NAMES[callback_data.code.value])
    await show_screen(
        callback, f"{text}\n\n{templates.render('onboarding/menu.html.j2')}", main_menu_kb()
    )
    try:
        await publish_chat_commands(bot, i18n, chat_id, locale)
    except TelegramAPIError as error:  # the menu of commands is a nicety, never a failure
        log.warning("could not set the chat's commands: %s", type(error).__name__)
