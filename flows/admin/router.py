"""/grant and /revoke in a private chat with the bot, by Telegram id, for admins."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.config import Settings
from bot.db.cases import CasesRepo
from bot.db.users import UsersRepo
from bot.filters import CommandsOf
from bot.identity import Identity
from flows.admin.roles import Role, parse_role, set_role
from flows.numbers import parse_number


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(CommandsOf("grant", "revoke"))
    router.message.register(cmd_grant, Command("grant", "revoke"))
    return router


def role_change_text(role: Role, granting: bool, done: bool) -> str:
    """What the admin is told after /grant or /revoke."""
    if not done:
        return _(
            "This person has not started the bot yet: ask them to send /start to the bot first."
        )
    match role, granting:
        case Role.VOLUNTEER, True:
            return _("Granted: they can act on cases even without group membership.")
        case Role.VOLUNTEER, False:
            return _("Revoked: they act on cases only while a member of the volunteers' group.")
        case Role.COORDINATOR, True:
            return _("Granted: they can read the weekly report with /stats in a private chat.")
        case _:
            return _("Revoked: they read the report only while in the coordinators' chat.")


async def cmd_grant(
    message: Message,
    command: CommandObject,
    settings: Settings,
    identity: Identity,
    cases: CasesRepo,
    users: UsersRepo,
    clock: Clock,
) -> None:
    """/grant volunteer|coordinator <Telegram id> (or /revoke): a role for someone not in the
    volunteers' group, where the reply form of the command does not reach them."""
    sender = message.from_user
    if sender is None or sender.id not in settings.admin_ids:
        await message.answer(_("Only admins can grant or revoke roles."))
        return
    words = (command.args or "").split()
    role = parse_role(words[0]) if len(words) == 2 else None
    target = parse_number(words[1]) if len(words) == 2 else None
    if role is None or target is None:
        await message.answer(
            _(
                "Usage: /grant volunteer 123456789 or /grant coordinator 123456789 "
                "(/revoke the same way). The number is the person's Telegram id."
            )
        )
        return
    granting = command.command == "grant"
    done = await set_role(
        role,
        identity.user_key(target),
        granting,
        identity.user_key(sender.id),
        cases=cases,
        users=users,
        today=clock().date(),
    )
    await message.answer(role_change_text(role, granting, done))
