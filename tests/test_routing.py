"""SharedDataDispatcher routes exactly as aiogram's Dispatcher: the same tree, fed the same
updates through both, gives the same handler and the same arguments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Message, TelegramObject

from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.routing import SharedDataDispatcher
from bot.updates import UpdateFactory

Seen = list[tuple[str, dict[str, Any]]]


def _tree(seen: Seen) -> Router:
    """Routers whose filters and middlewares add data that only some handlers may see."""

    def handler(name: str) -> Callable[..., Awaitable[None]]:
        async def record(
            message: Message,
            event_router: Router,
            root: str | None = None,
            outer: str | None = None,
            inner: str | None = None,
            first: str | None = None,
        ) -> None:
            seen.append(
                (
                    name,
                    {
                        "router": event_router.name,
                        "root": root,
                        "outer": outer,
                        "inner": inner,
                        "first": first,
                    },
                )
            )

        return record

    async def root_filter(message: Message) -> bool | dict[str, Any]:
        return {"root": "a"} if message.text != "skip a" else False

    async def gives_first(message: Message) -> dict[str, Any]:
        return {"first": "given"}

    async def never(message: Message) -> bool:
        return False

    async def outer_middleware(
        next_handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["outer"] = "b"
        return await next_handler(event, data)

    async def inner_middleware(
        next_handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["inner"] = "parent"
        return await next_handler(event, data)

    top = Router(name="top")
    top.message.middleware(inner_middleware)
    a = Router(name="a")
    a.message.filter(root_filter)
    a.message.register(handler("a.gives_then_fails"), gives_first, never)
    a.message.register(handler("a.hello"), F.text == "hello")  # a synchronous magic filter
    b = Router(name="b")
    b.message.outer_middleware(outer_middleware)
    b.message.register(handler("b.bye"), F.text == "bye")
    c = Router(name="c")
    nested = Router(name="c.nested")
    nested.message.register(handler("c.nested.any"))
    c.include_router(nested)
    top.include_routers(a, b, c)
    return top


@pytest.mark.parametrize("text", ["hello", "bye", "skip a", "other"])
async def test_same_handler_and_arguments_as_aiogram(text: str) -> None:
    outcomes = []
    for dispatcher_class in (Dispatcher, SharedDataDispatcher):
        seen: Seen = []
        dispatcher = dispatcher_class(service="shared")
        dispatcher.include_router(_tree(seen))
        api = LocalBotAPI()
        bot = Bot(LOCAL_TOKEN, session=api)
        await dispatcher.feed_update(bot, UpdateFactory(api, user_id=1).text(text))
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0]) == 1  # every text is handled, once


async def test_filter_and_middleware_data_stay_where_they_were_given() -> None:
    seen: Seen = []
    dispatcher = SharedDataDispatcher()
    dispatcher.include_router(_tree(seen))
    api = LocalBotAPI()
    bot = Bot(LOCAL_TOKEN, session=api)
    factory = UpdateFactory(api, user_id=1)
    for text in ("hello", "bye", "other"):
        await dispatcher.feed_update(bot, factory.text(text))
    assert seen == [
        ("a.hello", {"router": "a", "root": "a", "outer": None, "inner": "parent", "first": None}),
        ("b.bye", {"router": "b", "root": None, "outer": "b", "inner": "parent", "first": None}),
        (
            "c.nested.any",
            {"router": "c.nested", "root": None, "outer": None, "inner": "parent", "first": None},
        ),
    ]
