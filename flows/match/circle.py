"""Inside a circle: its screen, circle mode (relay), mutual reveal, invite links, leaving."""

from __future__ import annotations

import contextlib
import hashlib
import html
import secrets
from datetime import timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReactionTypeEmoji
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.content.guide import Pack
from bot.db.cases import CasesRepo
from bot.db.circles import CirclesRepo, Member
from bot.db.enterprises import EnterprisesRepo
from bot.events import EventKind
from bot.fanout import Delivery, fan_out
from bot.filters import ButtonsOf, Command
from bot.telegram import SendMessageForId
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from flows.match.circles import Circles, pseudonym
from flows.media import carries_hidden_data
from flows.onboarding.callbacks import MenuAction, MenuCB
from flows.screens import show_screen

#: Content a circle relays. Locations, contacts, polls and the like could identify someone or
#: cannot be copied faithfully, so they are refused with an explanation.
RELAYED = ("text", "photo", "document", "voice", "video", "audio")
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096


def invite_hash(token: str) -> str:
    """Invites are stored as hashes: the database alone cannot rebuild a working link."""
    return hashlib.sha256(token.encode()).hexdigest()


class InCircleMode(Filter):
    """Passes a non-command message from a member whose circle mode is on; gives ``member``."""

    async def __call__(
        self, message: Message, circles: CirclesRepo, user_key: str | None
    ) -> bool | dict[str, Any]:
        if user_key is None or (message.text or "").startswith("/"):
            return False
        member = await circles.membership(user_key)
        if member is None or not member.relay_on:
            return False
        return {"member": member}


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(CircleCB))
    router.message.register(cmd_circle, Command("circle"))
    for action, handler in (
        (CircleAction.MENU, on_menu),
        (CircleAction.RELAY_ON, on_relay),
        (CircleAction.RELAY_OFF, on_relay),
        (CircleAction.REVEAL_ON, on_reveal),
        (CircleAction.REVEAL_OFF, on_reveal),
        (CircleAction.INVITE, on_invite),
        (CircleAction.REVOKE, on_revoke),
        (CircleAction.LEAVE, on_leave),
        (CircleAction.LEAVE_SURE, on_leave_sure),
    ):
        router.callback_query.register(handler, CircleCB.filter(F.action == action))
    router.message.register(on_circle_message, InCircleMode())
    return router


def founders_needed(packs: dict[str, Pack]) -> int | None:
    """The founders the default pack's law requires (10 for an enterprise-level union)."""
    return next(iter(packs.values())).founders


async def circle_screen(
    member: Member,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    enterprise_id = await circles.enterprise_of(member.circle_id)
    enterprise = await enterprises.get(enterprise_id or 0)
    size = len(await circles.members(member.circle_id))
    name = (
        html.escape(f"{enterprise.name(locale)}, {enterprise.city(locale)}") if enterprise else ""
    )
    lines = [
        _("<b>Circle of coworkers at {name}</b>").format(name=name),
        _("You are {member}. Members: {size}.").format(
            member=pseudonym(member.pseudonym), size=size
        ),
    ]
    needed = founders_needed(packs)
    if needed:
        lines.append(
            _("Toward an enterprise-level union: {size} of {needed} founders.").format(
                size=min(size, needed), needed=needed
            )
        )
    lines.append("")
    if member.relay_on:
        lines.append(_("💬 <b>Circle mode is on:</b> what you send here goes to the circle."))
    else:
        lines.append(_("Circle mode is off: turn it on to write to the circle."))
    if member.reveal:
        lines.append(_("🤝 You share your contact with members who share theirs."))
    builder = InlineKeyboardBuilder()
    if member.relay_on:
        builder.button(
            text=_("⏸ Circle mode off"), callback_data=CircleCB(action=CircleAction.RELAY_OFF)
        )
    else:
        builder.button(
            text=_("💬 Circle mode on"), callback_data=CircleCB(action=CircleAction.RELAY_ON)
        )
    if member.reveal:
        builder.button(
            text=_("🙈 Stop sharing my contact"),
            callback_data=CircleCB(action=CircleAction.REVEAL_OFF),
        )
    else:
        builder.button(
            text=_("🤝 Share my contact with those who share theirs"),
            callback_data=CircleCB(action=CircleAction.REVEAL_ON),
        )
    builder.button(
        text=_("🔗 Invite a coworker"), callback_data=CircleCB(action=CircleAction.INVITE)
    )
    builder.button(
        text=_("🚫 Revoke my invite links"), callback_data=CircleCB(action=CircleAction.REVOKE)
    )
    builder.button(
        text=_("🚪 Leave the circle"), callback_data=CircleCB(action=CircleAction.LEAVE)
    )
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def _not_a_member() -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("👥 Find coworkers"), callback_data=MatchCB(action=MatchAction.START))
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    builder.adjust(1)
    return _("You are not in a circle yet."), builder.as_markup()


