"""Builds the bot and its dispatcher. Nothing here does I/O at import time.

* :meth:`Services.open` opens the database, applies migrations, loads the secret and catalogs;
* :func:`create_bot` makes a ``Bot`` (against Telegram, a compatible server, or a local session);
* :func:`create_dispatcher` composes the routers in their one fixed order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n

from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.content.documents import DocumentTemplate, load_documents
from bot.content.enterprises import directory_digest, load_directory
from bot.content.faq import FaqCatalog, load_faqs
from bot.content.guide import Pack, all_source_ids, load_packs
from bot.db import Database, apply_migrations
from bot.db.cases import CasesRepo
from bot.db.circles import CirclesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.db.events import EventsRepo
from bot.db.guide import GuideRepo
from bot.db.meta import MetaRepo
from bot.db.privacy import PrivacyRepo
from bot.db.recent import RecentMessages
from bot.db.users import UsersRepo
from bot.drafts import DraftStore
from bot.errors import create_error_router
from bot.events import EventRecorder
from bot.filters import ChatIdFilter, ChatTypeFilter
from bot.fsm_storage import SQLiteStorage
from bot.i18n import create_i18n
from bot.identity import Identity, KeyFileError, load_secret
from bot.matching import EnterpriseIndex, skeleton
from bot.message_ids import IncomingMessageIds, MessageIds, OutgoingMessageIds
from bot.middlewares import UserLocaleMiddleware
from bot.redelivery import HandledUpdates, RedeliveryMiddleware
from bot.routing import SharedDataDispatcher
from bot.telegram import DeliveryStats, OutgoingLimiter, RetryRequestMiddleware, Sleep
from bot.templating import Templates
from bot.throttle import Throttle, ThrottleMiddleware
from flows.admin.chatid import create_router as create_chatid_router
from flows.admin.router import create_router as create_admin_router
from flows.guide.documents import create_form_router
from flows.guide.router import create_router as create_guide_router
from flows.guide.screens import check_screens
from flows.handoff.replies import load_replies
from flows.handoff.router import create_volunteer_router, create_worker_router
from flows.handoff.volunteers import VolunteerCheck
from flows.match.router import create_invite_router, create_match_router, create_oversight_router
from flows.onboarding.fallback import create_fallback_router, on_stale_button
from flows.onboarding.router import create_router as create_onboarding_router
from flows.privacy.mydata import MyData
from flows.privacy.router import create_router as create_privacy_router
from flows.privacy.router import is_privacy_update
from flows.stats.router import create_router as create_stats_router


@dataclass
class Services:
    """The singletons every handler may ask for by name (aiogram's dependency injection)."""

    settings: Settings
    db: Database
    identity: Identity
    i18n: I18n
    templates: Templates
    users: UsersRepo
    record_event: EventRecorder
    events: EventsRepo
    guide: GuideRepo
    enterprises: EnterprisesRepo
    circles: CirclesRepo
    enterprise_index: EnterpriseIndex
    cases: CasesRepo
    replies: dict[str, dict[str, str]]
    packs: dict[str, Pack]
    documents: dict[str, DocumentTemplate]
    faqs: dict[str, FaqCatalog]
    privacy: PrivacyRepo
    recent: RecentMessages
    handled: HandledUpdates
    throttle: Throttle
    limiter: OutgoingLimiter = field(default_factory=OutgoingLimiter)  # rebuilt in open()
    delivery: DeliveryStats = field(default_factory=DeliveryStats)
    drafts: DraftStore = field(default_factory=DraftStore)
    circle_locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    volunteer_checks: VolunteerCheck = field(default_factory=VolunteerCheck)
    clock: Clock = utc_now
    #: How outgoing calls wait before a retry (tests pass a fake that only advances a clock).
    sleep: Sleep = asyncio.sleep
    #: Today and the instants (UTC) it starts and ends at in the bot's time zone: see today().
    _today_span: tuple[datetime, datetime, date] | None = field(
        default=None, init=False, repr=False
    )

    @classmethod
    async def open(
        cls, settings: Settings, database_path: Path | None = None, clock: Clock = utc_now
    ) -> Services:
        """Load the secret, catalogs and content first (cheap, may fail), then the database."""
        identity = Identity(load_secret(settings))
        i18n = create_i18n(settings.default_locale)
        templates = Templates(i18n)
        packs = load_packs(settings.guide_packs)
        check_screens(templates, i18n, packs)
        documents = load_documents()
        faqs = load_faqs(known_sources=all_source_ids())
        directory = load_directory()
        replies = load_replies()
        db = await Database.open(database_path or settings.database_path)
        try:
            await apply_migrations(db)
            handled = HandledUpdates(db, shared=settings.redis_url is not None)
            await handled.load()
            if (
                await MetaRepo(db).set_once("key_check", identity.key_check())
                != identity.key_check()
            ):
                raise KeyFileError(
                    f"the secret key does not match the database {db.path}: the key file was "
                    "lost or replaced. Restore the key this database was created with (after "
                    "an interrupted `python -m bot rotate-key`, run it again)."
                )
            enterprises = EnterprisesRepo(db)
            await enterprises.seed(
                directory, skeleton, clock().date(), directory_digest(directory)
            )
            index = EnterpriseIndex()
            for key, enterprise_id in await enterprises.aliases():
                index.add_skeleton(key, enterprise_id)
            for entry in directory:
                for city in (entry.city_ru, entry.city_be, entry.city_en):
                    index.add_place(city)
        except BaseException:
            await db.close()
            raise
        events = EventsRepo(db, shared=settings.redis_url is not None)
        services = cls(
            settings=settings,
            db=db,
            identity=identity,
            i18n=i18n,
            templates=templates,
            users=UsersRepo(db),
            record_event=EventRecorder(events, clock, settings.tz),
            events=events,
            guide=GuideRepo(db, identity),
            enterprises=enterprises,
            circles=CirclesRepo(db),
            enterprise_index=index,
            cases=CasesRepo(db),
            replies=replies,
            packs=packs,
            documents=documents,
            faqs=faqs,
            privacy=PrivacyRepo(db),
            recent=RecentMessages(db),
            handled=handled,
            throttle=Throttle(settings.throttle_per_minute),
            clock=clock,
        )
        services.limiter = OutgoingLimiter(sleep=services.sleep)
        return services

    async def close(self) -> None:
        await self.recent.flush()  # ids still in memory, so that /wipe finds them after a restart
        await self.db.close()

    def today(self) -> date:
        """Today in the bot's time zone: the day every stored date is in.

        Asked three or four times an update: the day is kept with the instants it starts and
        ends at, so that most calls compare the clock with them instead of converting it to the
        time zone. The clock is still read at every call (tests move it, either way).
        """
        now = self.clock()
        span = self._today_span
        if span is not None and now.tzinfo is not None and span[0] <= now < span[1]:
            return span[2]
        tz = self.settings.tz
        day = now.astimezone(tz).date()
        start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
        # Kept only on days without a clock change (the local date then only moves forward
        # between those two instants); on the two days a year with one, converted each time.
        if (
            start <= now < end
            and start.astimezone(tz).utcoffset() == end.astimezone(tz).utcoffset()
        ):
            self._today_span = (start, end, day)
        return day

    @property
    def mydata(self) -> MyData:
        return MyData(
            self.guide, self.packs, self.enterprises, self.circles, self.cases, self.privacy
        )

    @property
    def message_ids(self) -> MessageIds:
        return MessageIds(self.recent, self.identity, self.today)

    def workflow_data(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "identity": self.identity,
            "i18n": self.i18n,
            "templates": self.templates,
            "users": self.users,
            "record_event": self.record_event,
            "guide": self.guide,
            "enterprises": self.enterprises,
            "circles": self.circles,
            "enterprise_index": self.enterprise_index,
            "cases": self.cases,
            "events": self.events,
            "replies": self.replies,
            "volunteer_checks": self.volunteer_checks,
            "packs": self.packs,
            "documents": self.documents,
            "faqs": self.faqs,
            "privacy": self.privacy,
            "recent": self.recent,
            "mydata": self.mydata,
            "limiter": self.limiter,
            "delivery": self.delivery,
            "drafts": self.drafts,
            "circle_locks": self.circle_locks,
            "clock": self.clock,
        }


def create_bot(
    services: Services, session: BaseSession | None = None, token: str | None = None
) -> Bot:
    """A bot that retries what Telegram asks to retry and notes users who blocked it."""
    settings = services.settings
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    if token is None:
        if settings.bot_token is None:
            raise ValueError("a token is needed to talk to the Bot API")
        token = settings.bot_token.get_secret_value()

    async def on_forbidden(chat_id: int) -> None:
        # In a private chat the chat id is the user id.
        await services.users.mark_inactive(services.identity.user_key(chat_id))

    session.middleware(
        RetryRequestMiddleware(services.delivery, on_forbidden, sleep=services.sleep)
    )
    session.middleware(OutgoingMessageIds(services.message_ids))
    return Bot(
        token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def create_private_router() -> Router:
    """Everything a worker does in a private chat. Group messages never reach these flows."""
    router = Router(name="private")
    private = ChatTypeFilter("private")
    router.message.filter(private)
    router.edited_message.filter(private)
    router.callback_query.filter(private)
    # /wipe and /forget work whatever the user is doing: they come before every other flow.
    router.include_router(create_privacy_router())
    # A document being filled in takes every message but /cancel and /start.
    router.include_router(create_form_router())
    # An invite link is a /start with a payload: it must be seen before the plain greeting.
    router.include_router(create_invite_router())
    router.include_router(create_onboarding_router())
    router.include_router(create_admin_router())
    router.include_router(create_stats_router())
    # An open case takes the worker's messages before circles and the FAQ do.
    router.include_router(create_worker_router())
    router.include_router(create_match_router())
    router.include_router(create_guide_router())
    # The fallback answers whatever the flows above left unanswered, so it comes last.
    router.include_router(create_fallback_router())
    return router


def create_dispatcher(
    services: Services,
    events_isolation: BaseEventIsolation | None = None,
    storage: BaseStorage | None = None,
) -> Dispatcher:
    """The production dispatcher: storage, isolation, middlewares and routers, in order.

    Conversation state is in the bot's database unless another ``storage`` (Redis, shared by
    several webhook instances) is given.
    """
    # aiogram's routing rules, walked without copying the update's data at every router
    # level (about 19 µs each; a plain text crosses some fifteen): see bot/routing.py.
    dispatcher = SharedDataDispatcher(
        storage=storage or SQLiteStorage(services.db, services.identity, services.clock),
        # Without isolation, two quick taps could both read the same state and one be lost.
        events_isolation=events_isolation or SimpleEventIsolation(),
        **services.workflow_data(),
    )
    settings = services.settings
    # In this order: a redelivered update is skipped before anything else, a flood is cut
    # before it costs a database read, and only then is the user loaded.
    dispatcher.update.outer_middleware(RedeliveryMiddleware(services.handled, services.today))
    dispatcher.update.outer_middleware(IncomingMessageIds(services.message_ids))
    dispatcher.update.outer_middleware(
        ThrottleMiddleware(
            services.throttle,
            settings.admin_ids,
            services.users,
            services.identity,
            services.i18n,
            settings.default_locale,
            exempt=is_privacy_update,
        )
    )
    dispatcher.update.outer_middleware(
        UserLocaleMiddleware(
            services.i18n,
            services.users,
            services.identity,
            settings.default_locale,
            today=services.today,
            record_event=services.record_event,
        )
    )

    dispatcher.include_router(create_error_router())
    # /chatid answers in any chat, before the flows: an organiser asks it in a group that is
    # not configured yet, where no other router listens.
    dispatcher.include_router(create_chatid_router())
    dispatcher.include_router(create_private_router())
    coordinators_chat = services.settings.coordinators_chat_id
    if coordinators_chat is not None and coordinators_chat != services.settings.volunteers_chat_id:
        coordinators = Router(name="coordinators")
        coordinators.message.filter(ChatIdFilter(coordinators_chat))
        coordinators.callback_query.filter(ChatIdFilter(coordinators_chat))
        coordinators.include_router(create_stats_router())
        coordinators.include_router(_stale_buttons_router("coordinators.stale"))
        dispatcher.include_router(coordinators)
    volunteers_chat = services.settings.volunteers_chat_id
    if volunteers_chat is not None:
        dispatcher.include_router(create_volunteers_router(volunteers_chat))
    return dispatcher


def create_volunteers_router(chat_id: int) -> Router:
    """Commands for the volunteers' chat; nothing here answers anyone else."""
    router = Router(name="volunteers")
    router.message.filter(ChatIdFilter(chat_id))
    router.callback_query.filter(ChatIdFilter(chat_id))
    router.include_router(create_oversight_router())
    router.include_router(create_volunteer_router())
    router.include_router(_stale_buttons_router("volunteers.stale"))
    return router


def _stale_buttons_router(name: str) -> Router:
    """Answers buttons nobody else took ("expired"), so that no spinner turns forever.

    A router's own handlers run before its sub-routers': the catch-all must be a sub-router of
    its own, included last, so it only sees buttons nobody else took.
    """
    stale = Router(name=name)
    stale.callback_query.register(on_stale_button)
    return stale
