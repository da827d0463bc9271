"""Naming the enterprise: free text in any script, confirmation, consent, and the status."""

from __future__ import annotations

import html
import unicodedata

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.db.circles import CirclesRepo
from bot.db.enterprises import Enterprise, EnterprisesRepo
from bot.events import EventKind, EventRecorder
from bot.matching import Confidence, EnterpriseIndex, skeleton
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from flows.match.circles import Circles, JoinResult, Outcome
from flows.match.states import MatchSG
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.screens import show_screen
from flows.state import drop_data

MIN_NAME, MAX_NAME = 2, 120
MAX_CITY = 60


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_coworkers, Command("coworkers"))
    for action, handler in (
        (MatchAction.START, on_start),
        (MatchAction.PICK, on_pick),
        (MatchAction.NONE, on_none),
        (MatchAction.AGREE, on_agree),
        (MatchAction.CANCEL, on_cancel),
        (MatchAction.WITHDRAW, on_withdraw),
    ):
        router.callback_query.register(handler, MatchCB.filter(F.action == action))
    router.message.register(on_enterprise_name, StateFilter(MatchSG.enterprise))
    router.message.register(on_city, StateFilter(MatchSG.city))
    return router


def name_problem(text: str | None, longest: int = MAX_NAME) -> str | None:
    """Why a typed name cannot be looked up, or None."""
    if text is None:
        return _("Please type the name as text.")
    value = text.strip()
    if len(value) < MIN_NAME:
        return _("That is too short. Please type the full name.")
    if len(value) > longest:
        return _("That is too long. Please type just the name, up to {limit} characters.").format(
            limit=longest
        )
    if not any(unicodedata.category(char).startswith("L") for char in value):
        return _("Please type the name in letters.")
    return None


def _cancel_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖️ Cancel"), callback_data=MatchCB(action=MatchAction.CANCEL))
    return builder.as_markup()


def _label(enterprise: Enterprise, locale: str) -> str:
    return f"{enterprise.name(locale)}, {enterprise.city(locale)}"


