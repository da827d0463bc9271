"""Peak RSS of the bot serving a short mix with 100,000 registered users (issue 8: < 250 MB).

    .venv/bin/python -m bench.memory [registered] [active] [updates]
    (make bench: 100,000 registered, 5,000 of them active, 20,000 updates;
    make bench-quick: 100,000 / 1,000 / 3,000)

Users are registered straight through ``UsersRepo.get_or_create`` with sealed chat references.
Then a new process (as after a restart) opens the services on that database and serves
``active`` of those users bench/throughput.py's mix through the production dispatcher; its
peak RSS (``VmHWM``) is what counts. The updates are made as they are fed, and the local Bot
API keeps no record of the calls (bench/quiet_api.py), so the benchmark adds next to nothing of
its own.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from aiogram.types import Update

from bench.population import ENTERPRISES, QUESTIONS, STEPS
from bench.quiet_api import QuietBotAPI
from bot.app import Services, create_bot, create_dispatcher
from bot.config import Settings
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.updates import UpdateFactory

TARGET_MB = 250
FIRST_USER = 10_000_000


def settings(folder: Path) -> Settings:
    return Settings(
        _env_file=None, database_path=folder / "bench.sqlite3", key_file=folder / "key"
    )


def memory_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of this process, in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


async def register(folder: Path, count: int) -> float:
    services = await Services.open(settings(folder))
    identity, today = services.identity, services.today()
    started = time.perf_counter()
    for n in range(count):
        user_id = FIRST_USER + n
        key = identity.user_key(user_id)
        locale = ("ru", "be", "en")[n % 3]
        await services.users.get_or_create(key, identity.seal_chat(user_id, key), today, locale)
    elapsed = time.perf_counter() - started
    assert await services.users.count() == count
    await services.close()
    return elapsed


def stream(api: LocalBotAPI, registered: int, active: int, count: int) -> Iterator[Update]:
    """bench/throughput.py's mix, made one update at a time: each active user starts with
    /start, then ``count`` updates follow in the same proportions."""
    rng = random.Random(5)
    chosen = rng.sample(range(registered), active)
    factories = [
        UpdateFactory(api, FIRST_USER + n, language_code=rng.choice(["ru", "be", "en"]))
        for n in chosen
    ]
    for factory in factories:
        yield factory.text("/start")
    made = 0
    while made < count:
        f = rng.choice(factories)
        roll = rng.random()
        made += 1
        if roll < 0.10:
            yield f.text("/start")
        elif roll < 0.30:
            yield f.callback("menu1:menu", message_id=2)
        elif roll < 0.55:
            yield f.callback(f"guide1:step:{rng.choice(STEPS)}", message_id=2)
        elif roll < 0.75:
            yield f.text(rng.choice(QUESTIONS))
        elif roll < 0.85:
            yield f.text("/help")
        else:
            made += 2
            yield f.text("/coworkers")
            yield f.text(rng.choice(ENTERPRISES))
            yield f.text("/cancel")


async def serve(folder: Path, registered: int, active: int, count: int) -> None:
    """Runs in a process of its own: prints RSS after imports, after start-up, after serving,
    and the peak."""
    imported = memory_mb()["VmRSS"]
    services = await Services.open(settings(folder))
    services.throttle.per_minute = 10**9
    api = QuietBotAPI()
    bot = create_bot(services, session=api, token=LOCAL_TOKEN)
    dispatcher = create_dispatcher(services)
    opened = memory_mb()["VmRSS"]
    started = time.perf_counter()
    fed = 0
    for update in stream(api, registered, active, count):
        await dispatcher.feed_update(bot, update)
        fed += 1
    elapsed = time.perf_counter() - started
    served = memory_mb()
    await services.close()
    rss, peak = served["VmRSS"], served["VmHWM"]
    print(f"{imported:.1f} {opened:.1f} {rss:.1f} {peak:.1f} {fed} {elapsed:.2f}")


def main(registered: int, active: int, count: int) -> None:
    folder = Path(tempfile.mkdtemp())
    seconds = asyncio.run(register(folder, registered))
    print(f"{registered:,} users registered through UsersRepo.get_or_create in {seconds:.1f} s")
    process = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--serve", str(folder)]
        + [str(n) for n in (registered, active, count)],
        capture_output=True,
        text=True,
        check=True,
    )
    imported, opened, served, peak, fed, elapsed = (float(w) for w in process.stdout.split())
    print(
        f"serving {fed:,.0f} updates from {active:,} of them ({elapsed:.1f} s): RSS"
        f" {imported:.0f} MB after imports, {opened:.0f} MB after start-up,"
        f" {served:.0f} MB after serving"
    )
    print(
        f"peak RSS {peak:.0f} MB; target < {TARGET_MB} MB:"
        f" {'met' if peak < TARGET_MB else 'not met'}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        folder_, *rest = sys.argv[2:]
        registered_, active_, count_ = (int(a) for a in rest)
        asyncio.run(serve(Path(folder_), registered_, active_, count_))
    else:
        numbers = [int(a) for a in sys.argv[1:]]
        registered_, active_, count_ = (numbers + [100_000, 5_000, 20_000][len(numbers) :])[:3]
        main(registered_, active_, count_)
