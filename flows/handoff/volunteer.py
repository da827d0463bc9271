"""The volunteers' side, in their group: take, answer, hand on, close. Every action is logged."""

from __future__ import annotations

import contextlib
import html
import re
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, Filter
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.db.cases import Case
from bot.events import EventKind
from bot.filters import ButtonsOf, Command, IsCommand
from flows.admin.roles import parse_role, set_role
from flows.admin.router import role_change_text
from flows.handoff.callbacks import CaseAction, CaseCB
from flows.handoff.desk import Desk
from flows.handoff.volunteers import VolunteerCheck
from flows.handoff.worker import end_case, rating_kb
from flows.numbers import parse_number

ALIAS = re.compile(r"^[\w .'-]{2,24}$")


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(CaseCB))
    router.callback_query.register(on_card_button, CaseCB.filter())
    for name, handler in (
        ("close", cmd_close),
        ("release", cmd_release),
        ("reopen", cmd_reopen),
        ("transfer", cmd_transfer),
        ("alias", cmd_alias),
        ("replies", cmd_replies),
        ("reply", cmd_reply),
        ("block", cmd_block),
        ("unblock", cmd_unblock),
        ("grant", cmd_grant),
        ("revoke", cmd_grant),
    ):
        router.message.register(handler, Command(name))
    router.message.register(on_group_message, InCase(), ~IsCommand())
    return router


class InCase(Filter):
    """Passes a message in a case's topic, or a reply to a case's card or relayed message."""

    async def __call__(self, message: Message, desk: Desk) -> bool | dict[str, Any]:
        case = None
        if message.is_topic_message and message.message_thread_id is not None:
            case = await desk.cases.by_thread(message.message_thread_id)
            if case is None:
                return {"case": None}  # a topic that is not a case: say so
        elif message.reply_to_message is not None:
            case = await desk.cases.by_group_message(message.reply_to_message.message_id)
        if case is None:
            return False  # ordinary talk in the group
        return {"case": case}


async def _volunteer(user: User | None, desk: Desk, checks: VolunteerCheck) -> str | None:
    """The volunteer's key, or None for someone who is not a volunteer."""
    if user is None or user.is_bot:
        return None
    key = desk.identity.user_key(user.id)
    allowed = await checks.is_volunteer(
        desk.bot, desk.settings, desk.users, user.id, key, desk.cases
    )
    if not allowed:
        return None
    await checks.note(desk.cases, desk.identity, user.id, key)
    return key


def _may_act(case: Case, key: str, user: User | None, desk: Desk) -> bool:
    """Only the volunteer who holds a case acts on it (an untaken one: any volunteer);
    admins may always."""
    if user is not None and user.id in desk.settings.admin_ids:
        return True
    return case.assignee in (None, key)


async def _case_of(message: Message, desk: Desk) -> Case | None:
    found = await InCase()(message, desk)
    return found["case"] if isinstance(found, dict) else None


async def on_card_button(
    callback: CallbackQuery, callback_data: CaseCB, desk: Desk, volunteer_checks: VolunteerCheck
) -> None:
    """Take, Release, Close and Accept on a case card."""
    key = await _volunteer(callback.from_user, desk, volunteer_checks)
    if key is None:
        await callback.answer(_("Only volunteers can act on cases."), show_alert=True)
        return
    case = await desk.cases.get(callback_data.case)
    if case is None:
        await callback.answer(_("This case does not exist."), show_alert=True)
        return
    today = desk.now.date()
    match callback_data.action:
        case CaseAction.TAKE:
            await _take(callback, case, key, desk)
        case CaseAction.RELEASE:
            if await desk.cases.release(case.id, key, desk.now):
                await desk.cases.log(key, case.id, "release", today)
                await desk.refresh_card(case.id)
                await callback.answer(_("Released: the case is waiting again."))
            else:
                await callback.answer(
                    _("Only the volunteer who took the case can release it."), show_alert=True
                )
        case CaseAction.CLOSE:
            if not _may_act(case, key, callback.from_user, desk):
                await callback.answer(
                    _("Only the volunteer who took the case can close it."), show_alert=True
                )
                return
            await _close(case, key, desk, note=None)
            await callback.answer()
        case CaseAction.ENTERPRISE:
            await _show_enterprise(callback, case, key, desk)
        case CaseAction.ACCEPT:
            if await desk.cases.accept(case.id, key):
                await desk.cases.log(key, case.id, "accept_transfer", today)
                alias = await desk.alias(key)
                await desk.refresh_card(case.id)
                await desk.tell_worker(
                    case,
                    lambda: _("Another volunteer, {alias}, continues the conversation.").format(
                        alias=alias
                    ),
                )
                await callback.answer(_("The case is yours."))
            else:
                await callback.answer(
                    _("This transfer is not for you, or it was already accepted."), show_alert=True
                )


