"""Volunteers' oversight of circles, in the volunteers' chat only: no identities, ever."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import CommandObject
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.db.cases import CasesRepo
from bot.db.circles import CirclesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.filters import Command
from bot.matching import EnterpriseIndex
from flows.handoff.volunteers import VolunteersOnly
from flows.match.circles import Circles, pseudonym
from flows.numbers import parse_number

USAGE_POST = "/circle_post CIRCLE TEXT"
#: Listings are split below Telegram's 4,096 characters.
CHUNK = 3500
USAGE_REMOVE = "/circle_remove CIRCLE MEMBER"
USAGE_MERGE = "/merge PENDING ENTERPRISE"


def create_router() -> Router:
    """Commands for the volunteers' chat; the parent router admits only that chat."""
    router = Router(name=__name__)
    router.message.register(cmd_circles, Command("circles"))
    router.message.register(cmd_circle_post, Command("circle_post"))
    router.message.register(cmd_circle_remove, Command("circle_remove"))
    router.message.register(cmd_pending, Command("pending"))
    router.message.register(cmd_approve, Command("approve"))
    router.message.register(cmd_merge, Command("merge"))
    # Anyone who can write in the group reaches here: the role is checked first, and only
    # what a volunteer did is logged.
    router.message.middleware(VolunteersOnly())
    router.message.middleware(AccessLogMiddleware())
    return router


class AccessLogMiddleware(BaseMiddleware):
    """Every oversight command goes to the access log: who (as a key), what, which day."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:  # a command that failed half-way was still attempted
            command: CommandObject | None = data.get("command")
            user_key: str | None = data.get("user_key")
            if command is not None and user_key is not None:
                cases: CasesRepo = data["cases"]
                clock: Clock = data["clock"]
                await cases.log(user_key, None, command.command, clock().date())


async def answer_lines(message: Message, lines: list[str]) -> None:
    """Send a listing in as many messages as it takes."""
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(part) + 1 for part in chunk) + len(line) > CHUNK:
            await message.answer("\n".join(chunk))
            chunk = []
        chunk.append(line)
    if chunk:
        await message.answer("\n".join(chunk))


def _ints(command: CommandObject, count: int) -> list[int] | None:
    parts = (command.args or "").split(maxsplit=count)
    if len(parts) < count:
        return None
    numbers = [parse_number(part) for part in parts[:count]]
    return None if None in numbers else numbers  # type: ignore[return-value]


async def cmd_circles(
    message: Message, circles: CirclesRepo, enterprises: EnterprisesRepo, i18n: I18n
) -> None:
    """Every circle: number, enterprise, size, last activity. Nobody's identity."""
    summaries = await circles.summaries()
    if not summaries:
        await message.answer(_("No circles yet."))
        return
    lines = [_("<b>Circles</b> (number · enterprise · members · last active)")]
    for circle in summaries:
        enterprise = await enterprises.get(circle.enterprise_id)
        name = enterprise.name(i18n.current_locale) if enterprise else "?"
        lines.append(
            f"#{circle.id} · {html.escape(name)} · {circle.size} · "
            f"{circle.last_activity_on.isoformat()}"
        )
    await answer_lines(message, lines)


async def cmd_circle_post(
    message: Message, command: CommandObject, circles: CirclesRepo, circle_ops: Circles
) -> None:
    """Write to a circle as “Volunteer”."""
    parts = (command.args or "").split(maxsplit=1)
    circle_id = parse_number(parts[0]) if len(parts) == 2 else None
    if circle_id is None or not parts[1].strip():
        await message.answer(_("Usage: {usage}").format(usage=USAGE_POST))
        return
    text = parts[1].strip()
    if await circles.enterprise_of(circle_id) is None:
        await message.answer(_("There is no circle #{number}.").format(number=circle_id))
        return
    recipients = await circle_ops.recipients(circle_id)
    delivery = await circle_ops.announce(
        recipients, lambda: f"<b>{html.escape(_('Volunteer'))}</b>\n{html.escape(text)}"
    )
    await message.answer(
        _("Sent to {sent} of {total} members.").format(
            sent=len(delivery.sent), total=len(recipients)
        )
    )


