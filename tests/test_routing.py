"""SharedDataDispatcher routes exactly as aiogram's Dispatcher: the same tree, fed the same
updates through both, gives the same handler and the same arguments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
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


def _handler_tree(seen: list[Any]) -> Router:
    """A root filter and a handler's filter note the ``handler`` they were given; an outer
    middleware skips one text, a handler skips another."""

    async def note_root(message: Message, handler: Any) -> bool:
        seen.append(("root", getattr(handler.callback, "__name__", None)))
        return True

    async def note_own(message: Message, handler: Any) -> bool:
        seen.append(("own", handler.callback.__name__))
        return message.text != "pass"

    async def skipping(
        next_handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.text == "skip outer":
            raise SkipHandler
        return await next_handler(event, data)

    async def first(message: Message) -> str:
        if message.text == "skip inner":
            raise SkipHandler
        return "first"

    async def second(message: Message) -> str:
        return "second"

    top = Router(name="top")
    sub = Router(name="sub")
    sub.message.filter(note_root)
    sub.message.outer_middleware(skipping)
    sub.message.register(first, note_own)
    sub.message.register(second)
    top.include_router(sub)
    return top


def _noting_handler(seen: list[Any]) -> Callable[..., Awaitable[Any]]:
    """An inner middleware for the update observer that notes the handler it wraps."""

    async def noting(
        next_handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        seen.append(("update", data["handler"].callback.__name__))
        return await next_handler(event, data)

    return noting


@pytest.mark.parametrize("text", ["hello", "pass", "skip outer", "skip inner"])
@pytest.mark.parametrize("update_middleware", [False, True])
async def test_handler_entries_and_skips_as_aiogram(text: str, update_middleware: bool) -> None:
    """Also with an inner middleware on the update observer, where aiogram's own trigger runs."""
    outcomes = []
    for dispatcher_class in (Dispatcher, SharedDataDispatcher):
        seen: list[Any] = []
        dispatcher = dispatcher_class()
        if update_middleware:
            dispatcher.update.middleware(_noting_handler(seen))
        dispatcher.include_router(_handler_tree(seen))
        api = LocalBotAPI()
        bot = Bot(LOCAL_TOKEN, session=api)
        result = await dispatcher.feed_update(bot, UpdateFactory(api, user_id=1).text(text))
        outcomes.append((result, seen))
    assert outcomes[0] == outcomes[1]


async def test_inner_middlewares_registered_later_still_run() -> None:
    """The chain of observers is remembered, not their middlewares."""
    seen: list[str] = []
    dispatcher = SharedDataDispatcher()
    router = Router()

    async def hello(message: Message) -> None:
        seen.append("handler")

    router.message.register(hello)
    dispatcher.include_router(router)
    api = LocalBotAPI()
    bot = Bot(LOCAL_TOKEN, session=api)
    factory = UpdateFactory(api, user_id=1)
    await dispatcher.feed_update(bot, factory.text("one"))

    async def late(
        next_handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        seen.append("late")
        return await next_handler(event, data)

    dispatcher.message.middleware(late)
    await dispatcher.feed_update(bot, factory.text("two"))
    assert seen == ["handler", "late", "handler"]