async def _take(callback: CallbackQuery, case: Case, key: str, desk: Desk) -> None:
    if case.status == "closed":
        await callback.answer(_("This case is closed."), show_alert=True)
        return
    if not await desk.cases.take(case.id, key, desk.now):
        current = await desk.cases.get(case.id)
        holder = await desk.alias(current.assignee if current else None)
        await callback.answer(_("Already taken by {alias}.").format(alias=holder), show_alert=True)
        return
    await desk.cases.log(key, case.id, "take", desk.now.date())
    await desk.record_event(
        EventKind.CASE_TAKEN, None, case=case.id, wait_seconds=desk.seconds_since(case.opened_at)
    )
    alias = await desk.alias(key)
    await desk.refresh_card(case.id)
    await desk.tell_worker(
        case, lambda: _("A volunteer, {alias}, has joined the conversation.").format(alias=alias)
    )
    await callback.answer(_("The case is yours. Write in this topic to answer the worker."))


async def _close(case: Case, key: str, desk: Desk, note: str | None) -> None:
    if case.status == "closed":
        return
    await desk.cases.log(key, case.id, "close", desk.now.date())
    await end_case(case, desk, by="volunteer")

    def farewell() -> str:
        text = _("The volunteer closed the conversation.")
        return f"{text}\n\n{html.escape(note)}" if note else text

    await desk.tell_worker(case, farewell)
    await desk.tell_worker(
        case,
        lambda: _("How much did it help? Your answer is anonymous."),
        reply_markup=rating_kb(case.id),
    )


async def on_group_message(
    message: Message, case: Case | None, desk: Desk, volunteer_checks: VolunteerCheck
) -> None:
    """In a case: the assigned volunteer's words go to the worker; the rest are notes."""
    if message.sender_chat is not None:
        # Anonymous admins and posts as the group: nobody to hold to account, nothing relayed.
        await message.reply(
            _("Post as yourself: anonymous messages are not passed on to the worker.")
        )
        return
    key = await _volunteer(message.from_user, desk, volunteer_checks)
    if key is None:
        if message.from_user is not None and not message.from_user.is_bot:
            await message.reply(_("Only volunteers can answer cases."))
        return
    if case is None:
        await message.reply(_("This topic is not linked to a case."))
        return
    await desk.cases.remember_message(case.id, message.message_id)  # replies to it route here
    if (message.text or message.caption or "").startswith("//"):
        return  # an internal note, by convention (in a caption too)
    if case.status == "closed":
        await message.reply(
            _("Case #{number} is closed: nothing was sent. /reopen to reopen it.").format(
                number=case.id
            )
        )
        return
    if case.assignee != key:
        if case.status == "open":
            await message.reply(
                _(
                    "Take the case first (✋ Take on the card) to answer the "
                    "worker. Until then this stays a note."
                )
            )
        return  # another volunteer's message: an internal note
    failure = await desk.to_worker(case, message)
    if failure is not None:
        await message.reply(failure)
        return
    await _replied(desk, key, case)


async def _replied(desk: Desk, key: str, case: Case) -> None:
    """A volunteer's answer reached the worker: log it; the first one is timed."""
    await desk.cases.log(key, case.id, "reply", desk.now.date())
    if await desk.cases.mark_responded(case.id):
        await desk.record_event(
            EventKind.CASE_FIRST_RESPONSE,
            None,
            case=case.id,
            seconds=desk.seconds_since(case.opened_at),
        )


async def _command_case(
    message: Message, desk: Desk, checks: VolunteerCheck
) -> tuple[str, Case] | None:
    key = await _volunteer(message.from_user, desk, checks)
    if key is None:
        await message.reply(_("Only volunteers can act on cases."))
        return None
    case = await _case_of(message, desk)
    if case is None:
        await message.reply(_("Use this command in a case's topic, or as a reply to its card."))
        return None
    return key, case


