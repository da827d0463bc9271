"""Opening an invite link (``/start i_<token>``): check it, then offer to join the circle."""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.clock import Clock
from bot.db.circles import CirclesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.db.users import UsersRepo
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, CommandsOf, CommandStart
from bot.identity import Identity
from flows.match.callbacks import CircleAction, CircleCB
from flows.match.circle import invite_hash
from flows.match.circles import Circles
from flows.match.search import outcome_screen
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.onboarding.router import ensure_user
from flows.screens import show_screen
from flows.state import drop_data

PREFIX = "i_"
#: The invite a user opened, kept in their (sealed) conversation data until they answer.
PENDING = "invite"


class InvitePayload(Filter):
    """Passes /start whose deep-link payload is an invite; gives the ``token``."""

    async def __call__(self, message: Message, command: CommandObject) -> bool | dict[str, Any]:
        args = command.args or ""
        if not args.startswith(PREFIX):
            return False
        return {"token": args.removeprefix(PREFIX)}


def create_router() -> Router:
    """Included before onboarding, so that /start with an invite is not a plain greeting."""
    router = Router(name=__name__)
    router.message.filter(CommandsOf("start"))
    router.callback_query.filter(ButtonsOf(CircleCB))
    router.message.register(on_invite_link, CommandStart(deep_link=True), InvitePayload())
    router.callback_query.register(on_join, CircleCB.filter(F.action == CircleAction.JOIN))
    return router


def _menu_kb() -> Any:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    return builder.as_markup()


async def on_invite_link(
    message: Message,
    token: str,
    state: FSMContext,
    user_key: str,
    users: UsersRepo,
    identity: Identity,
    record_event: EventRecorder,
    i18n: I18n,
    clock: Clock,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
) -> None:
    """Check the link; explain a used-up, expired or revoked one; else offer the circle."""
    await state.clear()
    await ensure_user(message.chat.id, user_key, users, identity, record_event, i18n, clock)
    invite = await circles.invite(invite_hash(token))
    if invite is None:
        await message.answer(
            _("This invite link is not valid. Check it with the person who gave it to you."),
            reply_markup=_menu_kb(),
        )
        return
    if invite.revoked:
        await message.answer(_("This invite link was revoked."), reply_markup=_menu_kb())
        return
    if invite.used:
        await message.answer(
            _("This invite link has already been used. Ask for a new one."),
            reply_markup=_menu_kb(),
        )
        return
    if invite.expires_on < clock().date():
        await message.answer(
            _("This invite link has expired. Ask for a new one."), reply_markup=_menu_kb()
        )
        return
    member = await circles.member(invite.circle_id, user_key)
    if member is not None and member.status == "removed":
        await message.answer(_("You cannot join this circle."), reply_markup=_menu_kb())
        return
    if member is not None and member.active:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("👥 Open the circle"), callback_data=CircleCB(action=CircleAction.MENU)
        )
        await message.answer(
            _("You are already in this circle."), reply_markup=builder.as_markup()
        )
        return
    creator = await circles.member(invite.circle_id, invite.created_by)
    enterprise = await enterprises.get(await circles.enterprise_of(invite.circle_id) or 0)
    if (
        enterprise is None
        or enterprise.status == "merged"
        or creator is None
        or not creator.active
    ):
        await message.answer(_("This invite link is not valid."), reply_markup=_menu_kb())
        return
    await state.update_data({PENDING: invite_hash(token)})
    locale = i18n.current_locale
    name = html.escape(f"{enterprise.name(locale)}, {enterprise.city(locale)}")
    text = _(
        "A coworker invited you to the circle of coworkers at <b>{name}</b>: an anonymous "
        "group chat relayed by the bot, where everyone is “Member 1”, “Member 2”…\n\n"
        "The bot keeps only a code instead of your account, this enterprise and the date. "
        "Do you work there, and do you want to join?"
    ).format(name=name)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Yes, join"),
        callback_data=CircleCB(action=CircleAction.JOIN, arg=invite.circle_id),
    )
    builder.button(text=_("✖️ No"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    await message.answer(text, reply_markup=builder.as_markup())


async def on_join(
    callback: CallbackQuery,
    callback_data: CircleCB,
    state: FSMContext,
    user_key: str,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    circle_ops: Circles,
    i18n: I18n,
) -> None:
    """Join through the invite this user opened (a forged button joins nothing)."""
    token_hash = str((await state.get_data()).get(PENDING) or "")
    invite = await circles.invite(token_hash) if token_hash else None
    enterprise = None
    if invite is not None and invite.circle_id == callback_data.arg:
        enterprise = await enterprises.get(await circles.enterprise_of(invite.circle_id) or 0)
    # Claimed in one statement: of two people with the same link, only one gets in.
    if (
        invite is None
        or enterprise is None
        or enterprise.status == "merged"
        or not await circles.claim_invite(token_hash, circle_ops.today)
    ):
        await callback.answer(
            _("This invite is no longer valid. Ask for a new link."), show_alert=True
        )
        return
    await drop_data(state, PENDING)
    result = await circle_ops.join(user_key, enterprise)
    if result.member is None:
        await circles.unclaim_invite(token_hash)  # not used up by a join that did not happen
    else:
        await circle_ops.record_event(EventKind.INVITE_USED, user_key, circle=invite.circle_id)
    await show_screen(
        callback, *outcome_screen(result, enterprise, circle_ops.settings, i18n.current_locale)
    )
