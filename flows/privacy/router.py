"""/mydata, /forget, /wipe, /safety and the privacy screen of the main menu."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.db.privacy import PrivacyRepo
from bot.db.recent import RecentMessages
from bot.db.retention import RetentionRepo
from bot.db.users import User
from bot.drafts import DraftStore
from bot.events import EventRecorder
from bot.filters import ButtonsOf, Command, CommandsOf, command_name
from bot.templating import Templates
from flows.handoff.desk import Desk
from flows.handoff.router import DeskMiddleware
from flows.match.circles import Circles
from flows.match.middleware import CirclesMiddleware
from flows.onboarding.keyboards import back_to_menu_kb
from flows.privacy.callbacks import PrivacyAction, PrivacyCB
from flows.privacy.forget import forget_user
from flows.privacy.keyboards import back_to_privacy_kb, forget_kb, privacy_kb
from flows.privacy.mydata import MyData
from flows.privacy.screens import privacy_text
from flows.privacy.wipe import wipe_chat
from flows.screens import show_screen

#: Commands that must work however fast a frightened user types.
PRIVACY_COMMANDS = ("privacy", "mydata", "safety", "wipe", "forget")
_PRIVACY_BUTTONS = ButtonsOf(PrivacyCB)


def is_privacy_update(update: Update) -> bool:
    """A privacy command or button: never throttled (see bot/throttle.py)."""
    if update.message is not None:
        return command_name(update.message.text) in PRIVACY_COMMANDS
    data = update.callback_query.data if update.callback_query else None
    return data is not None and data.startswith(_PRIVACY_BUTTONS.prefixes)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(CommandsOf(*PRIVACY_COMMANDS))
    router.callback_query.filter(_PRIVACY_BUTTONS)
    for middleware in (DeskMiddleware(), CirclesMiddleware()):
        router.message.middleware(middleware)
        router.callback_query.middleware(middleware)
    router.message.register(cmd_privacy, Command("privacy"))
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_safety, Command("safety"))
    router.message.register(cmd_wipe, Command("wipe"))
    router.message.register(cmd_forget, Command("forget"))
    for action, handler in (
        (PrivacyAction.MENU, on_privacy),
        (PrivacyAction.MYDATA, on_mydata),
        (PrivacyAction.SAFETY, on_safety),
        (PrivacyAction.WIPE, on_wipe),
        (PrivacyAction.FORGET, on_forget),
        (PrivacyAction.FORGET_SURE, on_forget_sure),
        (PrivacyAction.FORGET_AND_WIPE, on_forget_sure),
    ):
        router.callback_query.register(handler, PrivacyCB.filter(F.action == action))
    return router


async def cmd_privacy(message: Message, templates: Templates, settings: Settings) -> None:
    """What the bot stores, never stores, and the buttons to see, wipe or delete it."""
    await message.answer(privacy_text(templates, settings), reply_markup=privacy_kb())


async def on_privacy(callback: CallbackQuery, templates: Templates, settings: Settings) -> None:
    """Back to the privacy screen."""
    await show_screen(callback, privacy_text(templates, settings), privacy_kb())


async def _mydata_text(
    user_key: str, user: User | None, templates: Templates, data: MyData, recent: RecentMessages
) -> str:
    await recent.flush()  # ids still in memory count too
    return templates.render("privacy/mydata.html.j2", **await data.collect(user_key, user))


async def cmd_mydata(
    message: Message,
    user_key: str,
    user: User | None,
    templates: Templates,
    mydata: MyData,
    recent: RecentMessages,
) -> None:
    """Everything stored about the user, in plain words."""
    text = await _mydata_text(user_key, user, templates, mydata, recent)
    await message.answer(text, reply_markup=back_to_privacy_kb(with_forget=user is not None))


async def on_mydata(
    callback: CallbackQuery,
    user_key: str,
    user: User | None,
    templates: Templates,
    mydata: MyData,
    recent: RecentMessages,
) -> None:
    """The "My data" button."""
    text = await _mydata_text(user_key, user, templates, mydata, recent)
    await show_screen(callback, text, back_to_privacy_kb(with_forget=user is not None))


async def cmd_safety(message: Message, templates: Templates) -> None:
    """Staying safe: the phone, the account, this chat."""
    await message.answer(
        templates.render("privacy/safety.html.j2"), reply_markup=back_to_privacy_kb()
    )


async def on_safety(callback: CallbackQuery, templates: Templates) -> None:
    """The "Staying safe" button (also linked from the guide's first step)."""
    await show_screen(callback, templates.render("privacy/safety.html.j2"), back_to_privacy_kb())


async def _wipe(
    bot: Bot, chat_id: int, user_key: str, recent: RecentMessages, templates: Templates
) -> None:
    if await wipe_chat(bot, chat_id, user_key, recent):
        text = templates.render("privacy/wiped.html.j2")
    else:
        text = _("Telegram could not be reached, so not everything was deleted.")
        text += " " + _("Try /wipe again in a minute.")
    await bot.send_message(chat_id, text, reply_markup=back_to_menu_kb())


async def cmd_wipe(
    message: Message, bot: Bot, user_key: str, recent: RecentMessages, templates: Templates
) -> None:
    """The panic button: no question asked, the recent messages go at once."""
    await _wipe(bot, message.chat.id, user_key, recent, templates)


async def on_wipe(
    callback: CallbackQuery, bot: Bot, user_key: str, recent: RecentMessages, templates: Templates
) -> None:
    """The "Wipe this chat" button."""
    assert callback.message is not None  # private chats only: the parent router's filter
    await callback.answer()
    await _wipe(bot, callback.message.chat.id, user_key, recent, templates)


def _forget_screen(user: User | None, templates: Templates) -> tuple[str, InlineKeyboardMarkup]:
    """The question, or for someone who never started the bot, that nothing is stored; the
    caller shows it, then calls :func:`_drop_a_strangers_traces` if there was no user."""
    if user is None:
        return _("The bot stores nothing about you."), back_to_menu_kb()
    return templates.render("privacy/forget.html.j2"), forget_kb()


async def _drop_a_strangers_traces(
    user_key: str, state: FSMContext, recent: RecentMessages
) -> None:
    """Message ids (the answer's just sent included) and a half-begun step: then "nothing"
    is true."""
    await state.clear()
    await recent.drop(user_key)


async def cmd_forget(
    message: Message,
    user_key: str,
    user: User | None,
    state: FSMContext,
    recent: RecentMessages,
    templates: Templates,
) -> None:
    """Ask before deleting everything: it cannot be undone."""
    text, keyboard = _forget_screen(user, templates)
    await message.answer(text, reply_markup=keyboard)
    if user is None:
        await _drop_a_strangers_traces(user_key, state, recent)


async def on_forget(
    callback: CallbackQuery,
    user_key: str,
    user: User | None,
    state: FSMContext,
    recent: RecentMessages,
    templates: Templates,
) -> None:
    """The "Delete all my data" button: the same question."""
    text, keyboard = _forget_screen(user, templates)
    await show_screen(callback, text, keyboard)
    if user is None:
        await _drop_a_strangers_traces(user_key, state, recent)


async def on_forget_sure(
    callback: CallbackQuery,
    callback_data: PrivacyCB,
    bot: Bot,
    state: FSMContext,
    user_key: str,
    user: User | None,
    templates: Templates,
    desk: Desk,
    circle_ops: Circles,
    privacy: PrivacyRepo,
    recent: RecentMessages,
    drafts: DraftStore,
    record_event: EventRecorder,
) -> None:
    """Delete everything; with the wipe, the chat's recent messages go first."""
    assert callback.message is not None
    chat_id = callback.message.chat.id
    wiped = callback_data.action == PrivacyAction.FORGET_AND_WIPE
    if wiped:
        await callback.answer()
        await wipe_chat(bot, chat_id, user_key, recent)
    if user is not None:
        await forget_user(
            user_key,
            chat_id,
            bot=bot,
            state=state,
            desk=desk,
            circle_ops=circle_ops,
            privacy=privacy,
            retention=RetentionRepo(privacy.db),
            recent=recent,
            drafts=drafts,
            record_event=record_event,
        )
    text = templates.render("privacy/forgotten.html.j2", wiped=wiped)
    if wiped:
        await bot.send_message(chat_id, text)
    else:
        await show_screen(callback, text)  # sends anew if the message can no longer be edited
    await recent.drop(user_key)  # the id of a last message, noted as it went out
