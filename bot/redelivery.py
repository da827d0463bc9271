"""An update delivered twice is handled once.

After a crash Telegram delivers again the updates whose handling it was not told of; a worker's
"open a case" or "join the circle" must not happen twice, nor be counted twice. Telegram's
update numbers are noted when an update has been handled, and an update already noted is
skipped. An update whose handling was cut short (the process stopped) is not noted, so its
redelivery is handled: nothing is lost.

A number is noted in memory at once and in the database within a second, with others in one
commit (``Database.defer``; at shutdown, at once). Telegram redelivers only what it was not
told of: in webhook mode the answer goes out when the update is handled, in polling mode the
next request for updates acknowledges the last ones. So the second a hard crash could lose
matters only if the acknowledgement was lost too. When several instances share the database
(Redis), a number is written at once: the others look new numbers up there.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

from bot.db.database import Database

log = logging.getLogger(__name__)

#: Update numbers remembered in memory; redeliveries come from the last batch, far fewer.
MEMORY = 10_000
#: Days a handled update's number is kept in the database.
KEEP_DAYS = 2

_MARK = "INSERT INTO handled_updates (update_id, day) VALUES (?, ?) ON CONFLICT DO NOTHING"


class HandledUpdates:
    """The ``handled_updates`` table, with the most recent numbers also in memory."""

    def __init__(self, db: Database, memory: int = MEMORY, shared: bool = False) -> None:
        self._db = db
        self._order: collections.deque[int] = collections.deque()
        self._known: set[int] = set()
        self._memory = memory
        #: Several instances share the database (webhook mode with Redis): an update handled
        #: by another one is only in the database, so a number new to this one is looked up.
        self._shared = shared

    async def load(self) -> None:
        """Read the most recent numbers (once, at start-up)."""
        rows = await self._db.fetchall(
            "SELECT update_id FROM handled_updates ORDER BY update_id DESC LIMIT ?",
            (self._memory,),
        )
        for row in reversed(rows):
            self._remember(int(row[0]))

    def _remember(self, update_id: int) -> None:
        self._known.add(update_id)
        self._order.append(update_id)
        while len(self._order) > self._memory:
            self._known.discard(self._order.popleft())

    def claim(self, update_id: int) -> bool:
        """True if this update is new (and now in progress), False if seen already."""
        if update_id in self._known:
            return False
        self._remember(update_id)
        return True

    async def claim_shared(self, update_id: int) -> bool:
        """:meth:`claim`, and when instances share the work, not handled by another one."""
        if not self.claim(update_id):
            return False
        if not self._shared:
            return True
        marked = await self._db.fetchone(
            "SELECT 1 FROM handled_updates WHERE update_id = ?", (update_id,)
        )
        return marked is None

    def release(self, update_id: int) -> None:
        """Handling was cut short: a redelivery must be handled."""
        self._known.discard(update_id)

    async def mark(self, update_id: int, today: date) -> None:
        """Note in the database that this update was handled (see the module doc)."""
        row = (update_id, today.isoformat())
        if self._shared:
            await self._db.execute(_MARK, row)
        else:
            await self._db.defer(_MARK, row)

    async def purge(self, today: date) -> int:
        await self._db.write_deferred()
        return await self._db.execute(
            "DELETE FROM handled_updates WHERE day < ?",
            ((today - timedelta(days=KEEP_DAYS)).isoformat(),),
        )


class RedeliveryMiddleware(BaseMiddleware):
    """Skips updates already handled; notes each update once its handling is over."""

    def __init__(self, handled: HandledUpdates, today: Callable[[], date]) -> None:
        self._handled = handled
        self._today = today

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        update_id = event.update_id
        if not await self._handled.claim_shared(update_id):
            log.info("an update delivered again was skipped")
            return UNHANDLED
        try:
            result = await handler(event, data)
        except Exception:
            # Handling failed for good (the error handler has answered): a redelivery would
            # only fail again.
            await self._handled.mark(update_id, self._today())
            raise
        except BaseException:  # cancelled: the process is stopping mid-update
            self._handled.release(update_id)
            raise
        await self._handled.mark(update_id, self._today())
        return result
