"""What happens to circles, whichever screen asked: registering interest, opening a circle,
joining and leaving it, and telling the other members, each in their own language."""

from __future__ import annotations

import asyncio
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
from bot.telegram import OutgoingLimiter, SendMessageForId


def pseudonym(number: int) -> str:
    return _("Member {number}").format(number=number)


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
    ELSEWHERE = "elsewhere"  # already in the circle of another enterprise


@dataclass(frozen=True)
class JoinResult:
    outcome: Outcome
    count: int  # interested so far (WAITING) or members (otherwise)
    member: Member | None = None


def _members_left_note(numbers: list[int], size: int) -> Callable[[], str]:
    def text() -> str:
        names = ", ".join(pseudonym(number) for number in numbers)
        return _(
            "No longer reachable, so no longer in the circle: {members}. Members now: {size}."
        ).format(members=names, size=size)

    return text


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
    #: One lock per enterprise: two coworkers agreeing at once must not both open its circle.
    locks: dict[int, asyncio.Lock]
    #: Founders the law requires (10 for an enterprise-level union): reaching it is an event.
    founders: int | None = None

    async def _count_founders(self, circle_id: int, before: int, after: int) -> None:
        if self.founders and before < self.founders <= after:
            await self.record_event(EventKind.CIRCLE_FOUNDERS_REACHED, None, circle=circle_id)

    async def recipients(self, circle_id: int, exclude: str | None = None) -> list[Recipient]:
        members = [m for m in await self.circles.members(circle_id) if m.user_key != exclude]
        return await self._reachable(members)

    async def _reachable(self, members: list[Member]) -> list[Recipient]:
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

    async def announce(
        self, recipients: list[Recipient], text: Callable[[], str], drop: bool = True
    ) -> Delivery:
        """Send each recipient ``text()`` in their language; members who blocked the bot are
        dropped from their circle (``drop``) with one note to the others."""
        texts = {}
        for recipient in recipients:
            with self.i18n.use_locale(recipient.locale):
                texts[recipient.chat_id] = text()
        delivery = await fan_out(
            self.limiter,
            [r.chat_id for r in recipients],
            lambda chat_id: self.bot(
                SendMessageForId(chat_id=chat_id, text=texts[chat_id], protect_content=True)
            ),
        )
        if drop:
            await self.drop_unreachable(recipients, delivery)
        return delivery

    async def drop_unreachable(self, recipients: list[Recipient], delivery: Delivery) -> None:
        """Members who blocked the bot leave their circle; the others get one note for all."""
        gone = [r.member for r in recipients if r.chat_id in delivery.blocked]
        if not gone:
            return
        for member in gone:
            await self.circles.set_status(member.circle_id, member.user_key, "left")
            await self.enterprises.withdraw_interest(member.user_key)
            await self.record_event(
                EventKind.CIRCLE_LEFT, member.user_key, circle=member.circle_id, reason="blocked"
            )
        circle_id = gone[0].circle_id
        others = await self.recipients(circle_id)
        numbers = sorted(member.pseudonym for member in gone)
        await self.announce(others, _members_left_note(numbers, len(others)))

    async def join(self, user_key: str, enterprise: Enterprise) -> JoinResult:
        """Register the user's interest and put them in the circle when there is one."""
        lock = self.locks.setdefault(enterprise.id, asyncio.Lock())
        async with lock:
            circle_id = await self.circles.circle_for(enterprise.id)
            current = await self.circles.membership(user_key)
            if current is not None and current.circle_id != circle_id:
                return JoinResult(Outcome.ELSEWHERE, 0)
            if circle_id is not None:
                before = await self.circles.member(circle_id, user_key)
                if before is not None and before.status == "removed":
                    return JoinResult(Outcome.REMOVED, 0)
            new = await self.enterprises.register_interest(user_key, enterprise.id, self.today)
            if new:
                await self.record_event(
                    EventKind.INTEREST_REGISTERED, user_key, enterprise=enterprise.id
                )
            if circle_id is not None:
                return await self._join_circle(circle_id, user_key)
            # Only coworkers the bot can still reach count toward opening the circle.
            interested = await self.enterprises.interested(enterprise.id)
            reachable = await self.users.reachable(interested)
            ready = [key for key in interested if key in reachable or key == user_key]
            threshold = self.settings.circle_threshold
            if len(ready) < threshold:
                if new:
                    await self._tell_the_waiting(ready, user_key)
                return JoinResult(Outcome.WAITING, len(ready))
            circle_id = await self.circles.open(enterprise.id, ready, self.today)
        await self.record_event(EventKind.CIRCLE_OPENED, None, circle=circle_id)
        for key in ready:
            await self.record_event(EventKind.CIRCLE_JOINED, key, circle=circle_id)
        size = len(ready)
        await self._count_founders(circle_id, 0, size)
        await self.announce(
            await self.recipients(circle_id, exclude=user_key),
            lambda: _(
                "Good news: {size} coworkers are ready, and your circle has opened. "
                "Send /circle to talk to them anonymously."
            ).format(size=size),
        )
        return JoinResult(Outcome.OPENED, size, await self.circles.member(circle_id, user_key))

    async def _tell_the_waiting(self, ready: list[str], newcomer: str) -> None:
        waiting = [Member(0, key, 0, False, False, "waiting") for key in ready if key != newcomer]
        recipients = await self._reachable(waiting)
        count, threshold = len(ready), self.settings.circle_threshold
        delivery = await self.announce(
            recipients,
            lambda: _(
                "Another coworker wants to organise: {count} of the {needed} needed "
                "to open your circle."
            ).format(count=count, needed=threshold),
            drop=False,
        )
        # Someone waiting who blocked the bot stops waiting; there is no circle to leave yet.
        for recipient in recipients:
            if recipient.chat_id in delivery.blocked:
                await self.enterprises.withdraw_interest(recipient.member.user_key)

    async def _join_circle(self, circle_id: int, user_key: str) -> JoinResult:
        before = await self.circles.member(circle_id, user_key)
        member = await self.circles.join(circle_id, user_key, self.today)
        if member is None:
            return JoinResult(Outcome.REMOVED, 0)
        others = await self.recipients(circle_id, exclude=user_key)
        if before is None or not before.active:
            await self.record_event(EventKind.CIRCLE_JOINED, user_key, circle=circle_id)
            size = len(others) + 1
            await self._count_founders(circle_id, size - 1, size)
            await self.announce(
                others,
                lambda: _("{member} joined the circle. Members now: {size}.").format(
                    member=pseudonym(member.pseudonym), size=size
                ),
            )
        return JoinResult(Outcome.JOINED, len(others) + 1, member)

    async def leave(self, member: Member, reason: str = "left") -> None:
        """The member leaves (and stops looking for coworkers); the others are told."""
        await self.circles.set_status(member.circle_id, member.user_key, reason)
        await self.enterprises.withdraw_interest(member.user_key)
        await self.record_event(
            EventKind.CIRCLE_LEFT, member.user_key, circle=member.circle_id, reason=reason
        )
        if reason == "removed":
            return  # the volunteer's command tells the others in its own words
        others = await self.recipients(member.circle_id)
        size = len(others)
        await self.announce(
            others,
            lambda: _("{member} left the circle. Members now: {size}.").format(
                member=pseudonym(member.pseudonym), size=size
            ),
        )
