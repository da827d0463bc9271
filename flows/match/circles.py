"""What happens to circles, whichever screen asked: registering interest, opening a circle,
joining and leaving it, and telling the other members, each in their own language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.db.circles import CirclesRepo, Member
from bot.db.enterprises import Enterprise, EnterprisesRepo
from bot.db.users import UsersRepo
from bot.events import EventKind, EventRecorder
from bot.fanout import Delivery, fan_out
from bot.identity import Identity
from bot.telegram import OutgoingLimiter


def pseudonym(number: int) -> str:
    return _("Member {number}").format(number=number)


def _unreachable_note(number: int, size: int) -> Callable[[], str]:
    def text() -> str:
        return _(
            "{member} can no longer be reached and has left the circle. Members now: {size}."
        ).format(member=pseudonym(number), size=size)

    return text


@dataclass(frozen=True)
class Recipient:
    member: Member
    chat_id: int
    locale: str


class Outcome(StrEnum):
    WAITING = "waiting"  # fewer than the threshold so far
    OPENED = "opened"  # this user's consent opened the circle
    JOINED = "joined"  # the circle existed; the user is in it now
    REMOVED = "removed"  # a volunteer removed this user from the circle: no way back


@dataclass(frozen=True)
class JoinResult:
    outcome: Outcome
    count: int  # interested so far (WAITING) or members (otherwise)
    member: Member | None = None


@dataclass
class Circles:
    """The repositories and services circles need, gathered once per update."""

    bot: Bot
    settings: Settings
    i18n: I18n
    identity: Identity
    users: UsersRepo
    enterprises: EnterprisesRepo
    circles: CirclesRepo
    limiter: OutgoingLimiter
    record_event: EventRecorder
    today: date

    async def recipients(self, circle_id: int, exclude: str | None = None) -> list[Recipient]:
        members = [m for m in await self.circles.members(circle_id) if m.user_key != exclude]
        reachable = await self.users.reachable([m.user_key for m in members])
        found = []
        for member in members:
            if member.user_key not in reachable:
                continue
            sealed, locale = reachable[member.user_key]
            chat_id = self.identity.open_chat(sealed, member.user_key)
            if chat_id is not None:
                found.append(Recipient(member, chat_id, locale or self.settings.default_locale))
        return found

    async def announce(self, recipients: list[Recipient], text: Callable[[], str]) -> Delivery:
        """Send each recipient ``text()`` rendered in their language; drop the unreachable."""
        texts = {}
        for recipient in recipients:
            with self.i18n.use_locale(recipient.locale):
                texts[recipient.chat_id] = text()
        delivery = await fan_out(
            self.limiter,
            [r.chat_id for r in recipients],
            lambda chat_id: self.bot.send_message(chat_id, texts[chat_id], protect_content=True),
        )
        await self.drop_unreachable(recipients, delivery)
        return delivery

    async def drop_unreachable(self, recipients: list[Recipient], delivery: Delivery) -> None:
        """Members who blocked the bot leave their circle; the others are told."""
        gone = [r for r in recipients if r.chat_id in delivery.blocked]
        for recipient in gone:
            member = recipient.member
            await self.circles.set_status(member.circle_id, member.user_key, "left")
            await self.record_event(
                EventKind.CIRCLE_LEFT, member.user_key, circle=member.circle_id, reason="blocked"
            )
        for recipient in gone:
            others = await self.recipients(recipient.member.circle_id)
            await self.announce(others, _unreachable_note(recipient.member.pseudonym, len(others)))

    async def join(self, user_key: str, enterprise: Enterprise) -> JoinResult:
        """Register the user's interest and put them in the circle when there is one."""
        if await self.enterprises.register_interest(user_key, enterprise.id, self.today):
            await self.record_event(
                EventKind.INTEREST_REGISTERED, user_key, enterprise=enterprise.id
            )
        circle_id = await self.circles.circle_for(enterprise.id)
        if circle_id is not None:
            return await self._join_circle(circle_id, user_key)
        interested = await self.enterprises.interested(enterprise.id)
        threshold = self.settings.circle_threshold
        if len(interested) < threshold:
            await self._tell_the_waiting(enterprise, interested, user_key)
            return JoinResult(Outcome.WAITING, len(interested))
        circle_id = await self.circles.open(enterprise.id, interested, self.today)
        await self.record_event(EventKind.CIRCLE_OPENED, None, circle=circle_id)
        for key in interested:
            await self.record_event(EventKind.CIRCLE_JOINED, key, circle=circle_id)
        size = len(interested)
        await self.announce(
            await self.recipients(circle_id, exclude=user_key),
            lambda: _(
                "Good news: {size} coworkers are ready, and your circle has opened. "
                "Send /circle to talk to them anonymously."
            ).format(size=size),
        )
        return JoinResult(Outcome.OPENED, size, await self.circles.member(circle_id, user_key))

    async def _tell_the_waiting(
        self, enterprise: Enterprise, interested: list[str], newcomer: str
    ) -> None:
        waiting = [key for key in interested if key != newcomer]
        reachable = await self.users.reachable(waiting)
        recipients = []
        for key, (sealed, locale) in reachable.items():
            chat_id = self.identity.open_chat(sealed, key)
            if chat_id is not None:
                member = Member(0, key, 0, False, False, "waiting")
                recipients.append(
                    Recipient(member, chat_id, locale or self.settings.default_locale)
                )
        count, threshold = len(interested), self.settings.circle_threshold
        await self.announce(
            recipients,
            lambda: _(
                "Another coworker wants to organise: {count} of the {needed} needed "
                "to open your circle."
            ).format(count=count, needed=threshold),
        )

    async def _join_circle(self, circle_id: int, user_key: str) -> JoinResult:
        before = await self.circles.member(circle_id, user_key)
        member = await self.circles.join(circle_id, user_key, self.today)
        if member is None:
            return JoinResult(Outcome.REMOVED, 0)
        others = await self.recipients(circle_id, exclude=user_key)
        if before is None or not before.active:
            await self.record_event(EventKind.CIRCLE_JOINED, user_key, circle=circle_id)
            size = len(others) + 1
            await self.announce(
                others,
                lambda: _("{member} joined the circle. Members now: {size}.").format(
                    member=pseudonym(member.pseudonym), size=size
                ),
            )
        return JoinResult(Outcome.JOINED, len(others) + 1, member)

    async def leave(self, member: Member) -> None:
        """The member leaves (and stops looking for coworkers); the others are told."""
        await self.circles.set_status(member.circle_id, member.user_key, "left")
        await self.enterprises.withdraw_interest(member.user_key)
        await self.record_event(
            EventKind.CIRCLE_LEFT, member.user_key, circle=member.circle_id, reason="left"
        )
        others = await self.recipients(member.circle_id)
        size = len(others)
        await self.announce(
            others,
            lambda: _("{member} left the circle. Members now: {size}.").format(
                member=pseudonym(member.pseudonym), size=size
            ),
        )