async def _status(
    user_key: str,
    enterprises: EnterprisesRepo,
    circles: CirclesRepo,
    threshold: int,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The user's current standing, or None when they have not named an enterprise."""
    enterprise = await enterprises.interest_of(user_key)
    if enterprise is None:
        return None
    builder = InlineKeyboardBuilder()
    circle_id = await circles.circle_for(enterprise.id)
    member = await circles.membership(user_key)
    name = html.escape(_label(enterprise, locale))
    if circle_id is not None and member is not None and member.circle_id == circle_id:
        text = _("You are in the circle of coworkers at <b>{name}</b>.").format(name=name)
        builder.button(
            text=_("👥 Open the circle"), callback_data=CircleCB(action=CircleAction.MENU)
        )
    else:
        count = len(await enterprises.interested(enterprise.id))
        text = _(
            "You are looking for coworkers at <b>{name}</b>: {count} of the {needed} needed "
            "so far. I will tell you when the circle opens."
        ).format(name=name, count=count, needed=threshold)
    builder.button(text=_("🚫 Stop looking"), callback_data=MatchCB(action=MatchAction.WITHDRAW))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return text, builder.as_markup()


def _ask_text() -> str:
    return _(
        "<b>Find coworkers</b>\nWhere do you work? Type the name of your enterprise, "
        "in any language (for example: Нафтан, Belaruskali, МТЗ)."
    )


async def _entry(
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    circles: CirclesRepo,
    settings: Settings,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """The user's standing; or, for a newcomer, the question (and the state to answer it)."""
    status = await _status(user_key, enterprises, circles, settings.circle_threshold, locale)
    if status is not None:
        return status
    await state.set_state(MatchSG.enterprise)
    return _ask_text(), _cancel_kb()


async def cmd_coworkers(
    message: Message,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    circles: CirclesRepo,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Where the user stands, or the question: where do you work?"""
    text, keyboard = await _entry(
        state, user_key, enterprises, circles, settings, i18n.current_locale
    )
    await message.answer(text, reply_markup=keyboard)


async def on_start(
    callback: CallbackQuery,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    circles: CirclesRepo,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The menu's "Find coworkers"."""
    text, keyboard = await _entry(
        state, user_key, enterprises, circles, settings, i18n.current_locale
    )
    await show_screen(callback, text, keyboard)


async def on_enterprise_name(
    message: Message,
    state: FSMContext,
    enterprise_index: EnterpriseIndex,
    enterprises: EnterprisesRepo,
    i18n: I18n,
) -> None:
    """Look the typed name up: one likely match, a few candidates, or a new enterprise."""
    problem = name_problem(message.text)
    if problem is not None:
        await message.answer(problem, reply_markup=_cancel_kb())
        return
    query = (message.text or "").strip()
    await state.update_data({"query": query})
    found = enterprise_index.lookup(query)
    locale = i18n.current_locale
    builder = InlineKeyboardBuilder()
    if found.confidence in (Confidence.EXACT, Confidence.HIGH):
        enterprise = await enterprises.get(found.candidates[0].enterprise_id)
        if enterprise is not None:
            builder.button(
                text=_("✅ Yes, that's it"),
                callback_data=MatchCB(action=MatchAction.PICK, enterprise=enterprise.id),
            )
            builder.button(
                text=_("No, another one"), callback_data=MatchCB(action=MatchAction.NONE)
            )
            builder.adjust(1)
            text = _("Is it <b>{name}</b>?").format(name=html.escape(_label(enterprise, locale)))
            await message.answer(text, reply_markup=builder.as_markup())
            return
    if found.confidence == Confidence.MIDDLE:
        for candidate in found.candidates:
            enterprise = await enterprises.get(candidate.enterprise_id)
            if enterprise is not None:
                builder.button(
                    text=_label(enterprise, locale),
                    callback_data=MatchCB(action=MatchAction.PICK, enterprise=enterprise.id),
                )
        builder.button(text=_("None of these"), callback_data=MatchCB(action=MatchAction.NONE))
        builder.adjust(1)
        await message.answer(_("Which one is it?"), reply_markup=builder.as_markup())
        return
    await _ask_city(message, state)


async def _ask_city(message: Message, state: FSMContext) -> None:
    await state.set_state(MatchSG.city)
    await message.answer(
        _(
            "I don't know this enterprise yet: volunteers will add it. "
            "In which city or town is it?"
        ),
        reply_markup=_cancel_kb(),
    )


async def on_none(callback: CallbackQuery, state: FSMContext) -> None:
    """None of the suggestions: register the name as typed, after asking for the city."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if (await state.get_data()).get("query"):
        await _ask_city(callback.message, state)
    else:
        await state.set_state(MatchSG.enterprise)
        await callback.message.answer(_ask_text(), reply_markup=_cancel_kb())


async def on_city(
    message: Message,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    enterprise_index: EnterpriseIndex,
    record_event: EventRecorder,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The city of a new enterprise: register it as pending, then ask for consent."""
    problem = name_problem(message.text, longest=MAX_CITY)
    if problem is not None:
        await message.answer(problem, reply_markup=_cancel_kb())
        return
    query = str((await state.get_data()).get("query") or "")
    if not query:
        await state.set_state(MatchSG.enterprise)
        await message.answer(_ask_text(), reply_markup=_cancel_kb())
        return
    key = skeleton(query)
    today = clock().date()
    enterprise = await enterprises.add_pending(query, (message.text or "").strip(), key, today)
    enterprise_index.add_skeleton(key, enterprise.id)
    await record_event(EventKind.ENTERPRISE_PENDING, user_key, enterprise=enterprise.id)
    await state.set_state(None)
    await drop_data(state, "query")
    text, keyboard = _consent(enterprise, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


def _consent(enterprise: Enterprise, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    name = html.escape(_label(enterprise, locale))
    text = _(
        "<b>{name}</b>\n\nTo find coworkers there, the bot keeps only: a code instead of your "
        "account, this enterprise, and today's date.\n\nWhen enough coworkers have agreed, a "
        "<b>circle</b> opens: an anonymous group chat relayed by the bot, where everyone is "
        "“Member 1”, “Member 2”… Nobody sees who you are unless you both choose to share "
        "contacts. Do you agree?"
    ).format(name=name)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ I agree"),
        callback_data=MatchCB(action=MatchAction.AGREE, enterprise=enterprise.id),
    )
    builder.button(text=_("✖️ Cancel"), callback_data=MatchCB(action=MatchAction.CANCEL))
    builder.adjust(1)
    return text, builder.as_markup()


async def on_pick(
    callback: CallbackQuery,
    callback_data: MatchCB,
    state: FSMContext,
    enterprises: EnterprisesRepo,
    i18n: I18n,
) -> None:
    """An enterprise was chosen: ask for consent."""
    enterprise = await enterprises.get(callback_data.enterprise)
    if enterprise is None or enterprise.status == "merged":
        await state.set_state(MatchSG.enterprise)
        await show_screen(callback, _ask_text(), _cancel_kb())
        return
    await state.set_state(None)
    await show_screen(callback, *_consent(enterprise, i18n.current_locale))


def outcome_screen(
    result: JoinResult, enterprise: Enterprise, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What joining led to, with the way into the circle when there is one."""
    builder = InlineKeyboardBuilder()
    if result.member is not None:
        builder.button(
            text=_("👥 Open the circle"), callback_data=CircleCB(action=CircleAction.MENU)
        )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    text = outcome_text(result, enterprise, settings.circle_threshold, locale)
    return text, builder.as_markup()


def outcome_text(result: JoinResult, enterprise: Enterprise, threshold: int, locale: str) -> str:
    name = html.escape(_label(enterprise, locale))
    match result.outcome:
        case Outcome.WAITING:
            return _(
                "Thank you. You are {count} of the {needed} coworkers needed at <b>{name}</b>. "
                "I will tell you when another coworker joins and when the circle opens."
            ).format(count=result.count, needed=threshold, name=name)
        case Outcome.OPENED:
            return _(
                "Your consent opened the circle at <b>{name}</b>: {count} coworkers are in it."
            ).format(count=result.count, name=name)
        case Outcome.JOINED:
            return _("You joined the circle at <b>{name}</b>: {count} members.").format(
                count=result.count, name=name
            )
        case Outcome.REMOVED:
            return _("A volunteer removed you from the circle at this enterprise.")


async def on_agree(
    callback: CallbackQuery,
    callback_data: MatchCB,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    circle_ops: Circles,
    i18n: I18n,
) -> None:
    """Consent given: register the interest, and open or join the circle."""
    enterprise = await enterprises.get(callback_data.enterprise)
    if enterprise is None or enterprise.status == "merged":
        await state.set_state(MatchSG.enterprise)
        await show_screen(callback, _ask_text(), _cancel_kb())
        return
    await state.set_state(None)
    result = await circle_ops.join(user_key, enterprise)
    await show_screen(
        callback, *outcome_screen(result, enterprise, circle_ops.settings, i18n.current_locale)
    )


async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    """Leave the search without saving anything."""
    await state.set_state(None)
    await drop_data(state, "query")
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    await show_screen(callback, _("Cancelled: nothing was saved."), builder.as_markup())


async def on_withdraw(
    callback: CallbackQuery,
    user_key: str,
    enterprises: EnterprisesRepo,
    circles: CirclesRepo,
    circle_ops: Circles,
) -> None:
    """Stop looking for coworkers: leave the circle too, if in one."""
    member = await circles.membership(user_key)
    if member is not None:
        await circle_ops.leave(member)
    else:
        await enterprises.withdraw_interest(user_key)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    await show_screen(
        callback, _("Done: you are no longer looking for coworkers."), builder.as_markup()
    )
