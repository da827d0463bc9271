"""Naming the enterprise: free text in any script, confirmation, consent, and the status.

Only enterprises the bot offered in this conversation can be chosen or agreed to (their ids
are kept in the sealed conversation data): a forged button shows nobody's typed names.
"""

from __future__ import annotations

import functools
import html
import unicodedata

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.config import Settings
from bot.db.circles import CirclesRepo
from bot.db.enterprises import Enterprise, EnterprisesRepo
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, Command, IsCommand
from bot.matching import Confidence, EnterpriseIndex, skeleton
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from flows.match.circles import Circles, JoinResult, Outcome
from flows.match.states import MatchSG
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.screens import reply, show_screen
from flows.state import drop_data

MIN_NAME, MAX_NAME = 2, 120
MAX_CITY = 60
#: Conversation data of this flow: the typed name, the ids offered, a new enterprise's city.
KEYS = ("query", "offered", "new_city")
#: AGREE with this id: the enterprise the user described, to be registered as pending.
NEW = 0


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(MatchCB))
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
    # Commands are not names: /guide while asked for the enterprise goes to the guide.
    router.message.register(on_enterprise_name, StateFilter(MatchSG.enterprise), ~IsCommand())
    router.message.register(on_city, StateFilter(MatchSG.city), ~IsCommand())
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


def _cancel_button(builder: InlineKeyboardBuilder) -> None:
    builder.button(text=_("✖️ Cancel"), callback_data=MatchCB(action=MatchAction.CANCEL))


def _cancel_kb() -> InlineKeyboardMarkup:
    return _cancel_kb_in(get_i18n().current_locale)


