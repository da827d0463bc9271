"""The simulated users of the throughput and offered-load benchmarks, and the mix they send.

Issue 8 asks for a realistic mix from 10,000 users: /start, menu presses, guide navigation,
enterprise search, circle messages, case messages and volunteer replies. So before anything
is measured, the population is set up through the production dispatcher, as people would:

- every user sends /start;
- about 8% find their coworkers (/coworkers, the enterprise's name, "Yes, that's it",
  "I agree") and turn circle mode on, in circles of 3 to 10 members at real enterprises of
  the directory;
- about 3% ask for a volunteer (/volunteer, a topic, their question), and one of 20
  volunteers takes each case in the volunteers' forum group;
- the others stay plain users: the menu, the guide, FAQ questions, /help and searches.

Then :meth:`Population.updates` makes the measured updates: a circle message goes to every
other member of the sender's circle, a case message to the case's topic, a volunteer's reply
to the worker. The outgoing limiter stays in the path but never sleeps: the benchmark measures
what the bot costs, and Telegram's pacing is measured on its own by bench/fanout.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.app import Services
from bot.config import Settings
from bot.content.enterprises import load_directory
from bot.local_api import LocalBotAPI
from bot.matching import Confidence
from bot.message_ids import run_flush
from bot.telegram import OutgoingLimiter
from bot.updates import UpdateFactory
from flows.handoff.callbacks import CaseAction, CaseCB, HelpAction, HelpCB
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB

VOLUNTEERS_CHAT = -100_500_000
VOLUNTEER_COUNT = 20
CIRCLE_SHARE = 0.08
CASE_SHARE = 0.03

QUESTIONS = [
    "how many founders do we need",
    "can I be fired",
    "stop paying dues",
    "what do you store",
]
STEPS = ["safety", "routes", "coworkers", "statute", "applications", "meeting"]
ENTERPRISES = ["Нафтан", "Belaruskali", "МТЗ", "Гродно Азот", "БелАЗ"]
CIRCLE_MESSAGES = [
    "Meeting at the gate tomorrow at 7",
    "Who else got the new shift schedule?",
    "Сход у суботу, прыходзьце",
    "Кто знает, как подать заявление?",
]
CASE_MESSAGES = [
    "They want me to sign a new contract today",
    "Мне не платят премию третий месяц",
    "Ці могуць мяне звольніць за гэта?",
]
#: (kind, weight): a search is three updates, so of the updates about 19% are searches, 18%
#: guide steps, 15% menu presses, 12% FAQ questions, 6% each /start and /help, 10% circle
#: messages, 6% case messages and 6% volunteer replies.
MIX = [
    ("start", 7),
    ("menu", 16),
    ("guide", 20),
    ("question", 13),
    ("help", 7),
    ("search", 7),
    ("circle", 11),
    ("case", 7),
    ("reply", 7),
]
REPLIES = [
    "Do not sign anything today: ask for a copy and time to read it.",
    "По статье 14 вас не могут уволить за членство в профсоюзе.",
    "Не, за гэта звольніць не могуць.",
]


def bench_settings(folder: Path) -> Settings:
    """Settings for a benchmark's own database, with a volunteers' group for the cases."""
    return Settings(
        _env_file=None,
        database_path=folder / "bench.sqlite3",
        key_file=folder / "key",
        volunteers_chat_id=VOLUNTEERS_CHAT,
    )


async def open_services(folder: Path | None = None) -> Services:
    """The bot's services on a database of the benchmark's own, limits unhurried."""
    services = await Services.open(bench_settings(folder or Path(tempfile.mkdtemp())))
    unhurried(services)
    return services


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def unhurried(services: Services) -> None:
    """Simulated users are quicker than people: the limits stay in the path, but never bite.

    Call it before the dispatcher is built (the flows take the limiter from it then).
    """
    services.throttle.per_minute = 10**9
    services.limiter = OutgoingLimiter(sleep=_no_wait)


@contextlib.asynccontextmanager
async def periodic_writer(services: Services) -> AsyncIterator[None]:
    """The writer ``python -m bot`` runs beside the updates (deferred rows every second, noted
    message ids every five), so that the benchmark pays for those writes as the bot does."""
    task = asyncio.create_task(run_flush(services.recent, services.db, services.today))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class Case:
    worker: UpdateFactory
    volunteer: UpdateFactory
    thread_id: int


class Population:
    """``users`` simulated users, split into plain users, circle members and case workers."""

    def __init__(self, api: LocalBotAPI, users: int, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.everyone = [
            UpdateFactory(
                api, user_id=10_000_000 + n, language_code=rng.choice(["ru", "be", "en"])
            )
            for n in range(users)
        ]
        self.volunteers = [
            UpdateFactory(api, user_id=20_000_000 + n, language_code="en")
            for n in range(VOLUNTEER_COUNT)
        ]
        shuffled = rng.sample(self.everyone, len(self.everyone))
        self.circles: list[list[UpdateFactory]] = []
        wanted, taken = round(users * CIRCLE_SHARE), 0
        while taken + 3 <= wanted:
            size = min(rng.randint(3, 10), wanted - taken)
            if size < 3:
                break
            self.circles.append(shuffled[taken : taken + size])
            taken += size
        workers = shuffled[taken : taken + round(users * CASE_SHARE)]
        self._workers = workers
        self.plain = shuffled[taken + len(workers) :] or shuffled
        self.cases: list[Case] = []

    @property
    def members(self) -> list[UpdateFactory]:
        return [member for circle in self.circles for member in circle]

    async def register(self, dispatcher: Dispatcher, bot: Bot, services: Services) -> None:
        """/start for everyone, then the circles and the cases, through the dispatcher."""
        for user in self.everyone:
            await dispatcher.feed_update(bot, user.text("/start"))
        enterprises = self._enterprises(services, len(self.circles))
        self.circles = self.circles[: len(enterprises)]
        for circle, enterprise_id in zip(self.circles, enterprises, strict=True):
            for member in circle:
                await self._join(dispatcher, bot, member, enterprise_id)
            # Once the circle is open (at the third member): circle mode is for members.
            for member in circle:
                relay_on = CircleCB(action=CircleAction.RELAY_ON).pack()
                await dispatcher.feed_update(bot, member.callback(relay_on))
        for n, worker in enumerate(self._workers):
            self.cases.append(
                await self._open_case(dispatcher, bot, services, worker, n % VOLUNTEER_COUNT)
            )

    @staticmethod
    def _enterprises(services: Services, count: int) -> list[tuple[int, str]]:
        """(id, a name typed for it) of up to ``count`` directory enterprises, each found."""
        found: dict[int, str] = {}
        for entry in load_directory():
            lookup = services.enterprise_index.lookup(entry.name_ru)
            if lookup.confidence is Confidence.EXACT and lookup.candidates:
                found.setdefault(lookup.candidates[0].enterprise_id, entry.name_ru)
        return list(found.items())[:count]

    @staticmethod
    async def _join(
        dispatcher: Dispatcher, bot: Bot, member: UpdateFactory, enterprise: tuple[int, str]
    ) -> None:
        enterprise_id, name = enterprise
        for update in (
            member.text("/coworkers"),
            member.text(name),
            member.callback(MatchCB(action=MatchAction.PICK, enterprise=enterprise_id).pack()),
            member.callback(MatchCB(action=MatchAction.AGREE, enterprise=enterprise_id).pack()),
        ):
            await dispatcher.feed_update(bot, update)

    async def _open_case(
        self, dispatcher: Dispatcher, bot: Bot, services: Services, worker: UpdateFactory, n: int
    ) -> Case:
        for update in (
            worker.text("/volunteer"),
            worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()),
            worker.text(CASE_MESSAGES[0]),
        ):
            await dispatcher.feed_update(bot, update)
        case = await services.cases.active_for(services.identity.user_key(worker.user_id))
        if case is None or case.thread_id is None:
            raise RuntimeError("the benchmark's case did not open")
        volunteer = self.volunteers[n]
        take = CaseCB(action=CaseAction.TAKE, case=case.id).pack()
        await dispatcher.feed_update(
            bot, volunteer.callback(take, chat_id=VOLUNTEERS_CHAT, chat_type="supergroup")
        )
        return Case(worker, volunteer, case.thread_id)

    def updates(self, count: int, seed: int = 1) -> list[Update]:
        """``count`` updates of the mix: see :data:`MIX` for the shares."""
        rng = random.Random(seed)
        kinds = [kind for kind, _ in MIX]
        weights = [weight for _, weight in MIX]
        measured: list[Update] = []
        while len(measured) < count:
            [kind] = rng.choices(kinds, weights)
            measured.extend(self._make(kind, rng))
        return measured[:count]

    def updates_of(self, kind: str, count: int, seed: int = 1) -> list[Update]:
        """About ``count`` updates of one kind of :data:`MIX` (bench/per_kind.py)."""
        rng = random.Random(seed)
        made: list[Update] = []
        while len(made) < count:
            made.extend(self._make(kind, rng))
        return made

    def _make(self, kind: str, rng: random.Random) -> list[Update]:
        if kind == "circle" and self.circles:
            member = rng.choice(rng.choice(self.circles))
            return [member.text(rng.choice(CIRCLE_MESSAGES))]
        if kind == "case" and self.cases:
            return [rng.choice(self.cases).worker.text(rng.choice(CASE_MESSAGES))]
        if kind == "reply" and self.cases:
            case = rng.choice(self.cases)
            reply = case.volunteer.text(
                rng.choice(REPLIES),
                chat_id=VOLUNTEERS_CHAT,
                chat_type="supergroup",
                thread_id=case.thread_id,
            )
            return [reply]
        return _from_plain_user(kind, rng.choice(self.plain), rng)


def _from_plain_user(kind: str, user: UpdateFactory, rng: random.Random) -> list[Update]:
    """What a user outside circles and cases sends: the menu, the guide, the FAQ, a search."""
    match kind:
        case "menu":
            return [user.callback("menu1:menu", message_id=2)]
        case "guide":
            return [user.callback(f"guide1:step:{rng.choice(STEPS)}", message_id=2)]
        case "question":
            return [user.text(rng.choice(QUESTIONS))]
        case "help":
            return [user.text("/help")]
        case "search":
            return [
                user.text("/coworkers"),
                user.text(rng.choice(ENTERPRISES)),
                user.text("/cancel"),
            ]
        case _:
            return [user.text("/start")]
