"""The hand-off's routers and the middleware that builds its desk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.types import TelegramObject

from flows.handoff import volunteer, worker
from flows.handoff.desk import Desk

if TYPE_CHECKING:
    from bot.app import Services


def make_desk(services: Services, bot: Bot) -> Desk:
    """A desk for work outside an update (reminders)."""
    return Desk(
        bot=bot,
        settings=services.settings,
        i18n=services.i18n,
        identity=services.identity,
        users=services.users,
        cases=services.cases,
        guide=services.guide,
        packs=services.packs,
        enterprises=services.enterprises,
        limiter=services.limiter,
        record_event=services.record_event,
        now=services.clock(),
    )


class DeskMiddleware(BaseMiddleware):
    """Gives handlers ``desk`` for this update."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["desk"] = Desk(
            bot=data["bot"],
            settings=data["settings"],
            i18n=data["i18n"],
            identity=data["identity"],
            users=data["users"],
            cases=data["cases"],
            guide=data["guide"],
            packs=data["packs"],
            enterprises=data["enterprises"],
            limiter=data["limiter"],
            record_event=data["record_event"],
            now=data["clock"](),
        )
        return await handler(event, data)


def _with_desk(router: Router, *, for_filters: bool) -> Router:
    """``for_filters``: the router's filters need the desk too, so it is built before they run
    (for every event the router sees); otherwise only for the handler that takes the event."""
    middleware = DeskMiddleware()
    for observer in (router.message, router.callback_query):
        if for_filters:
            observer.outer_middleware(middleware)
        else:
            observer.middleware(middleware)
    return router


def create_worker_router() -> Router:
    # Most of a worker's messages pass this router on their way to other flows.
    return _with_desk(worker.create_router(), for_filters=False)


def create_volunteer_router() -> Router:
    return _with_desk(volunteer.create_router(), for_filters=True)  # InCase looks at the desk