async def cmd_close(
    message: Message, command: CommandObject, desk: Desk, volunteer_checks: VolunteerCheck
) -> None:
    """/close [note]: close the case; the note goes to the worker."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    if case.status == "closed":
        await message.reply(_("Case #{number} is already closed.").format(number=case.id))
        return
    if not _may_act(case, key, message.from_user, desk):
        await message.reply(_("Only the volunteer who took the case can close it."))
        return
    await _close(case, key, desk, note=command.args)


async def cmd_release(message: Message, desk: Desk, volunteer_checks: VolunteerCheck) -> None:
    """/release: give the case back to the queue."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    if await desk.cases.release(case.id, key, desk.now):
        await desk.cases.log(key, case.id, "release", desk.now.date())
        await desk.refresh_card(case.id)
        await message.reply(_("Released: the case is waiting again."))
    else:
        await message.reply(_("Only the volunteer who took the case can release it."))


async def cmd_reopen(message: Message, desk: Desk, volunteer_checks: VolunteerCheck) -> None:
    """/reopen: open a closed case again (the worker is told)."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    active = await desk.cases.active_for(case.user_key)
    window = desk.settings.reopen_days
    too_old = case.closed_on is None or (desk.now.date() - case.closed_on).days > window
    if (
        case.status != "closed"
        or (active is not None and active.id != case.id)
        or too_old
        or await desk.cases.is_blocked(case.user_key)
    ):
        await message.reply(_("Case #{number} cannot be reopened.").format(number=case.id))
        return
    await desk.cases.reopen(case.id, desk.now)
    await desk.cases.log(key, case.id, "reopen", desk.now.date())
    await desk.record_event(EventKind.CASE_REOPENED, case.user_key, case=case.id)
    if case.thread_id is not None:
        with contextlib.suppress(TelegramAPIError):  # a topic deleted meanwhile
            await desk.bot.reopen_forum_topic(desk.group, case.thread_id)
    await desk.refresh_card(case.id)
    await desk.tell_worker(
        case,
        lambda: _("A volunteer reopened your conversation #{number}: write here.").format(
            number=case.id
        ),
    )
    await message.reply(_("Case #{number} is open again.").format(number=case.id))


async def cmd_transfer(
    message: Message, command: CommandObject, desk: Desk, volunteer_checks: VolunteerCheck
) -> None:
    """/transfer: offer the case to the other volunteers; one of them must accept."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    target = message.reply_to_message.from_user if message.reply_to_message else None
    # As a reply to a volunteer's message: offered to them only; otherwise to any volunteer.
    offered_to = desk.identity.user_key(target.id) if target and not target.is_bot else "*"
    if not await desk.cases.offer(case.id, key, offered_to):
        await message.reply(_("Only the volunteer who took the case can hand it on."))
        return
    await desk.cases.log(key, case.id, "transfer", desk.now.date())
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🤝 Accept the case"), callback_data=CaseCB(action=CaseAction.ACCEPT, case=case.id)
    )
    await message.reply(
        _("Case #{number} is offered to another volunteer: press Accept to continue it.").format(
            number=case.id
        ),
        reply_markup=builder.as_markup(),
    )


async def cmd_alias(
    message: Message, command: CommandObject, desk: Desk, volunteer_checks: VolunteerCheck
) -> None:
    """/alias NAME: the name workers see instead of yours."""
    key = await _volunteer(message.from_user, desk, volunteer_checks)
    if key is None:
        await message.reply(_("Only volunteers can act on cases."))
        return
    alias = (command.args or "").strip()
    if not ALIAS.match(alias):
        await message.reply(
            _(
                "Usage: /alias NAME, 2 to 24 letters. Workers see it "
                "instead of your name: do not use your real one."
            )
        )
        return
    await desk.cases.set_alias(key, alias)
    await message.reply(_("Workers will see you as “{alias}”.").format(alias=html.escape(alias)))


async def cmd_replies(
    message: Message,
    replies: dict[str, dict[str, str]],
    desk: Desk,
    volunteer_checks: VolunteerCheck,
) -> None:
    """/replies: the canned replies, for volunteers."""
    if await _volunteer(message.from_user, desk, volunteer_checks) is None:
        await message.reply(_("Only volunteers can act on cases."))
        return
    names = sorted(next(iter(replies.values())))
    await message.reply(
        _("Canned replies (send with /reply NAME):") + "\n" + "\n".join(f"• {n}" for n in names)
    )


