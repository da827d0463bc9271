"""The daily retention job: deletes what the retention settings say is no longer needed.

Each pass is counted in the log (numbers only). Closed cases take their topic (or card) in the
volunteers' group with them; circles without activity are closed with a note to their members;
users without activity are erased as with /forget, without a message; events older than
13 weeks stop linking one person's weeks together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import gettext as _

from bot.db.privacy import Erased, PrivacyRepo
from bot.db.recent import RecentMessages
from bot.db.retention import CaseCopy, RetentionRepo
from flows.match.middleware import make_circles

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)

DAY = 86_400.0
#: Weeks after which events no longer join a person's weeks (the report looks back 12).
LINK_WEEKS = 13


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class Purged:
    """What one pass deleted, by kind."""

    cases: int = 0
    topics: int = 0
    circles: int = 0
    users: int = 0
    conversations: int = 0
    access_log: int = 0
    blocks: int = 0
    message_ids: int = 0
    update_ids: int = 0
    unlinked_events: int = 0


async def purge(services: Services, bot: Bot) -> Purged:
    """One pass over every retention rule."""
    settings = services.settings
    today = services.today()
    repo = RetentionRepo(services.db)
    with services.i18n.context():  # outside an update: no middleware has set it
        cases, topics = await _purge_cases(
            repo,
            bot,
            settings.volunteers_chat_id,
            today - timedelta(settings.retention_cases_days),
        )
        circles = await _purge_circles(
            services, bot, repo, today - timedelta(settings.retention_circles_days)
        )
    users_before = today - timedelta(settings.retention_users_days)
    users = 0
    for user_key in await repo.inactive_users(users_before):
        await erase_person(
            user_key, bot, settings.volunteers_chat_id, repo, services.recent, services.privacy
        )
        users += 1
    purged = Purged(
        cases=cases,
        topics=topics,
        circles=circles,
        users=users,
        conversations=await repo.purge_conversations(users_before),
        access_log=await repo.purge_access_log(
            today - timedelta(settings.retention_access_log_days)
        ),
        blocks=await repo.purge_blocks(users_before),
        message_ids=await services.recent.purge(today),
        update_ids=await services.handled.purge(today),
        unlinked_events=await repo.unlink_events(_monday(today - timedelta(weeks=LINK_WEEKS))),
    )
    # Deleted rows are zeroed in the file (secure_delete); their old copies in the WAL go now.
    # Deleted rows are zeroed in the file (secure_delete); their old copies in the WAL go now.
    await services.db.checkpoint()
    log.info("retention: %s", ", ".join(f"{k} {v}" for k, v in asdict(purged).items()))
    return purged


async def _purge_cases(
    repo: RetentionRepo, bot: Bot, group: int | None, before: date
) -> tuple[int, int]:
    expired = await repo.expired_cases(before)
    topics = len(await delete_staff_copies(bot, group, expired))
    for case in expired:
        await repo.delete_case(case.id)
    return len(expired), topics


async def erase_person(
    user_key: str,
    bot: Bot,
    group: int | None,
    repo: RetentionRepo,
    recent: RecentMessages,
    privacy: PrivacyRepo,
) -> tuple[list[int], Erased]:
    """What /forget and the users' retention share: the copies of their cases in the
    volunteers' group, their message ids, every row keyed to them. Returns the numbers of the
    cases whose copy went, and what was erased."""
    deleted = await delete_staff_copies(bot, group, await repo.cases_of(user_key))
    await recent.drop(user_key)
    return deleted, await privacy.erase(user_key)


async def delete_staff_copies(bot: Bot, group: int | None, cases: list[CaseCopy]) -> list[int]:
    """Delete each case's forum topic (with the messages copied into it), or its card when
    the group is not a forum; returns the numbers of the cases whose copy went. Failures (the
    bot may not delete, or a card is older than Telegram allows) are left to the volunteers."""
    if group is None:
        return []
    deleted = []
    for case in cases:
        with contextlib.suppress(TelegramAPIError):
            if case.thread_id is not None:
                gone = await bot.delete_forum_topic(group, case.thread_id)
            elif case.card_message_id is not None:
                gone = await bot.delete_message(group, case.card_message_id)
            else:
                continue
            if gone:
                deleted.append(case.id)
    return deleted


async def _purge_circles(services: Services, bot: Bot, repo: RetentionRepo, before: date) -> int:
    circles = make_circles(services, bot)
    days = services.settings.retention_circles_days
    stale = await repo.stale_circles(before)
    for circle_id in stale:
        members = await circles.recipients(circle_id)
        await repo.dissolve_circle(circle_id)
        await circles.announce(
            members,
            lambda: _(
                "Your circle of coworkers was closed after {days} days without messages. "
                "If you still want to find coworkers, search again: /coworkers"
            ).format(days=days),
            drop=False,
        )
    return len(stale)


async def run_retention(
    purge_once: Callable[[], Awaitable[Purged]],
    interval: float = DAY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """At start-up, then once a day, until cancelled."""
    while True:
        try:
            await purge_once()
        except Exception:
            log.exception("the retention pass failed")
        await sleep(interval)
