"""The worker's side of the hand-off: ask for a human, write, end, rate."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.db.cases import Case, CasesRepo
from bot.db.circles import CirclesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.events import EventKind
from bot.filters import ButtonsOf, Command, IsCommand
from flows.handoff.callbacks import TOPICS, HelpAction, HelpCB
from flows.handoff.desk import Desk, topic_label
from flows.handoff.states import HelpSG
from flows.media import carries_hidden_data
from flows.numbers import parse_number
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.screens import show_screen
from flows.state import drop_data

log = logging.getLogger(__name__)

#: What a worker may send into a case. Locations and contacts would identify them.
RELAYED = ("text", "photo", "document", "voice", "video", "audio", "video_note", "animation")
KEYS = ("topic", "share", "rating_case")


class InActiveCase(Filter):
    """Passes a non-command message from a worker with an open case; gives ``case``."""

    async def __call__(
        self, message: Message, cases: CasesRepo, user_key: str | None
    ) -> bool | dict[str, Any]:
        if user_key is None or (message.text or "").startswith("/"):
            return False
        case = await cases.active_for(user_key)
        return {"case": case} if case is not None else False


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(HelpCB))
    router.message.register(cmd_volunteer, Command("volunteer"))
    router.message.register(cmd_end, Command("end"))
    for action, handler in (
        (HelpAction.START, on_start),
        (HelpAction.TOPIC, on_topic),
        (HelpAction.SHARE, on_share),
        (HelpAction.END, on_end),
        (HelpAction.RATE, on_rate),
        (HelpAction.COMMENT, on_want_comment),
        (HelpAction.SKIP, on_skip_comment),
    ):
        router.callback_query.register(handler, HelpCB.filter(F.action == action))
    router.message.register(on_first_message, StateFilter(HelpSG.first_message), ~IsCommand())
    router.message.register(on_comment, StateFilter(HelpSG.comment), ~IsCommand())
    router.message.register(on_case_message, InActiveCase())
    return router


def _menu_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    return builder.as_markup()


def end_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🏁 End conversation"), callback_data=HelpCB(action=HelpAction.END))
    return builder.as_markup()


def _topics_kb() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for topic in TOPICS:
        builder.button(
            text=topic_label(topic), callback_data=HelpCB(action=HelpAction.TOPIC, arg=topic)
        )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


async def _begin(user_key: str, state: FSMContext, desk: Desk) -> tuple[str, InlineKeyboardMarkup]:
    """What "Talk to a volunteer" leads to: a topic, the open case, or a reopened one."""
    if desk.settings.volunteers_chat_id is None:
        return _("Volunteers are not available in this bot yet."), _menu_kb()
    await drop_data(state, *KEYS)  # nothing from an abandoned attempt carries over
    if await desk.cases.is_blocked(user_key):
        # Neutral on purpose: a blocked informer should learn nothing from the wording.
        return _(
            "Volunteers are not available right now. Please use the guide and the FAQ."
        ), _menu_kb()
    case = await desk.cases.active_for(user_key)
    if case is not None:
        return _("Your conversation #{number} is open: just write here.").format(
            number=case.id
        ), end_kb()
    last = await desk.cases.last_closed(user_key)
    window = desk.settings.reopen_days
    if (
        last is not None
        and last.closed_on is not None
        and (desk.now.date() - last.closed_on).days <= window
    ):
        await desk.cases.reopen(last.id, desk.now)
        case = await desk.cases.get(last.id)
        assert case is not None
        await desk.record_event(EventKind.CASE_REOPENED, user_key, case=case.id)
        if case.thread_id is not None:
            with contextlib.suppress(TelegramAPIError):  # a topic deleted meanwhile
                await desk.bot.reopen_forum_topic(desk.group, case.thread_id)
        # The group may be unreachable: the worker's case is open again either way.
        with (
            contextlib.suppress(TelegramAPIError),
            desk.i18n.use_locale(desk.settings.default_locale),
        ):
            await desk.note(
                case,
                _("The worker wrote again: case #{number} is reopened.").format(number=case.id),
            )
            await desk.refresh_card(case.id)
        return _("Your conversation #{number} is open again: write here.").format(
            number=case.id
        ), end_kb()
    await state.set_state(None)
    return _("<b>Talk to a volunteer</b>\nWhat is it about?"), _topics_kb()


async def cmd_volunteer(message: Message, state: FSMContext, user_key: str, desk: Desk) -> None:
    """Ask for a human."""
    text, keyboard = await _begin(user_key, state, desk)
    await message.answer(text, reply_markup=keyboard)


async def on_start(callback: CallbackQuery, state: FSMContext, user_key: str, desk: Desk) -> None:
    """ "Talk to a volunteer" from the menu, the FAQ or the guide."""
    await show_screen(callback, *await _begin(user_key, state, desk))


async def on_topic(
    callback: CallbackQuery,
    callback_data: HelpCB,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    desk: Desk,
) -> None:
    """A topic chosen: offer to share the enterprise, if the worker named one."""
    if callback_data.arg not in TOPICS or await desk.cases.is_blocked(user_key):
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    await state.update_data({"topic": callback_data.arg})
    enterprise = await enterprises.interest_of(user_key)
    if enterprise is None:
        await _ask_first_message(callback, state, desk)
        return
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, share it"), callback_data=HelpCB(action=HelpAction.SHARE, arg="1"))
    builder.button(
        text=_("No, keep it private"), callback_data=HelpCB(action=HelpAction.SHARE, arg="0")
    )
    builder.adjust(1)
    await show_screen(
        callback,
        _(
            "May the volunteer see the enterprise you named ({name})? It "
            "helps them help you; they never see who you are."
        ).format(name=enterprise.name(desk.i18n.current_locale)),
        builder.as_markup(),
    )


async def on_share(
    callback: CallbackQuery,
    callback_data: HelpCB,
    state: FSMContext,
    user_key: str,
    enterprises: EnterprisesRepo,
    desk: Desk,
) -> None:
    """Whether the volunteer who takes the case may see this enterprise (this one only)."""
    enterprise = await enterprises.interest_of(user_key) if callback_data.arg == "1" else None
    await state.update_data({"share": enterprise.id if enterprise else None})
    await _ask_first_message(callback, state, desk)


async def _ask_first_message(callback: CallbackQuery, state: FSMContext, desk: Desk) -> None:
    if not (await state.get_data()).get("topic"):
        await show_screen(
            callback, _("<b>Talk to a volunteer</b>\nWhat is it about?"), _topics_kb()
        )
        return
    await state.set_state(HelpSG.first_message)
    await show_screen(
        callback,
        _(
            "Write your question in one or more messages. Do not include names, your employer "
            "or phone numbers: the volunteer does not need them.\n\n"
            "Volunteers usually answer: {hours}."
        ).format(hours=desk.settings.volunteer_hours),
        _menu_kb(),
    )


async def on_first_message(
    message: Message, state: FSMContext, user_key: str, circles: CirclesRepo, desk: Desk
) -> None:
    """The first message opens the case and goes to the volunteers."""
    data = await state.get_data()
    topic = str(data.get("topic") or "other")
    if not _relayable(message):
        await message.answer(_refusal(message))
        return
    share = data.get("share")
    case = await desk.cases.open(
        user_key, desk.i18n.current_locale, topic, int(share) if share else None, desk.now
    )
    await state.set_state(None)
    await drop_data(state, *KEYS)
    if case is None:  # opened meanwhile (a double tap), or the worker is blocked
        case = await desk.cases.active_for(user_key)
        if case is None:
            await message.answer(
                _("Volunteers are not available right now. Please use the guide and the FAQ."),
                reply_markup=_menu_kb(),
            )
            return
    else:
        member = await circles.membership(user_key)
        if member is not None and member.relay_on:
            # Exclusive: while the case is open, what the worker writes goes to the volunteer.
            await circles.set_relay(member.circle_id, user_key, False)
            await message.answer(_("Circle mode is off while you talk to the volunteer."))
        try:
            case = await desk.post_card(case)
        except TelegramAPIError as error:
            # The group is unreachable (the bot was removed, or lacks rights): do not leave a
            # case nobody can see. Say so honestly; the operator sees the warning in the log.
            log.warning("could not post a case card: %s", type(error).__name__)
            await desk.cases.close(case.id, desk.now.date())
            await message.answer(
                _("The volunteers cannot be reached right now. Please try again later."),
                reply_markup=_menu_kb(),
            )
            return
        await desk.record_event(
            EventKind.CASE_OPENED, user_key, case=case.id, topic=topic, locale=case.locale
        )
    delivered = await desk.to_group(case, message)
    text = _(
        "Case #{number} opened: a volunteer will answer here. Volunteers usually answer: {hours}."
    ).format(number=case.id, hours=desk.settings.volunteer_hours)
    if not delivered:
        text += "\n" + _(
            "Your message could not be passed on yet; please send it again in a minute."
        )
    await message.answer(text, reply_markup=end_kb())


def _relayable(message: Message) -> bool:
    return any(getattr(message, kind, None) for kind in RELAYED) and not carries_hidden_data(
        message
    )


def _refusal(message: Message) -> str:
    if carries_hidden_data(message):
        return _(
            "Please send pictures and videos as photos or videos, not as files: a file keeps "
            "hidden details such as where it was taken, which could identify you."
        )
    if message.location or message.venue or message.contact:
        return _(
            "Locations and contacts are not passed on: they could "
            "identify you. Please describe it in words."
        )
    if message.sticker:
        return _("Stickers are not passed on to the volunteer. Please write in words.")
    return _(
        "This kind of message cannot be passed on. Please write "
        "in words, or send a photo or a file."
    )


async def on_case_message(message: Message, case: Case, desk: Desk) -> None:
    """While a case is open, everything the worker sends goes to it."""
    if case.card_message_id is None:  # the card could not be posted before: try again
        with contextlib.suppress(TelegramAPIError):
            case = await desk.post_card(case)
    if not _relayable(message):
        await message.answer(_refusal(message))
        return
    if not await desk.to_group(case, message):
        await message.answer(
            _("Your message could not be passed on; please send it again in a minute.")
        )


async def end_case(case: Case, desk: Desk, by: str) -> None:
    """Close the case; ``by`` is "worker", "volunteer" or "forget" (the worker left the bot)."""
    if not await desk.cases.close(case.id, desk.now.date()):
        return
    await desk.record_event(EventKind.CASE_CLOSED, case.user_key, case=case.id, by=by)
    with desk.i18n.use_locale(desk.settings.default_locale):
        if by == "worker":
            await desk.note(
                case,
                _("The worker ended the conversation. Case #{number} is closed.").format(
                    number=case.id
                ),
            )
        elif by == "forget":
            await desk.note(
                case,
                _(
                    "The worker deleted their data from the bot. Case #{number} is closed; "
                    "nothing can reach them any more."
                ).format(number=case.id),
            )
    if case.thread_id is not None:
        # Closing the topic is tidiness, not the point: the case is closed either way.
        with contextlib.suppress(TelegramAPIError):
            await desk.bot.close_forum_topic(desk.group, case.thread_id)
    await desk.refresh_card(case.id)


def rating_kb(case_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for score in range(1, 6):
        builder.button(
            text="⭐" * score,
            callback_data=HelpCB(action=HelpAction.RATE, arg=f"{case_id}-{score}"),
        )
    builder.adjust(1)
    return builder.as_markup()


def _rating_text() -> str:
    return _("The conversation is closed. How much did it help? Your answer is anonymous.")


async def cmd_end(message: Message, user_key: str, desk: Desk) -> None:
    """End the conversation with the volunteer."""
    case = await desk.cases.active_for(user_key)
    if case is None:
        await message.answer(
            _("You have no open conversation with a volunteer."), reply_markup=_menu_kb()
        )
        return
    await end_case(case, desk, by="worker")
    await message.answer(_rating_text(), reply_markup=rating_kb(case.id))


async def on_end(callback: CallbackQuery, user_key: str, desk: Desk) -> None:
    """The "End conversation" button."""
    case = await desk.cases.active_for(user_key)
    if case is None:
        await callback.answer(_("You have no open conversation with a volunteer."))
        return
    await end_case(case, desk, by="worker")
    await show_screen(callback, _rating_text(), rating_kb(case.id))


async def on_rate(
    callback: CallbackQuery, callback_data: HelpCB, state: FSMContext, user_key: str, desk: Desk
) -> None:
    """A score from 1 to 5, then an optional comment for the volunteers."""
    case_part, _sep, score_part = callback_data.arg.partition("-")
    case_id, score = parse_number(case_part), parse_number(score_part)
    if case_id is None or score is None or not 1 <= score <= 5:
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    if not await desk.cases.rate(case_id, user_key, score):
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    await desk.record_event(EventKind.CASE_RATED, user_key, case=case_id, score=score)
    await state.update_data({"rating_case": case_id})
    builder = InlineKeyboardBuilder()
    builder.button(text=_("💬 Add a comment"), callback_data=HelpCB(action=HelpAction.COMMENT))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    await show_screen(
        callback,
        _("Thank you. You may add a comment for the volunteers: it is passed on, not stored."),
        builder.as_markup(),
    )


async def on_want_comment(callback: CallbackQuery, state: FSMContext) -> None:
    """Only after this button does the next message become a comment (not a circle message)."""
    if not (await state.get_data()).get("rating_case"):
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    await state.set_state(HelpSG.comment)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=HelpCB(action=HelpAction.SKIP))
    await show_screen(callback, _("Type your comment for the volunteers."), builder.as_markup())


async def on_comment(message: Message, state: FSMContext, user_key: str, desk: Desk) -> None:
    """The comment goes to the case's topic; it is not stored."""
    case_id = int((await state.get_data()).get("rating_case") or 0)
    case = await desk.cases.get(case_id)
    await state.set_state(None)
    await drop_data(state, *KEYS)
    if case is not None and case.user_key == user_key and message.text:
        with desk.i18n.use_locale(desk.settings.default_locale):
            await desk.note(
                case, _("Comment from the worker on case #{number}:").format(number=case.id)
            )
        await desk.to_group(case, message)
    await message.answer(_("Thank you. Stay safe."), reply_markup=_menu_kb())


async def on_skip_comment(callback: CallbackQuery, state: FSMContext) -> None:
    """No comment."""
    await state.set_state(None)
    await drop_data(state, *KEYS)
    await show_screen(callback, _("Thank you. Stay safe."), _menu_kb())
