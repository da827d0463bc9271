"""Latency under offered load: updates arrive at a fixed rate, each handled in its own task.

    .venv/bin/python -m bench.offered_load [users] [seconds] [rounds] [rates…] [--quick]
    (make bench: 5,000 users, 5 s per run, 3 rounds, rates 200 500 1000, then a search for the
    highest rate held; make bench-quick: 1,000 users, 1.5 s, 1 round, no search)

As in webhook mode (aiogram's ``handle_in_background``): update *i* is started at
``start + i / rate`` whether or not the earlier ones have finished, and parsed from its JSON
body by ``json.loads`` and ``Dispatcher.feed_raw_update``. Latency runs from the moment the
update was due, not from when its task got to run, so a loop that falls behind shows it (no
coordinated omission). The production dispatcher answers through the local Bot API (one that
keeps no record of the calls, bench/quiet_api.py); the mix is bench/throughput.py's.

A full garbage collection is forced before each run (so that one left over from making the
updates does not land in it); how long it takes is reported, since a collection that falls
in the middle of traffic holds up every update in flight for that long.
The target (issue 8, item 2): p99 < 50 ms at 500 updates/s.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod

from bench.population import Population, open_services, periodic_writer
from bench.quiet_api import QuietBotAPI
from bench.throughput import quantile
from bot.app import Services, create_bot, create_dispatcher
from bot.local_api import LOCAL_TOKEN

#: p99 must stay under this for a rate to count as held.
BOUND = 0.050
TARGET_RATE = 500
MAX_RATE = 8_000


@dataclass
class Run:
    rate: float
    latencies: list[float]
    errors: int
    drained: float  # seconds after the last arrival until every update was handled

    @property
    def p50(self) -> float:
        return quantile(self.latencies, 0.50)

    @property
    def p99(self) -> float:
        return quantile(self.latencies, 0.99)

    @property
    def held(self) -> bool:
        return self.p99 < BOUND and not self.errors


class Harness:
    """The production bot with registered users, and a supply of fresh updates."""

    def __init__(self, services: Services, users: int) -> None:
        self.services = services
        self.api = QuietBotAPI()
        self.bot: Bot = create_bot(services, session=self.api, token=LOCAL_TOKEN)
        self.dispatcher: Dispatcher = create_dispatcher(services)
        self.population = Population(self.api, users)
        self._seed = 1
        #: How long each full collection before a run took.
        self.collections: list[float] = []

    async def register(self) -> float:
        started = time.perf_counter()
        await self.population.register(self.dispatcher, self.bot, self.services)
        self.api.clear()
        return time.perf_counter() - started

    def updates(self, count: int) -> list[str]:
        """``count`` updates of the mix, numbered afresh, as the JSON a webhook receives.

        Kept as strings, which the garbage collector does not track, so that the benchmark's
        own backlog of updates does not lengthen the collector's pauses in the bot.
        """
        self._seed += 1
        measured = self.population.updates(count, seed=self._seed)
        return [u.model_dump_json(exclude_none=True) for u in measured]

    async def _handle(self, body: str) -> None:
        # What aiogram's webhook handler does with handle_in_background=True.
        update: dict[str, Any] = json.loads(body)
        result = await self.dispatcher.feed_raw_update(self.bot, update)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(self.bot, result)

    async def offer(self, rate: float, seconds: float) -> Run:
        updates = self.updates(max(1, round(rate * seconds)))
        latencies = [0.0] * len(updates)
        errors = 0

        async def handle(n: int, due: float) -> None:
            nonlocal errors
            try:
                await self._handle(updates[n])
            except Exception:
                errors += 1
            latencies[n] = time.perf_counter() - due

        collecting = time.perf_counter()
        gc.collect()
        self.collections.append(time.perf_counter() - collecting)
        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter() + 0.005
        n = 0
        while n < len(updates):
            now = time.perf_counter()
            while n < len(updates) and start + n / rate <= now:
                task = asyncio.create_task(handle(n, start + n / rate))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                n += 1
            if n < len(updates):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        last_due = start + (len(updates) - 1) / rate
        while tasks:
            await asyncio.gather(*tasks)
        drained = max(0.0, time.perf_counter() - last_due)
        self.api.clear()
        return Run(rate, latencies, errors, drained)

    async def median_run(self, rate: float, seconds: float, rounds: int) -> Run:
        """The round with the median p99 of ``rounds`` rounds."""
        runs = sorted(
            [await self.offer(rate, seconds) for _ in range(rounds)], key=lambda r: r.p99
        )
        return runs[len(runs) // 2]


def describe(run: Run, rounds: int) -> str:
    shown = f"median of {rounds} rounds by p99" if rounds > 1 else "1 round"
    return (
        f"{run.rate:>6,.0f} updates/s: p50 {run.p50 * 1000:7.2f} ms, p99 {run.p99 * 1000:8.2f} ms,"
        f" drained {run.drained * 1000:6.0f} ms after the last arrival"
        f"{f', {run.errors} errors' if run.errors else ''}"
        f" ({len(run.latencies):,} updates, {shown})"
    )


async def highest_held(harness: Harness, runs: list[Run], seconds: float) -> float | None:
    """Above the highest rate held, try faster until one is not held (up to 8,000/s), then
    bisect to within 25 updates/s. None if no rate tried was held."""
    held = [r.rate for r in runs if r.held]
    if not held:
        return None
    low = max(held)
    failed = [r.rate for r in runs if not r.held and r.rate > low]
    high = min(failed) if failed else None
    while high is None and low < MAX_RATE:
        rate = min(MAX_RATE, low * 1.5)
        run = await harness.median_run(rate, seconds, 3)
        print(f"  search: {describe(run, 3)}")
        low, high = (rate, None) if run.held else (low, rate)
    while high is not None and high - low > 25:
        middle = round((low + high) / 2 / 5) * 5
        run = await harness.median_run(middle, seconds, 3)
        print(f"  search: {describe(run, 3)}")
        low, high = (middle, high) if run.held else (low, middle)
    return low


async def main(users: int, seconds: float, rounds: int, rates: list[float], search: bool) -> None:
    services = await open_services()
    harness = Harness(services, users)
    print(f"{users:,} users registered in {await harness.register():.1f} s")
    async with periodic_writer(services):
        await harness.offer(min(rates), 0.5)  # warm caches and code paths; not reported
        runs = []
        for rate in rates:
            run = await harness.median_run(rate, seconds, rounds)
            runs.append(run)
            print(describe(run, rounds))
        if search:
            best = await highest_held(harness, runs, seconds)
            if best is None:
                print("no rate tried was held with p99 < 50 ms")
            else:
                print(
                    f"highest rate held with p99 < 50 ms: {best:,.0f} updates/s (to within 25/s)"
                )
        else:
            held = [r.rate for r in runs if r.held]
            print(
                f"highest rate held with p99 < 50 ms, of those tried: {max(held):,.0f} updates/s"
                if held
                else "no rate tried was held with p99 < 50 ms"
            )
    pause = statistics.median(harness.collections) * 1000
    print(
        f"a full garbage collection takes {pause:.0f} ms here (median of"
        f" {len(harness.collections)}): updates in flight wait for it when one falls in a run"
    )
    target = next((r for r in runs if r.rate == TARGET_RATE), None)
    if target is not None:
        verdict = "met" if target.held else "not met"
        print(f"target p99 < 50 ms at 500 updates/s: {verdict} (p99 {target.p99 * 1000:.1f} ms)")
    await services.close()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    quick = "--quick" in arguments
    numbers = [float(a) for a in arguments if a != "--quick"]
    users_, seconds_, rounds_ = (numbers + [5_000, 5.0, 3][len(numbers) :])[:3]
    rates_ = numbers[3:] or [200.0, 500.0, 1000.0]
    asyncio.run(main(int(users_), seconds_, int(rounds_), rates_, search=not quick))