# Keyboards that come back again and again are built once per language (and enterprise):
# the builder deep-copies every button each time. Nothing changes a markup once built.
@functools.cache
def _cancel_kb_in(locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _cancel_button(builder)
    return builder.as_markup()


@functools.lru_cache(maxsize=1024)
def _likely_kb(locale: str, enterprise_id: int) -> InlineKeyboardMarkup:
    """Is it this one? Yes · No, another one · Cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Yes, that's it"),
        callback_data=MatchCB(action=MatchAction.PICK, enterprise=enterprise_id),
    )
    builder.button(text=_("No, another one"), callback_data=MatchCB(action=MatchAction.NONE))
    _cancel_button(builder)
    builder.adjust(1)
    return builder.as_markup()


@functools.lru_cache(maxsize=1024)
def _candidates_kb(locale: str, labels: tuple[tuple[int, str], ...]) -> InlineKeyboardMarkup:
    """One button per (enterprise id, label), then None of these · Cancel."""
    builder = InlineKeyboardBuilder()
    for enterprise_id, label in labels:
        builder.button(
            text=label, callback_data=MatchCB(action=MatchAction.PICK, enterprise=enterprise_id)
        )
    builder.button(text=_("None of these"), callback_data=MatchCB(action=MatchAction.NONE))
    _cancel_button(builder)
    builder.adjust(1)
    return builder.as_markup()


def _label(enterprise: Enterprise, locale: str) -> str:
    return f"{enterprise.name(locale)}, {enterprise.city(locale)}"


async def _offer(state: FSMContext, *enterprise_ids: int, **also: str) -> None:
    """Note the enterprises offered (the last 20), and ``also`` these entries, in one write."""
    data = await state.get_data()
    offered = list(data.get("offered") or [])
    await state.set_data({**data, **also, "offered": [*offered, *enterprise_ids][-20:]})


async def _was_offered(state: FSMContext, enterprise_id: int) -> bool:
    return enterprise_id in ((await state.get_data()).get("offered") or [])


async def _status(
    state: FSMContext,
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
    member = await circles.member(circle_id, user_key) if circle_id is not None else None
    name = html.escape(_label(enterprise, locale))
    if member is not None and member.active:
        text = _("You are in the circle of coworkers at <b>{name}</b>.").format(name=name)
        builder.button(
            text=_("👥 Open the circle"), callback_data=CircleCB(action=CircleAction.MENU)
        )
    elif circle_id is not None and (member is None or member.status != "removed"):
        text = _("The circle at <b>{name}</b> is open, and you are not in it.").format(name=name)
        await _offer(state, enterprise.id)
        builder.button(
            text=_("👥 Join the circle"),
            callback_data=MatchCB(action=MatchAction.AGREE, enterprise=enterprise.id),
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
    status = await _status(
        state, user_key, enterprises, circles, settings.circle_threshold, locale
    )
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
    await reply(message, text, keyboard)


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
    found = enterprise_index.lookup(query)
    locale = i18n.current_locale
    candidates = [await enterprises.get(c.enterprise_id) for c in found.candidates]
    offered = [e for e in candidates if e is not None and e.status != "merged"]
    # The typed name is kept in every case (None of these, and the city, go on from it).
    if found.confidence in (Confidence.EXACT, Confidence.HIGH) and offered:
        enterprise = offered[0]
        await _offer(state, enterprise.id, query=query)
        text = _("Is it <b>{name}</b>?").format(name=html.escape(_label(enterprise, locale)))
        await reply(message, text, _likely_kb(locale, enterprise.id))
        return
    if found.confidence == Confidence.MIDDLE and offered:
        await _offer(state, *(e.id for e in offered), query=query)
        labels = tuple((e.id, _label(e, locale)) for e in offered)
        await reply(message, _("Which one is it?"), _candidates_kb(locale, labels))
        return
    await state.update_data({"query": query})
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
    """None of the suggestions: describe the enterprise (its city), or type the name again."""
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if (await state.get_data()).get("query"):
        await _ask_city(callback.message, state)
    else:
        await state.set_state(MatchSG.enterprise)
        await callback.message.answer(_ask_text(), reply_markup=_cancel_kb())


async def on_city(message: Message, state: FSMContext, i18n: I18n) -> None:
    """The city of an enterprise not in the directory; nothing is saved before consent."""
    problem = name_problem(message.text, longest=MAX_CITY)
    if problem is not None:
        await message.answer(problem, reply_markup=_cancel_kb())
        return
    query = str((await state.get_data()).get("query") or "")
    if not query:
        await state.set_state(MatchSG.enterprise)
        await message.answer(_ask_text(), reply_markup=_cancel_kb())
        return
    city = (message.text or "").strip()
    await state.set_state(None)
    await state.update_data({"new_city": city})
    text, keyboard = _consent(f"{query}, {city}", NEW)
    await message.answer(text, reply_markup=keyboard)


def _consent(label: str, enterprise_id: int) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>{name}</b>\n\nTo find coworkers there, the bot keeps only: a code instead of your "
        "account, this enterprise, and today's date.\n\nWhen enough coworkers have agreed, a "
        "<b>circle</b> opens: an anonymous group chat relayed by the bot, where everyone is "
        "“Member 1”, “Member 2”… Nobody sees who you are unless you both choose to share "
        "contacts. Do you agree?"
    ).format(name=html.escape(label))
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ I agree"),
        callback_data=MatchCB(action=MatchAction.AGREE, enterprise=enterprise_id),
    )
    _cancel_button(builder)
    builder.adjust(1)
    return text, builder.as_markup()


async def _expired(callback: CallbackQuery) -> None:
    await callback.answer(_("This button has expired. Send /start for a fresh menu."))


async def on_pick(
    callback: CallbackQuery,
    callback_data: MatchCB,
    state: FSMContext,
    enterprises: EnterprisesRepo,
    i18n: I18n,
) -> None:
    """An enterprise the bot offered was chosen: ask for consent."""
    if not await _was_offered(state, callback_data.enterprise):
        await _expired(callback)
        return
    enterprise = await enterprises.get(callback_data.enterprise)
    if enterprise is None or enterprise.status == "merged":
        await state.set_state(MatchSG.enterprise)
        await show_screen(callback, _ask_text(), _cancel_kb())
        return
    await state.set_state(None)
    await show_screen(callback, *_consent(_label(enterprise, i18n.current_locale), enterprise.id))


def outcome_screen(
    result: JoinResult, enterprise: Enterprise, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """What joining led to, with the way into the circle when there is one."""
    builder = InlineKeyboardBuilder()
    if result.member is not None or result.outcome == Outcome.ELSEWHERE:
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
        case Outcome.ELSEWHERE:
            return _(
                "You are already in the circle of another enterprise. To change, leave it "
                "first (/circle)."
            )


async def on_agree(
    callback: CallbackQuery,
    callback_data: MatchCB,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    enterprise_index: EnterpriseIndex,
    circle_ops: Circles,
    record_event: EventRecorder,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Consent given: register the interest, and open or join the circle."""
    data = await state.get_data()
    if callback_data.enterprise == NEW and data.get("query") and data.get("new_city"):
        query, city = str(data["query"]), str(data["new_city"])
        key = skeleton(query)
        enterprise: Enterprise | None = await enterprises.add_pending(
            query, city, key, clock().date()
        )
        assert enterprise is not None
        enterprise_index.add_skeleton(key, enterprise.id)
        await record_event(EventKind.ENTERPRISE_PENDING, user_key, enterprise=enterprise.id)
    elif callback_data.enterprise != NEW and await _was_offered(state, callback_data.enterprise):
        enterprise = await enterprises.get(callback_data.enterprise)
    else:
        await _expired(callback)
        return
    if enterprise is None or enterprise.status == "merged":
        await state.set_state(MatchSG.enterprise)
        await show_screen(callback, _ask_text(), _cancel_kb())
        return
    await state.set_state(None)
    await drop_data(state, *KEYS)
    result = await circle_ops.join(user_key, enterprise)
    await show_screen(
        callback, *outcome_screen(result, enterprise, circle_ops.settings, i18n.current_locale)
    )


async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    """Leave the search without saving anything."""
    await state.set_state(None)
    await drop_data(state, *KEYS)
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
