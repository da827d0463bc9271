"""The benchmarks still run against the current code, at a size that takes a second."""

from __future__ import annotations

import random

from bench.fanout import circle_fanout, minimum_seconds
from bench.matching import KIND_OF_QUERY, directory
from bench.memory import stream
from bench.offered_load import Harness
from bot.app import Services
from bot.local_api import LocalBotAPI
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


async def test_offered_load_handles_every_update(services: Services) -> None:
    services.throttle.per_minute = 10**9
    harness = Harness(services, users=20)
    await harness.register()
    run = await harness.offer(rate=200, seconds=0.2)
    assert len(run.latencies) == 40
    assert run.errors == 0
    assert all(latency > 0 for latency in run.latencies)


async def test_a_circle_fan_out_stays_under_the_limits(services: Services) -> None:
    run = await circle_fanout(services, members=45)
    assert (run.delivered, run.refused) == (45, 0)
    assert run.last <= minimum_seconds(45) * 1.15 + 1.0


def test_the_memory_mix_starts_every_active_user_then_mixes() -> None:
    updates = list(stream(LocalBotAPI(), registered=100, active=10, count=30))
    starts = [u.message.text for u in updates[:10] if u.message is not None]
    assert starts == ["/start"] * 10
    assert 30 <= len(updates) - 10 <= 32
