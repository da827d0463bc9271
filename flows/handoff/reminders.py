"""Reminders: a case nobody took is pinged in the group; a worker left waiting is reassured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import gettext as _

from flows.handoff.desk import Desk

log = logging.getLogger(__name__)
INTERVAL = 60.0


async def remind(desk: Desk) -> int:
    """One pass over the waiting cases; returns how many reminders went out."""
    with desk.i18n.context():  # outside an update: no middleware has set it
        return await _remind(desk)


async def _remind(desk: Desk) -> int:
    sent = 0
    for case in await desk.cases.waiting():
        waited = desk.seconds_since(case.opened_at) / 60
        if waited >= desk.settings.take_reminder_minutes and not case.reminded:
            await desk.cases.mark(case.id, "reminded")
            with desk.i18n.use_locale(desk.settings.default_locale):
                text = _(
                    "⏰ Case #{number} has been waiting for {minutes} "
                    "minutes: can someone take it?"
                ).format(number=case.id, minutes=int(waited))
            with contextlib.suppress(TelegramAPIError):
                await desk.note(case, text)
                sent += 1
        if waited >= desk.settings.queue_notice_minutes and not case.worker_told:
            await desk.cases.mark(case.id, "worker_told")
            if await desk.tell_worker(
                case,
                lambda: _(
                    "Your question is still in the queue: a volunteer will "
                    "answer here as soon as one is free."
                ),
            ):
                sent += 1
    return sent


async def run_reminders(make_desk: Callable[[], Desk], interval: float = INTERVAL) -> None:
    """Every minute, until cancelled."""
    while True:
        try:
            await remind(make_desk())
        except Exception:
            log.exception("the reminder pass failed")
        await asyncio.sleep(interval)
