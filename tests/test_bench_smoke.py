"""The benchmarks still run against the current code, at a size that takes a second."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import methods

from bench import per_kind
from bench.fanout import circle_fanout, minimum_seconds
from bench.matching import KIND_OF_QUERY, directory
from bench.memory import stream
from bench.offered_load import Harness
from bench.population import MIX, VOLUNTEERS_CHAT, Population, open_services
from bot.app import Services, create_bot, create_dispatcher
from bot.local_api import LOCAL_TOKEN, LocalBotAPI
from bot.matching import Confidence


def test_the_synthetic_directory_has_the_aliases_asked_for_and_exact_names_match() -> None:
    index, names, _ = directory(300)
    assert len(index) >= 300
    rng = random.Random(1)
    kinds = dict(KIND_OF_QUERY)
    for name in rng.sample(names, 20):
        lookup = index.lookup(kinds["exact"](name, rng))
        if lookup.confidence is Confidence.EXACT:
            assert lookup.candidates[0].enterprise_id == name.enterprise_id
        for make in kinds.values():
            assert make(name, rng).strip()


@pytest.fixture
async def bench_services(tmp_path: Path) -> AsyncIterator[Services]:
    services = await open_services(tmp_path)
    yield services
    await services.close()


async def test_offered_load_handles_every_update(bench_services: Services) -> None:
    harness = Harness(bench_services, users=100)
    await harness.register()
    run = await harness.offer(rate=200, seconds=0.2)
    assert len(run.latencies) == 40
    assert run.errors == 0
    assert all(latency > 0 for latency in run.latencies)


async def test_the_mix_reaches_circles_cases_and_volunteers(bench_services: Services) -> None:
    """The population is set up as issue 8 asks, and each kind of update does what it says."""
    api = LocalBotAPI(strict_html=False)
    bot = create_bot(bench_services, session=api, token=LOCAL_TOKEN)
    dispatcher = create_dispatcher(bench_services)
    population = Population(api, users=300)
    await population.register(dispatcher, bot, bench_services)
    assert len(population.circles) >= 3 and len(population.cases) == 9
    relaying = await bench_services.db.fetchall(
        "SELECT COUNT(*), SUM(relay_on) FROM circle_members WHERE status = 'active'"
    )
    assert tuple(relaying[0]) == (len(population.members), len(population.members))
    held = await bench_services.db.fetchone(
        "SELECT COUNT(*) FROM cases WHERE status = 'taken' AND assignee IS NOT NULL"
    )
    assert held is not None and held[0] == len(population.cases)

    api.clear()
    updates = population.updates(400, seed=7)
    for update in updates:
        await dispatcher.feed_update(bot, update)
    members = {m.user_id for m in population.members}
    workers = {c.worker.user_id for c in population.cases}
    circle_copies = [
        c for c in api.calls if isinstance(c, methods.SendMessage) and c.chat_id in members
    ]
    to_topics = [
        c
        for c in api.calls
        if isinstance(c, methods.CopyMessage)
        and c.chat_id == VOLUNTEERS_CHAT
        and c.message_thread_id is not None
    ]
    to_workers = [
        c for c in api.calls if isinstance(c, methods.CopyMessage) and c.chat_id in workers
    ]
    circle_messages = sum(
        1
        for u in updates
        if u.message and u.message.from_user and u.message.from_user.id in members
    )
    assert circle_messages > 20 and len(circle_copies) >= 2 * circle_messages
    assert len(to_topics) > 10 and len(to_workers) > 10


async def test_a_circle_fan_out_stays_under_the_limits(services: Services) -> None:
    run = await circle_fanout(services, members=45)
    assert (run.delivered, run.refused) == (45, 0)
    assert run.last <= minimum_seconds(45) * 1.15 + 1.0


def test_the_memory_mix_starts_every_active_user_then_mixes() -> None:
    updates = list(stream(LocalBotAPI(), registered=100, active=10, count=30))
    starts = [u.message.text for u in updates[:10] if u.message is not None]
    assert starts == ["/start"] * 10
    assert 30 <= len(updates) - 10 <= 32


async def test_the_per_kind_costs_run(capsys: pytest.CaptureFixture[str]) -> None:
    await per_kind.main(users=100, count=6)
    printed = capsys.readouterr().out
    for kind, _ in MIX:
        assert printed.count(f"{kind} ") >= 1
    assert "weighted by the mix: ratio" in printed
