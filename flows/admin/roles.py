"""Roles admins grant: the one place a role is set, and the one place it is logged."""

from __future__ import annotations

import logging
from datetime import date
from enum import StrEnum

from bot.db.cases import CasesRepo
from bot.db.users import UsersRepo

log = logging.getLogger(__name__)


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"


def parse_role(word: str | None) -> Role | None:
    """``volunteer`` or ``coordinator`` (any case); nothing means volunteer."""
    if not word:
        return Role.VOLUNTEER
    try:
        return Role(word.strip().lower())
    except ValueError:
        return None


async def set_role(
    role: Role,
    target_key: str,
    granting: bool,
    admin_key: str,
    *,
    cases: CasesRepo,
    users: UsersRepo,
    today: date,
) -> bool:
    """Grant or revoke; False when a coordinator-to-be has never started the bot.

    Every change goes to the access log under the admin's key, e.g. ``grant_coordinator``.
    """
    if role == Role.VOLUNTEER:
        await cases.set_granted(target_key, granting)
    elif not await users.set_coordinator(target_key, granting):
        return False
    action = f"{'grant' if granting else 'revoke'}_{role.value}"
    await cases.log(admin_key, None, action, today)
    log.info("an admin changed a role: %s", action)
    return True
