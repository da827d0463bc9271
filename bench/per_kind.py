"""What each kind of update of the mix costs, alone, against bare aiogram.

    .venv/bin/python -m bench.per_kind [users] [updates per kind]   (defaults: 2,000 / 1,500)

The population of bench/population.py is set up as for bench/throughput.py; then, kind by
kind, the same updates go to the whole bot and to the bare one, three times, and the median
round is shown. Weighted by the mix, the ratios say where the whole-bot ratio comes from (the
mixed run itself is lower: caches are colder and the message-id writes of every kind add up).
"""

from __future__ import annotations

import asyncio
import gc
import sys

from bench.population import MIX, Population, open_services, periodic_writer
from bench.quiet_api import QuietBotAPI
from bench.throughput import bare, feed
from bot.app import create_bot, create_dispatcher
from bot.local_api import LOCAL_TOKEN

ROUNDS = 3


async def main(users: int, count: int) -> None:
    services = await open_services()
    api = QuietBotAPI()
    bot = create_bot(services, session=api, token=LOCAL_TOKEN)
    dispatcher = create_dispatcher(services)
    population = Population(api, users)
    await population.register(dispatcher, bot, services)
    bare_dispatcher, bare_bot, _ = bare()
    gc.collect()
    gc.freeze()
    async with periodic_writer(services):
        ours_total = bare_total = 0.0
        for kind, weight in MIX:
            updates = population.updates_of(kind, count)
            rounds = []
            for n in range(1, ROUNDS + 1):
                # Fresh numbers each round: the bot skips numbers it has handled already.
                fresh = [
                    u.model_copy(update={"update_id": u.update_id + n * 10**8}) for u in updates
                ]
                ours, _ = await feed(dispatcher, bot, fresh)
                theirs, _ = await feed(bare_dispatcher, bare_bot, updates)
                rounds.append((ours / len(updates), theirs / len(updates)))
            rounds.sort()
            ours, theirs = rounds[len(rounds) // 2]
            print(
                f"{kind:9s} whole bot {ours * 1e6:5.0f} µs, bare {theirs * 1e6:4.0f} µs,"
                f" ratio {theirs / ours:.2f}"
            )
            share = weight * (3 if kind == "search" else 1)
            ours_total += share * ours
            bare_total += share * theirs
    print(f"weighted by the mix: ratio {bare_total / ours_total:.2f}")
    await services.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    users, count = (args + [2_000, 1_500][len(args) :])[:2]
    asyncio.run(main(users, count))