async def _screen_for(
    user_key: str,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    member = await circles.membership(user_key)
    if member is None:
        return _not_a_member()
    return await circle_screen(member, circles, enterprises, packs, locale)


async def cmd_circle(
    message: Message,
    user_key: str,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    i18n: I18n,
) -> None:
    """The circle's screen."""
    text, keyboard = await _screen_for(user_key, circles, enterprises, packs, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


async def on_menu(
    callback: CallbackQuery,
    user_key: str,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    i18n: I18n,
) -> None:
    """The circle's screen, from a button."""
    text, keyboard = await _screen_for(user_key, circles, enterprises, packs, i18n.current_locale)
    await show_screen(callback, text, keyboard)


async def on_relay(
    callback: CallbackQuery,
    callback_data: CircleCB,
    user_key: str,
    circles: CirclesRepo,
    cases: CasesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    i18n: I18n,
) -> None:
    """Turn circle mode on or off (not on while a conversation with a volunteer is open)."""
    member = await circles.membership(user_key)
    if member is None:
        await show_screen(callback, *_not_a_member())
        return
    turning_on = callback_data.action == CircleAction.RELAY_ON
    if turning_on and await cases.active_for(user_key) is not None:
        # One place for what you write: an open conversation with a volunteer comes first.
        await callback.answer(
            _(
                "End your conversation with the volunteer first (/end): until then, what you "
                "write goes to the volunteer."
            ),
            show_alert=True,
        )
        return
    await circles.set_relay(member.circle_id, user_key, turning_on)
    await on_menu(callback, user_key, circles, enterprises, packs, i18n)


def contact_link(chat_id: int, member: Member) -> str:
    """A link that opens the member's Telegram profile; nothing about them is stored to make it."""
    return f'<a href="tg://user?id={chat_id}">{html.escape(pseudonym(member.pseudonym))}</a>'


async def on_reveal(
    callback: CallbackQuery,
    callback_data: CircleCB,
    user_key: str,
    circles: CirclesRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    circle_ops: Circles,
    i18n: I18n,
) -> None:
    """Mutual reveal: opting in exchanges contacts with every other member who opted in."""
    member = await circles.membership(user_key)
    if member is None or callback.message is None:
        await show_screen(callback, *_not_a_member())
        return
    turning_on = callback_data.action == CircleAction.REVEAL_ON
    await circles.set_reveal(member.circle_id, user_key, turning_on)
    if turning_on and not member.reveal:
        await circle_ops.record_event(EventKind.REVEAL_OPT_IN, user_key, circle=member.circle_id)
        others = [
            r
            for r in await circle_ops.recipients(member.circle_id, exclude=user_key)
            if r.member.reveal
        ]
        me = callback.message.chat.id
        if others:
            links = ", ".join(contact_link(r.chat_id, r.member) for r in others)
            await callback.message.answer(
                _(
                    "These members share their contacts with you: {links}. Tap a name to "
                    "open the profile. If it does not open, that person hides their account "
                    "in forwarded messages: ask them in the circle for their @username."
                ).format(links=links),
                protect_content=True,
            )
        else:
            await callback.message.answer(
                _(
                    "Nobody else shares a contact yet. "
                    "When someone does, you will both get each other's."
                )
            )
        mine = contact_link(me, member)
        # The username, if any, is read now from Telegram and sent on: never stored. Profile
        # links do not open for people who hide themselves in forwarded messages.
        username = callback.from_user.username
        if username:
            mine = f"{mine} (@{html.escape(username)})"
        await circle_ops.announce(
            others,
            lambda: _("{link} now shares their contact with you, as you do with them.").format(
                link=mine
            ),
        )
    await on_menu(callback, user_key, circles, enterprises, packs, i18n)


async def on_invite(
    callback: CallbackQuery,
    user_key: str,
    bot: Bot,
    circles: CirclesRepo,
    circle_ops: Circles,
) -> None:
    """A one-person link to give a coworker face to face: a random token only, with an expiry."""
    member = await circles.membership(user_key)
    if member is None or callback.message is None:
        await show_screen(callback, *_not_a_member())
        return
    token = secrets.token_urlsafe(16)
    days = circle_ops.settings.invite_days
    expires = circle_ops.today + timedelta(days=days)
    await circles.add_invite(invite_hash(token), member.circle_id, user_key, expires)
    await circle_ops.record_event(EventKind.INVITE_CREATED, user_key, circle=member.circle_id)
    me = await bot.me()
    link = f"https://t.me/{me.username}?start=i_{token}"
    await callback.message.answer(
        _(
            "Give this link to a coworker you trust, in person. It works until {date} "
            "and says nothing about your enterprise:\n{link}"
        ).format(date=expires.isoformat(), link=html.escape(link))
    )
    await callback.answer()


async def on_revoke(callback: CallbackQuery, user_key: str, circles: CirclesRepo) -> None:
    """Revoke every invite link this member has made."""
    member = await circles.membership(user_key)
    if member is None:
        await show_screen(callback, *_not_a_member())
        return
    count = await circles.revoke_invites(member.circle_id, user_key)
    await callback.answer(_("Links revoked: {count}.").format(count=count), show_alert=True)


async def on_leave(callback: CallbackQuery) -> None:
    """Ask before leaving: the way back is another consent."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🚪 Yes, leave"), callback_data=CircleCB(action=CircleAction.LEAVE_SURE))
    builder.button(text=_("⬅️ Back"), callback_data=CircleCB(action=CircleAction.MENU))
    builder.adjust(1)
    await show_screen(
        callback,
        _(
            "Leave the circle? The others will see that a member left. "
            "You will stop looking for coworkers."
        ),
        builder.as_markup(),
    )


async def on_leave_sure(
    callback: CallbackQuery, user_key: str, circles: CirclesRepo, circle_ops: Circles
) -> None:
    """Leave the circle."""
    member = await circles.membership(user_key)
    if member is not None:
        await circle_ops.leave(member)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ Menu"), callback_data=MenuCB(action=MenuAction.MENU))
    await show_screen(callback, _("You left the circle."), builder.as_markup())


async def on_circle_message(
    message: Message, member: Member, bot: Bot, circle_ops: Circles
) -> None:
    """Relay what the member sent to everyone else in the circle, under their pseudonym."""
    kind = next((k for k in RELAYED if getattr(message, k, None)), None)
    if kind is None:
        await message.answer(
            _(
                "This kind of message cannot be sent to the circle: only text, photos, files, "
                "voice messages, video and audio. Turn circle mode off with /circle."
            )
        )
        return
    if carries_hidden_data(message):
        # A picture sent as a file keeps its hidden data (the place it was taken, the camera);
        # Telegram strips that from photos.
        await message.answer(
            _(
                "Please send pictures as photos, not as files: a file keeps hidden details "
                "such as where it was taken, which could identify you."
            )
        )
        return
    recipients = await circle_ops.recipients(member.circle_id, exclude=member.user_key)
    headers: dict[int, str] = {}
    for recipient in recipients:
        with circle_ops.i18n.use_locale(recipient.locale):
            headers[recipient.chat_id] = f"<b>{html.escape(pseudonym(member.pseudonym))}</b>"
    chats = [r.chat_id for r in recipients]
    longest = max((len(h) for h in headers.values()), default=0)
    if kind == "text":
        body = html.escape(message.text or "")
        if len(body) + longest + 1 <= TEXT_LIMIT:
            delivery = await fan_out(
                circle_ops.limiter,
                chats,
                lambda chat: bot(
                    SendMessageForId(
                        chat_id=chat, text=f"{headers[chat]}\n{body}", protect_content=True
                    )
                ),
            )
        else:
            delivery = await _header_then_copy(message, bot, circle_ops, chats, headers)
    else:
        caption = html.escape(message.caption or "")
        if len(caption) + longest + 1 <= CAPTION_LIMIT:
            delivery = await fan_out(
                circle_ops.limiter,
                chats,
                lambda chat: message.copy_to(
                    chat,
                    caption=f"{headers[chat]}\n{caption}" if caption else headers[chat],
                    protect_content=True,
                ),
            )
        else:
            delivery = await _header_then_copy(message, bot, circle_ops, chats, headers)
    await circle_ops.drop_unreachable(recipients, delivery)
    await circle_ops.circles.touch(member.circle_id, circle_ops.today)
    await circle_ops.record_event(
        EventKind.CIRCLE_MESSAGE, member.user_key, circle=member.circle_id
    )
    if not recipients:
        await message.answer(
            _("Nobody else is in the circle right now: your message was not sent.")
        )
        return
    if delivery.failed:
        await message.answer(
            _("Your message reached {sent} of {total} members.").format(
                sent=len(delivery.sent), total=len(recipients)
            )
        )
        return
    # A quiet sign that it went to the circle: circle mode must never be forgotten about.
    with contextlib.suppress(TelegramAPIError):
        await message.react([ReactionTypeEmoji(emoji="👌")])


async def _header_then_copy(
    message: Message, bot: Bot, circle_ops: Circles, chats: list[int], headers: dict[int, str]
) -> Delivery:
    """Too long to carry the pseudonym inside: the pseudonym, then the message, each paced."""
    first = await fan_out(
        circle_ops.limiter,
        chats,
        lambda chat: bot(SendMessageForId(chat_id=chat, text=headers[chat], protect_content=True)),
    )
    reached = [chat for chat in chats if chat in first.sent]
    second = await fan_out(
        circle_ops.limiter, reached, lambda chat: message.copy_to(chat, protect_content=True)
    )
    return Delivery(
        sent=second.sent,
        blocked=first.blocked + second.blocked,
        failed=first.failed + second.failed,
    )