async def cmd_reply(
    message: Message,
    command: CommandObject,
    desk: Desk,
    replies: dict[str, dict[str, str]],
    volunteer_checks: VolunteerCheck,
) -> None:
    """/reply NAME: send a canned reply, in the worker's language."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    name = (command.args or "").strip()
    texts = replies.get(case.locale) or replies.get("en") or {}
    if name not in texts:
        await message.reply(
            _("No reply called “{name}”. See /replies.").format(name=html.escape(name))
        )
        return
    if case.assignee != key or case.status != "taken":
        await message.reply(
            _(
                "Take the case first (✋ Take on the card) to answer the "
                "worker. Until then this stays a note."
            )
        )
        return
    if not await desk.tell_worker(case, lambda: texts[name]):
        await message.reply(
            _("The worker can no longer be reached (they blocked the bot or deleted their data).")
        )
        return
    await _replied(desk, key, case)
    await message.reply(_("Sent: “{name}”.").format(name=html.escape(name)))


async def cmd_block(message: Message, desk: Desk, volunteer_checks: VolunteerCheck) -> None:
    """/block: this worker may not open cases any more (spam, abuse, a suspected informer)."""
    found = await _command_case(message, desk, volunteer_checks)
    if found is None:
        return
    key, case = found
    if not _may_act(case, key, message.from_user, desk):
        await message.reply(_("Only the volunteer who took the case can block its worker."))
        return
    await desk.cases.block(case.user_key, desk.now.date())
    await desk.cases.log(key, case.id, "block", desk.now.date())
    if case.status != "closed":
        await end_case(case, desk, by="volunteer")
        await desk.tell_worker(case, lambda: _("This conversation has ended."))
    await message.reply(
        _(
            "The worker of case #{number} can no longer open "
            "cases. An admin can /unblock {number}."
        ).format(number=case.id)
    )


async def cmd_unblock(message: Message, command: CommandObject, desk: Desk) -> None:
    """/unblock <case>: admins only."""
    user = message.from_user
    if user is None or user.id not in desk.settings.admin_ids:
        await message.reply(_("Only admins can unblock."))
        return
    number = parse_number(command.args)
    case = await desk.cases.get(number) if number is not None else None
    if case is None:
        await message.reply(_("Usage: /unblock CASE"))
        return
    await desk.cases.unblock(case.user_key)
    await desk.cases.log(desk.identity.user_key(user.id), case.id, "unblock", desk.now.date())
    await message.reply(
        _("The worker of case #{number} can open cases again.").format(number=case.id)
    )


async def cmd_grant(message: Message, command: CommandObject, desk: Desk) -> None:
    """/grant or /revoke [volunteer|coordinator], by an admin, as a reply to someone's message.

    A granted volunteer acts on cases without being a member of this group; a granted
    coordinator reads the weekly report in a private chat.
    """
    user = message.from_user
    if user is None or user.id not in desk.settings.admin_ids:
        await message.reply(_("Only admins can grant or revoke roles."))
        return
    role = parse_role(command.args)
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if role is None or target is None or target.is_bot:
        await message.reply(
            _(
                "Reply to a message of the person with /grant or /revoke, adding "
                "“coordinator” for the coordinator role."
            )
        )
        return
    granting = command.command == "grant"
    done = await set_role(
        role,
        desk.identity.user_key(target.id),
        granting,
        desk.identity.user_key(user.id),
        cases=desk.cases,
        users=desk.users,
        today=desk.now.date(),
    )
    await message.reply(role_change_text(role, granting, done))


async def _show_enterprise(callback: CallbackQuery, case: Case, key: str, desk: Desk) -> None:
    """The enterprise the worker agreed to share: to the volunteer holding the case only."""
    if case.assignee != key or case.enterprise_id is None:
        await callback.answer(
            _("Only the volunteer who took the case can see the enterprise."), show_alert=True
        )
        return
    enterprise = await desk.enterprises.get(case.enterprise_id)
    if enterprise is None:
        await callback.answer(_("This case does not exist."), show_alert=True)
        return
    locale = desk.settings.default_locale
    await desk.cases.log(key, case.id, "enterprise_shown", desk.now.date())
    # An alert is seen by the one who pressed, not by the group.
    await callback.answer(f"{enterprise.name(locale)}, {enterprise.city(locale)}", show_alert=True)
