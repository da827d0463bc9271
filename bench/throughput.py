"""Throughput and latency of the whole bot against a bare aiogram bot, in the same run.

    .venv/bin/python -m bench.throughput [users] [updates] [rounds]
    (make bench: 10,000 users, 20,000 updates, 5 rounds; make bench-quick: 2,000 / 3,000 / 3)

The production dispatcher (middlewares, SQLite, FSM storage) is fed in-process through a local
Bot API that answers at once, with a realistic mix: /start, the menu, guide navigation, FAQ
questions and enterprise searches. The bare bot (one async handler, no storage) gets the same
updates. Numbers on this shared machine are noisy: each round measures both, and the median
round is reported, with the ratio.

Both answer through ``QuietBotAPI``, which keeps no record of the calls, and the heap built so
far is frozen (``gc.freeze()``) as ``python -m bot`` does once its dispatcher is built: the
recording session and the prebuilt updates are the benchmark's own objects, and full garbage
collections over them (about 0.3 s each) landed in one bot's run or the other's at random.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import resource
import sys
import time
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bench.population import Population, open_services, periodic_writer
from bench.quiet_api import QuietBotAPI
from bot.app import create_bot, create_dispatcher
from bot.local_api import LOCAL_TOKEN, LocalBotAPI


async def feed(
    dispatcher: Dispatcher, bot: Bot, updates: list[Update]
) -> tuple[float, list[float]]:
    latencies = []
    gc.collect()  # what the previous run left is not charged to this one
    started = time.perf_counter()
    for update in updates:
        begin = time.perf_counter()
        await dispatcher.feed_update(bot, update)
        latencies.append(time.perf_counter() - begin)
    return time.perf_counter() - started, latencies


def bare() -> tuple[Dispatcher, Bot, LocalBotAPI]:
    api = QuietBotAPI()
    dispatcher = Dispatcher()
    router = Router()

    async def echo(message: Message) -> None:
        await message.answer("ok")

    async def press(callback: Any) -> None:
        await callback.answer()

    router.message.register(echo)
    router.callback_query.register(press)
    dispatcher.include_router(router)
    return dispatcher, Bot(LOCAL_TOKEN, session=api), api


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(users: int, count: int, rounds: int) -> None:
    services = await open_services()
    api = QuietBotAPI()
    bot, dispatcher = (
        create_bot(services, session=api, token=LOCAL_TOKEN),
        create_dispatcher(services),
    )
    population = Population(api, users)
    started = time.perf_counter()
    await population.register(dispatcher, bot, services)
    print(
        f"{users:,} users registered in {time.perf_counter() - started:.1f} s:"
        f" {len(population.members):,} in {len(population.circles)} circles,"
        f" {len(population.cases)} cases taken by volunteers"
    )
    measured = population.updates(count)
    bare_dispatcher, bare_bot, bare_api = bare()
    # The bare bot gets the very same updates, numbered as they were made.
    bare_updates = [u.model_copy() for u in measured]
    gc.collect()
    gc.freeze()
    results = []
    numbers = itertools.count(measured[-1].update_id + 1)
    async with periodic_writer(services):
        for _ in range(rounds):
            # Fresh update numbers each round: the bot skips numbers it has handled already.
            measured = [u.model_copy(update={"update_id": next(numbers)}) for u in measured]
            ours, our_latencies = await feed(dispatcher, bot, measured)
            theirs, _lat = await feed(bare_dispatcher, bare_bot, bare_updates)
            results.append((count / ours, count / theirs, our_latencies))
            api.calls.clear()
            bare_api.calls.clear()
    results.sort(key=lambda r: r[0])
    ours_rate, bare_rate, latencies = results[len(results) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"supolka: {ours_rate:,.0f} updates/s, p50 {quantile(latencies, 0.5) * 1000:.2f} ms,"
        f" p99 {quantile(latencies, 0.99) * 1000:.2f} ms"
    )
    print(f"bare aiogram: {bare_rate:,.0f} updates/s; ratio {ours_rate / bare_rate:.2f}")
    print(f"peak RSS {rss:.0f} MB; rounds {rounds}, median round shown")
    await services.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    users, count, rounds = (args + [10_000, 20_000, 5][len(args) :])[:3]
    asyncio.run(main(users, count, rounds))