async def cmd_circle_remove(
    message: Message, command: CommandObject, circles: CirclesRepo, circle_ops: Circles
) -> None:
    """Remove a member by pseudonym (a suspected informer): they cannot come back."""
    numbers = _ints(command, 2)
    if numbers is None:
        await message.answer(_("Usage: {usage}").format(usage=USAGE_REMOVE))
        return
    circle_id, number = numbers
    member = await circles.by_pseudonym(circle_id, number)
    if member is None or not member.active:
        await message.answer(
            _("Circle #{circle} has no active {member}.").format(
                circle=circle_id, member=pseudonym(number)
            )
        )
        return
    target = [r for r in await circle_ops.recipients(circle_id) if r.member == member]
    await circle_ops.leave(member, reason="removed")  # their invite links die with it
    await circle_ops.announce(target, lambda: _("A volunteer removed you from the circle."))
    others = await circle_ops.recipients(circle_id)
    size = len(others)
    await circle_ops.announce(
        others,
        lambda: _("A volunteer removed {member} from the circle. Members now: {size}.").format(
            member=pseudonym(number), size=size
        ),
    )
    await message.answer(
        _("{member} was removed from circle #{circle}.").format(
            member=pseudonym(number), circle=circle_id
        )
    )


async def cmd_pending(message: Message, enterprises: EnterprisesRepo) -> None:
    """Enterprises users named that are not in the directory yet."""
    pending = await enterprises.pending()
    if not pending:
        await message.answer(_("No pending enterprises."))
        return
    lines = [_("<b>Pending enterprises</b> (id · name · city · interested)")]
    for enterprise, count in pending:
        lines.append(
            f"{enterprise.id} · {html.escape(enterprise.names['en'])} · "
            f"{html.escape(enterprise.cities['en'])} · {count}"
        )
    lines.append(
        _("Approve with /approve PENDING, or merge into a known one with {usage}.").format(
            usage=USAGE_MERGE
        )
    )
    await message.answer("\n".join(lines))


async def cmd_approve(
    message: Message, command: CommandObject, enterprises: EnterprisesRepo
) -> None:
    """Accept a pending enterprise as a real, separate one."""
    numbers = _ints(command, 1)
    if numbers is None or not await enterprises.approve(numbers[0]):
        await message.answer(_("Usage: /approve PENDING (see /pending)."))
        return
    await message.answer(_("Enterprise {id} approved.").format(id=numbers[0]))


async def cmd_merge(
    message: Message,
    command: CommandObject,
    enterprises: EnterprisesRepo,
    enterprise_index: EnterpriseIndex,
    circle_ops: Circles,
) -> None:
    """A pending name is another name of a known enterprise: keep it as an alias, move people."""
    numbers = _ints(command, 2)
    if numbers is None:
        await message.answer(_("Usage: {usage}").format(usage=USAGE_MERGE))
        return
    pending_id, target_id = numbers
    moved = await enterprises.merge(pending_id, target_id)
    if moved is None:
        await message.answer(
            _("Cannot merge: {pending} must be pending and {target} another enterprise.").format(
                pending=pending_id, target=target_id
            )
        )
        return
    name, keys = moved
    enterprise_index.reassign(pending_id, target_id)
    old_circle = await circle_ops.circles.circle_for(pending_id)
    if old_circle is not None:
        await circle_ops.circles.close_invites(old_circle)
    target = await enterprises.get(target_id)
    assert target is not None
    for user_key in keys:
        old = await circle_ops.circles.membership(user_key)
        if old is not None:  # a circle had opened around the pending name: move, don't duplicate
            await circle_ops.circles.set_status(old.circle_id, user_key, "left")
        await circle_ops.join(user_key, target)
    await message.answer(
        _("Merged: “{name}” is now a name of enterprise {target}; {count} people moved.").format(
            name=html.escape(name), target=target_id, count=len(keys)
        )
    )
