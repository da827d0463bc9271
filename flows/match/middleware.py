"""Builds the :class:`~flows.match.circles.Circles` coordinator for each update of this flow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject

from bot.clock import Clock
from flows.match.circles import Circles

if TYPE_CHECKING:
    from bot.app import Services


def make_circles(services: Services, bot: Bot) -> Circles:
    """Circles for work outside an update (the retention job)."""
    return Circles(
        bot=bot,
        settings=services.settings,
        i18n=services.i18n,
        identity=services.identity,
        users=services.users,
        enterprises=services.enterprises,
        circles=services.circles,
        limiter=services.limiter,
        record_event=services.record_event,
        today=services.clock().date(),  # as CirclesMiddleware dates what it does
        locks=services.circle_locks,
        founders=next(iter(services.packs.values())).founders,
    )


class CirclesMiddleware(BaseMiddleware):
    """Gives handlers ``circle_ops`` built from the singletons, with today's date."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        clock: Clock = data["clock"]
        data["circle_ops"] = Circles(
            bot=data["bot"],
            settings=data["settings"],
            i18n=data["i18n"],
            identity=data["identity"],
            users=data["users"],
            enterprises=data["enterprises"],
            circles=data["circles"],
            limiter=data["limiter"],
            record_event=data["record_event"],
            today=clock().date(),
            locks=data["circle_locks"],
            founders=next(iter(data["packs"].values())).founders,
        )
        return await handler(event, data)
