"""Hostile input through the production dispatcher: thousands of generated updates.

Random and huge texts, odd Unicode, commands with junk arguments, every kind of message,
edits, channel posts, membership changes, random and forged button data, updates from unknown
groups and from outsiders in the volunteers' group, and updates delivered twice. Whatever
comes, nothing may raise, nothing may reach the error handler, every private message and
every button gets an answer, strangers' chats get no answer at all, and the database stays
consistent (and free of ids and names).

Hypothesis drives a synchronous test; each test opens one bot on one event loop (a
:class:`Bench`) and runs every example on it, so state builds up from example to example
the way it does in production. Examples are derandomized: CI sees the same updates every run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import shutil
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiogram import methods
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State
from aiogram.types import Update
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import Services
from bot.content.documents import load_documents
from bot.content.guide import load_packs
from bot.local_api import BOT_USER
from bot.telegram import OutgoingLimiter
from bot.updates import CONTENT_SAMPLES, UpdateFactory
from flows.guide.callbacks import (
    ChecklistAction,
    ChecklistCB,
    DocAction,
    DocCB,
    FaqAction,
    FaqCB,
    GuideAction,
    GuideCB,
)
from flows.guide.states import DocumentSG
from flows.handoff.callbacks import TOPICS, CaseAction, CaseCB, HelpAction, HelpCB
from flows.handoff.states import HelpSG
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from flows.match.states import MatchSG
from flows.onboarding.callbacks import LanguageCB, LanguageCode, MenuAction, MenuCB
from flows.privacy.callbacks import PrivacyAction, PrivacyCB
from flows.stats.router import StatsCB
from tests.conftest import ChatHarness, log_text, make_settings

T = TypeVar("T")

VOLUNTEERS = -100_123_000
COORDINATORS = -100_456_000
UNKNOWN_GROUP = -100_999_111
BASIC_GROUP = -4_000_111  # a basic group, not a supergroup
CHANNEL = -100_777_222
ADMIN = 900_000_001
MEMBER = 820_000_001  # in the volunteers' group (and so a volunteer, and a coordinator)
OUTSIDER = 830_000_001  # "left": not in the volunteers' group
OBSERVER = 830_000_002  # "restricted": in the group, may not act
KICKED = 830_000_003
WORKERS = (710_000_001, 710_000_002, 710_000_003, 710_000_004)
STRANGERS = (OUTSIDER, OBSERVER, KICKED, *WORKERS)
EVERYONE = (*WORKERS, OUTSIDER, OBSERVER, KICKED, MEMBER, ADMIN)
#: Telegram's answer to getChatMember for each, whichever chat is asked about.
MEMBERSHIP = {
    OUTSIDER: "left",
    OBSERVER: "restricted",
    KICKED: "kicked",
    **dict.fromkeys(WORKERS, "left"),
}
LANGUAGES: dict[int, str | None] = {
    WORKERS[0]: "en",
    WORKERS[1]: "ru",
    WORKERS[2]: "be",
    WORKERS[3]: None,
    OUTSIDER: "de",
}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def first_name(user_id: int) -> str:
    """Names and usernames that must never reach the database or the logs."""
    return f"Hostilename{user_id}"


def username(user_id: int) -> str:
    return f"hostile_user_{user_id}"


# -- what may be sent ----------------------------------------------------------------------

#: Right-to-left marks and overrides, zero-width characters, BOM, combining marks, NUL, HTML.
ODD = (
    "\u200f\u202e\u202d\u2066\u2069\u200b\u200c\u200d\u2060\ufeff\u0301\u0336\u20dd"
    "\x00\x01\x1b\x7f\u00ad\u2028\u2029\r\n\t <>&\"'/@#:;|\\`*_~[]()"
    "ўіІЎёЁщЩ🏭👷‍♀️🇧🇾ﷺ𝔘ℕ"
)
odd_text = st.text(alphabet=st.sampled_from(ODD), min_size=1, max_size=40)
any_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80)
huge_text = st.builds(
    lambda piece, size: (piece * size)[:size],
    st.sampled_from(["я", "\u200f", "a\u0301", "<b>", "👷", "x y ", "&amp;", "\x00"]),
    st.integers(min_value=3000, max_value=4096),
)
words = st.sampled_from(
    [
        "How do I start a union?",
        "профсоюз",
        "Нафтан",
        "Naftan",
        "help",
        "founders",
        "уволят ли меня",
        "<script>alert(1)</script>",
        "https://t.me/supolka_bot?start=i_x",
    ]
)
#: Integers at the edges Telegram, JSON and SQLite care about, and any others.
EDGES = (
    0,
    1,
    2,
    -1,
    2**31 - 1,
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    10**30,
)
big_ints = st.one_of(st.sampled_from(EDGES), st.integers())
numbers = big_ints.map(str)
#: Digits, and characters that look like digits to ``str.isdigit`` only.
digit_like = st.text(alphabet="0123456789-²³¹①٣", min_size=1, max_size=8)
#: Characters that are digits to ``str.isdigit`` but not to ``int`` (``²``), and numbers past
#: SQLite's 64-bit integers, once reached the error handler: they are generated on purpose.
texts = st.one_of(words, any_text, odd_text, huge_text, digit_like, numbers)

PRIVATE_COMMANDS = (
    "start",
    "help",
    "language",
    "cancel",
    "guide",
    "faq",
    "documents",
    "coworkers",
    "circle",
    "volunteer",
    "end",
    "stats",
    "privacy",
    "mydata",
    "safety",
    "wipe",
    "forget",
    "grant",
    "revoke",
)
VOLUNTEER_COMMANDS = (
    "close",
    "release",
    "reopen",
    "transfer",
    "alias",
    "replies",
    "reply",
    "block",
    "unblock",
    "grant",
    "revoke",
)
#: Oversight has no check of its own (see test_access): strangers are not given it here.
OVERSIGHT_COMMANDS = ("circles", "circle_post", "circle_remove", "pending", "approve", "merge")
arguments = st.one_of(
    st.just(""),
    numbers,
    st.lists(st.one_of(numbers, digit_like), min_size=2, max_size=3).map(" ".join),
    st.sampled_from(["i_", "i_forged", "volunteer 1", "coordinator 2", "csv", "2026-W47", "1 x"]),
    any_text,
    odd_text,
    huge_text,
)


def commands(names: Sequence[str]) -> st.SearchStrategy[str]:
    """A command with junk arguments, sometimes addressed to this bot or to another one."""
    return st.builds(
        lambda name, to, args: f"/{name}{to} {args}".rstrip(" "),
        st.sampled_from(names),
        st.sampled_from(["", "", "@supolka_bot", "@other_bot"]),
        arguments,
    ).map(lambda text: text[:4096])


# -- button data ----------------------------------------------------------------------------


def _real_ids() -> dict[str, list[str]]:
    """Ids the content really has, so that forged buttons also name real steps and documents."""
    packs = load_packs(["by"])
    pack = next(iter(packs.values()))
    return {
        "steps": [step.id for step in pack.steps],
        "questions": [question.id for question in pack.questions],
        "options": sorted({o for question in pack.questions for o in question.options}),
        "documents": list(load_documents()),
        "packs": list(packs),
    }


REAL = _real_ids()
short = st.text(alphabet=st.characters(codec="utf-8", exclude_characters=":"), max_size=10)
ids = st.one_of(st.integers(min_value=-2, max_value=12), big_ints)


#: Every kind of button the bot makes.
KINDS: tuple[type[CallbackData], ...] = (
    *(GuideCB, ChecklistCB, DocCB, FaqCB, HelpCB, CaseCB),
    *(MatchCB, CircleCB, MenuCB, LanguageCB, StatsCB, PrivacyCB),
)


def _packed(button: type[CallbackData], /, **fields: Any) -> str:
    """The button's data, or "" where it would not fit in Telegram's 64 bytes."""
    try:
        return button(**fields).pack()
    except ValueError:
        return ""


def _fits(data: str) -> bool:
    return len(data.encode()) <= 64


forged = st.one_of(
    st.builds(
        lambda action, arg: _packed(GuideCB, action=action, arg=arg),
        st.sampled_from(GuideAction),
        st.one_of(st.sampled_from(REAL["steps"] + REAL["packs"]), short),
    ),
    st.builds(
        lambda action, item, answer: _packed(ChecklistCB, action=action, item=item, answer=answer),
        st.sampled_from(ChecklistAction),
        st.one_of(st.sampled_from(REAL["steps"] + REAL["questions"]), short),
        st.one_of(st.sampled_from(REAL["options"]), short),
    ),
    st.builds(
        lambda action, kind, lang, field: _packed(
            DocCB, action=action, kind=kind, lang=lang, field=field
        ),
        st.sampled_from(DocAction),
        st.one_of(st.sampled_from(REAL["documents"]), short),
        st.sampled_from(["ru", "be", "en", "", "xx"]),
        ids,
    ),
    st.builds(
        lambda action, arg: _packed(FaqCB, action=action, arg=arg),
        st.sampled_from(FaqAction),
        short,
    ),
    st.builds(
        lambda action, arg: _packed(HelpCB, action=action, arg=arg),
        st.sampled_from(HelpAction),
        st.one_of(
            st.sampled_from([*TOPICS, "0", "1", "1-5", "2-3", "1-9", "0-1", "-1-1"]),
            st.builds(lambda case, score: f"{case}-{score}", ids, st.integers(0, 6) | ids),
            digit_like,
            short,
        ),
    ),
    st.builds(
        lambda action, case: _packed(CaseCB, action=action, case=case),
        st.sampled_from(CaseAction),
        ids,
    ),
    st.builds(
        lambda action, enterprise: _packed(MatchCB, action=action, enterprise=enterprise),
        st.sampled_from(MatchAction),
        ids,
    ),
    st.builds(
        lambda action, arg: _packed(CircleCB, action=action, arg=arg),
        st.sampled_from(CircleAction),
        ids,
    ),
    st.builds(lambda action: _packed(MenuCB, action=action), st.sampled_from(MenuAction)),
    st.builds(lambda code: _packed(LanguageCB, code=code), st.sampled_from(LanguageCode)),
    st.builds(
        lambda week: _packed(StatsCB, week=week),
        st.one_of(st.sampled_from([20261116, 20261117, 20301111, 0, -1]), big_ints),
    ),
    st.builds(lambda action: _packed(PrivacyCB, action=action), st.sampled_from(PrivacyAction)),
    # Real prefixes (and an old and a future version) with fields that are not: missing, extra,
    # of the wrong type.
    st.builds(
        lambda prefix, parts: ":".join([prefix, *parts]),
        st.sampled_from([*(kind.__prefix__ for kind in KINDS), "guide0", "case2"]),
        st.lists(st.one_of(short, numbers, digit_like), max_size=5),
    ),
)
random_data = st.text(alphabet=st.characters(codec="utf-8"), max_size=64)
button_data = st.one_of(forged, random_data).filter(_fits)


# -- the updates, as plain data (hypothesis prints them when a property fails) ---------------


@dataclass(frozen=True)
class Private:
    """A user's message, edit or button press in their private chat with the bot."""

    user: int
    kind: str  # text | content | edited | press
    payload: str


@dataclass(frozen=True)
class InGroup:
    """A message, edit or button press in a group or supergroup."""

    user: int
    chat: int
    kind: str  # text | content | edited | press
    payload: str
    thread: int | None = None  # a forum topic
    reply_to: int | None = None


@dataclass(frozen=True)
class ChannelPost:
    """A post in a channel that added the bot, or its edit."""

    text: str
    edited: bool


@dataclass(frozen=True)
class MemberChange:
    """The bot's own membership (``my_chat_member``) or someone's (``chat_member``) changed."""

    user: int
    chat: int
    chat_type: str
    own: bool
    old: str
    new: str


@dataclass(frozen=True)
class Again:
    """The previous update delivered a second time (Telegram does, after a crash)."""


Step = Private | InGroup | ChannelPost | MemberChange | Again


def private_steps(users: Sequence[int]) -> st.SearchStrategy[Step]:
    who = st.sampled_from(users)
    return st.one_of(
        st.builds(Private, who, st.just("text"), texts),
        st.builds(Private, who, st.just("text"), commands(PRIVATE_COMMANDS)),
        st.builds(
            Private, who, st.just("text"), commands(VOLUNTEER_COMMANDS + OVERSIGHT_COMMANDS)
        ),
        st.builds(Private, who, st.just("content"), st.sampled_from(sorted(CONTENT_SAMPLES))),
        st.builds(Private, who, st.just("edited"), texts),
        st.builds(Private, who, st.just("press"), button_data),
    )


def group_steps(
    users: Sequence[int], chat: int, names: Sequence[str], threads: Sequence[int]
) -> st.SearchStrategy[Step]:
    who = st.sampled_from(users)
    where = st.one_of(st.none(), st.sampled_from(threads), st.integers(1, 10**6))
    replies = st.one_of(st.none(), st.integers(1, 40))
    return st.one_of(
        st.builds(InGroup, who, st.just(chat), st.just("text"), texts, where, replies),
        st.builds(InGroup, who, st.just(chat), st.just("text"), commands(names), where, replies),
        st.builds(
            InGroup,
            who,
            st.just(chat),
            st.just("content"),
            st.sampled_from(sorted(CONTENT_SAMPLES)),
        ),
        st.builds(InGroup, who, st.just(chat), st.just("edited"), texts),
        st.builds(InGroup, who, st.just(chat), st.just("press"), button_data),
    )


STATUSES = ("member", "left", "kicked")
elsewhere = st.one_of(
    st.builds(ChannelPost, st.one_of(texts, commands(PRIVATE_COMMANDS)), st.booleans()),
    st.builds(
        MemberChange,
        st.sampled_from(EVERYONE),
        st.sampled_from([VOLUNTEERS, COORDINATORS, UNKNOWN_GROUP, CHANNEL, WORKERS[0]]),
        st.sampled_from(["supergroup", "group", "channel", "private"]),
        st.booleans(),
        st.sampled_from(STATUSES),
        st.sampled_from(STATUSES),
    ),
)
unknown_group = st.one_of(
    group_steps(EVERYONE, UNKNOWN_GROUP, PRIVATE_COMMANDS + VOLUNTEER_COMMANDS, [1]),
    st.builds(
        lambda user, kind_payload: InGroup(user, BASIC_GROUP, *kind_payload),
        st.sampled_from(EVERYONE),
        st.sampled_from([("text", "/start"), ("content", "sticker"), ("press", "menu1:menu")]),
    ),
)


# -- the bench ------------------------------------------------------------------------------


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


_update_ids = itertools.count(1 << 52)  # far from UpdateFactory's numbers


def _raw_update(**payload: Any) -> Update:
    return Update.model_validate({"update_id": next(_update_ids), **payload})


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "kicked":
        member["until_date"] = 0
    return member


class Bench:
    """One bot, its database and a recording API on one event loop, for many examples."""

    def __init__(self, settings_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        settings = make_settings(
            settings_path,
            volunteers_chat_id=VOLUNTEERS,
            coordinators_chat_id=COORDINATORS,
            admin_ids=[ADMIN],
            default_locale="en",
            circle_threshold=2,
            throttle_per_minute=0,  # floods are another test's subject: here every update counts
        )
        self.services = self.run(Services.open(settings, clock=lambda: NOW))
        self.services.sleep = _no_wait
        self.services.limiter = OutgoingLimiter(sleep=_no_wait)
        self.chat = ChatHarness(self.services)
        self.factories: dict[int, UpdateFactory] = {}
        self._fresh = itertools.count(740_000_001)
        self.updates = 0
        self.previous: Update | None = None
        self.thread: int | None = None

    def factory(self, user: int) -> UpdateFactory:
        """Updates from ``user``, whom Telegram knows as a member of no chat unless said so."""
        if user not in self.factories:
            if user not in (MEMBER, ADMIN):
                self.chat.api.chat_members[user] = MEMBERSHIP.get(user, "left")
            self.factories[user] = self.chat.user(
                user,
                language_code=LANGUAGES.get(user, "en"),
                first_name=first_name(user),
                username=username(user),
            )
        return self.factories[user]

    def fresh_user(self) -> int:
        """Someone who has never written to the bot."""
        user = next(self._fresh)
        self.factory(user)
        return user

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.services.close())
        finally:
            self.loop.close()

    def feed(self, update: Update) -> list[Any]:
        self.updates += 1
        self.previous = update
        return self.run(self.chat.feed(update))

    def seed(self) -> None:
        """A circle of two (the first in circle mode), and a case a volunteer has taken."""
        from tests.test_handoff import open_case
        from tests.test_match_flow import join

        async def seed() -> list[Any]:
            first, second, third = (self.factory(w) for w in WORKERS[:3])
            await join(self.chat, first)
            await join(self.chat, second)
            await self.chat.feed(first.callback(CircleCB(action=CircleAction.RELAY_ON).pack()))
            calls = await open_case(self.chat, third)
            take = CaseCB(action=CaseAction.TAKE, case=1).pack()
            await self.chat.feed(
                self.factory(MEMBER).callback(take, chat_id=VOLUNTEERS, chat_type="supergroup")
            )
            return calls

        calls = self.run(seed())
        [card] = [
            c for c in calls if isinstance(c, methods.SendMessage) and c.chat_id == VOLUNTEERS
        ]
        self.thread = card.message_thread_id
        assert self.run(self.services.circles.summaries()), "the seeded circle opened"

    # -- turning steps into updates ----------------------------------------------------------

    def build(self, step: Step) -> Update:
        match step:
            case Private(user, "text", text):
                return self.factory(user).text(text)
            case Private(user, "content", kind):
                return self.factory(user).content(kind)
            case Private(user, "edited", text):
                return self.factory(user).edited(1, text)
            case Private(user, "press", data):
                return self.factory(user).callback(data, message_id=1)
            case InGroup(user, chat, kind, payload, thread, reply_to):
                return self._in_group(user, chat, kind, payload, thread, reply_to)
            case ChannelPost(text, edited):
                return self._channel_post(text, edited)
            case MemberChange(user, chat, chat_type, own, old, new):
                return self._member_change(user, chat, chat_type, own, old, new)
        raise AssertionError(step)

    def _in_group(
        self, user: int, chat: int, kind: str, payload: str, thread: int | None, reply: int | None
    ) -> Update:
        factory = self.factory(user)
        chat_type = "group" if chat == BASIC_GROUP else "supergroup"
        if kind == "text":
            return factory.text(payload, chat, chat_type, thread_id=thread, reply_to=reply)
        if kind == "content":
            return factory.content(payload, chat, chat_type)
        if kind == "press":
            return factory.callback(
                payload, message_id=reply or 2, chat_id=chat, chat_type=chat_type
            )
        message = factory.text(payload, chat, chat_type).message
        assert message is not None
        edited = message.model_dump(mode="json", exclude_none=True, by_alias=True)
        edited["edit_date"] = int(NOW.timestamp())
        return _raw_update(edited_message=edited)

    def _channel_post(self, text: str, edited: bool) -> Update:
        self.chat.api.remember_chat(CHANNEL, "channel")
        channel = {"id": CHANNEL, "type": "channel", "title": "A channel"}
        post: dict[str, Any] = {
            "message_id": self.chat.api.next_message_id(CHANNEL),
            "date": int(NOW.timestamp()),
            "chat": channel,
            "sender_chat": channel,
            "text": text,
        }
        if text.startswith("/"):
            post["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}
            ]
        if edited:
            post["edit_date"] = int(NOW.timestamp())
            return _raw_update(edited_channel_post=post)
        return _raw_update(channel_post=post)

    def _member_change(
        self, user: int, chat: int, chat_type: str, own: bool, old: str, new: str
    ) -> Update:
        sender = self.factory(user).user
        if chat_type == "private":
            chat_info: dict[str, Any] = {"id": user, "type": "private", "first_name": "x"}
        else:
            chat_info = {"id": chat, "type": chat_type, "title": "Group"}
        subject = BOT_USER if own else sender
        change = {
            "chat": chat_info,
            "from": sender,
            "date": int(NOW.timestamp()),
            "old_chat_member": _member(subject, old),
            "new_chat_member": _member(subject, new),
        }
        return _raw_update(**{"my_chat_member" if own else "chat_member": change})

    # -- playing and checking ----------------------------------------------------------------

    def play(self, steps: Sequence[Step], caplog: pytest.LogCaptureFixture) -> None:
        caplog.clear()
        for step in steps:
            if isinstance(step, Again):
                if self.previous is not None:
                    assert self.feed(self.previous) == [], "a redelivered update is skipped"
                continue
            update = self.build(step)
            calls = self.feed(update)
            check_answer(step, update, calls)
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not failures, [r.getMessage() for r in failures]
        logged = log_text(caplog)
        for user in self.factories:
            for secret in (str(user), first_name(user), username(user)):
                assert secret not in logged, "no id or name in the logs"
        for step in steps:
            words = _typed(step)
            if len(words) >= 12 and len(set(words)) >= 6:  # not a word the logs may hold
                assert words not in logged, "no message text in the logs"
        self.run(check_database(self.services))


def _typed(step: Step) -> str:
    """What someone typed in ``step`` ("" for buttons, files and the rest)."""
    if isinstance(step, Private | InGroup) and step.kind in ("text", "edited"):
        return step.payload
    return step.text if isinstance(step, ChannelPost) else ""


def _for_user(call: Any, user: int) -> bool:
    """A call that answers the user: in their chat, or their message relayed onwards."""
    return user in (getattr(call, "chat_id", None), getattr(call, "from_chat_id", None))


def _answers(calls: list[Any], update: Update) -> list[methods.AnswerCallbackQuery]:
    assert update.callback_query is not None
    return [
        c
        for c in calls
        if isinstance(c, methods.AnswerCallbackQuery)
        and c.callback_query_id == update.callback_query.id
    ]


def _chats(calls: list[Any]) -> set[int]:
    return {int(c.chat_id) for c in calls if getattr(c, "chat_id", None) is not None}


def check_answer(step: Step, update: Update, calls: list[Any]) -> None:
    """The property each kind of update must have."""
    match step:
        case Private(user, "press", _):
            assert len(_answers(calls, update)) == 1, "every button is answered, once"
        case Private(user, _, _):
            assert any(_for_user(c, user) for c in calls), "every private message is answered"
        case InGroup(_, chat, _, _, _, _) if chat in (UNKNOWN_GROUP, BASIC_GROUP):
            assert calls == [], "a group the bot does not serve gets nothing"
        case InGroup(user, chat, "press", _, _, _) if chat == COORDINATORS:
            assert len(_answers(calls, update)) == 1, "every button is answered, once"
            assert _chats(calls) <= {COORDINATORS}
        case InGroup(user, chat, "press", _, _, _):
            assert len(_answers(calls, update)) == 1, "every button is answered, once"
            if user in STRANGERS:
                assert _chats(calls) <= {VOLUNTEERS}, "nothing done for a stranger"
        case InGroup(user, chat, _, _, _, _) if user in STRANGERS or chat == COORDINATORS:
            assert _chats(calls) <= {chat}, "answered in the group, nothing done beyond it"
        case ChannelPost() | MemberChange():
            assert calls == [], "channels and membership changes get nothing"


INVARIANTS = {
    "one active circle per person": "SELECT user_key FROM circle_members WHERE status = 'active'"
    " GROUP BY user_key HAVING COUNT(*) > 1",
    "one open case per person": "SELECT user_key FROM cases WHERE status != 'closed'"
    " GROUP BY user_key HAVING COUNT(*) > 1",
    "a case's status matches its fields": "SELECT id FROM cases WHERE"
    " (status = 'open' AND assignee IS NOT NULL) OR (status = 'taken' AND assignee IS NULL)"
    " OR (status = 'closed') != (closed_on IS NOT NULL)"
    " OR (status = 'closed' AND (opened_at IS NOT NULL OR offered_to IS NOT NULL))",
    "a blocked worker has no open case": "SELECT c.id FROM cases c"
    " JOIN blocked_workers b ON b.user_key = c.user_key WHERE c.status != 'closed'",
    "pseudonyms are below the next one": "SELECT m.circle_id FROM circle_members m"
    " JOIN circles c ON c.id = m.circle_id WHERE m.pseudonym >= c.next_pseudonym",
    "nobody is interested in a merged enterprise": "SELECT i.user_key FROM interests i"
    " JOIN enterprises e ON e.id = i.enterprise_id WHERE e.status = 'merged'",
    "events hold JSON facts only": "SELECT id FROM events WHERE NOT json_valid(fields)"
    " OR json_type(fields) != 'object'",
    "locales are known": "SELECT key FROM users WHERE locale NOT IN ('ru', 'be', 'en')",
    "ratings are 1 to 5": "SELECT id FROM cases WHERE rating NOT BETWEEN 1 AND 5",
}
ALIAS = re.compile(r"^[\w .'-]{2,24}$")


async def check_database(services: Services) -> None:
    """SQLite's own checks, then the invariants the schema alone does not enforce."""
    db = services.db
    assert [tuple(r) for r in await db.fetchall("PRAGMA integrity_check")] == [("ok",)]
    assert [tuple(r) for r in await db.fetchall("PRAGMA foreign_key_check")] == []
    for invariant, sql in INVARIANTS.items():
        assert [tuple(r) for r in await db.fetchall(sql)] == [], invariant
    for row in await db.fetchall("SELECT alias FROM volunteers WHERE alias IS NOT NULL"):
        assert ALIAS.match(row[0]), "an alias is what /alias allows"
    for row in await db.fetchall("SELECT fields FROM events"):
        for value in json.loads(row[0]).values():
            assert isinstance(value, int | float | bool) or len(str(value)) <= 40, (
                "an event holds short facts, never free text"
            )


def check_no_identities(bench: Bench) -> None:
    """The database file (with its WAL) holds no Telegram id, name or username in clear."""
    bench.run(bench.services.db.checkpoint())
    path = bench.services.db.path
    stored = b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )
    for user in bench.factories:
        for secret in (str(user), first_name(user), username(user)):
            assert secret.encode() not in stored, "no id or name in the database file"


def _open_bench(folder: Path, seeded_database: Path, seed: bool) -> Iterator[Bench]:
    for name in ("bot.sqlite3", "secret.key"):
        shutil.copy2(seeded_database / name, folder / name)
    opened = Bench(folder)
    try:
        if seed:
            opened.seed()
        yield opened
        check_no_identities(opened)
    finally:
        opened.close()


@pytest.fixture
def bench(tmp_path: Path, seeded_database: Path) -> Iterator[Bench]:
    """A bot with a circle and a case in progress."""
    yield from _open_bench(tmp_path, seeded_database, seed=True)


@pytest.fixture
def bare_bench(tmp_path: Path, seeded_database: Path) -> Iterator[Bench]:
    """A bot nobody has talked to yet."""
    yield from _open_bench(tmp_path, seeded_database, seed=False)


HOSTILE = hypothesis_settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


# -- the tests ------------------------------------------------------------------------------


@hypothesis_settings(HOSTILE, max_examples=120)
@given(steps=st.lists(private_steps(EVERYONE), min_size=4, max_size=25))
def test_private_chats_answer_anything(
    bench: Bench, caplog: pytest.LogCaptureFixture, steps: list[Step]
) -> None:
    """Any text, command, message kind, edit or button, from workers, volunteers, outsiders
    and the admin, in private: answered, never an error, the database consistent."""
    caplog.set_level(logging.INFO)
    bench.play(steps, caplog)


@hypothesis_settings(HOSTILE, max_examples=120)
@given(steps=st.lists(button_data, min_size=4, max_size=25))
def test_forged_buttons_in_private_expire_politely(
    bench: Bench, caplog: pytest.LogCaptureFixture, steps: list[str]
) -> None:
    """Random button data and well-formed data naming other people's cases, circles, steps
    and documents: each press answered once, nothing raises, the database consistent."""
    caplog.set_level(logging.INFO)
    users = itertools.cycle(WORKERS)
    bench.play([Private(next(users), "press", data) for data in steps], caplog)


@hypothesis_settings(HOSTILE, max_examples=120)
@given(data=st.data())
def test_groups_channels_and_strangers(
    bench: Bench, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    """Unknown groups and channels get nothing; strangers in the volunteers' group are answered
    there at most and act on nothing; the coordinators' chat keeps its answers to itself."""
    caplog.set_level(logging.INFO)
    assert bench.thread is not None
    threads = [bench.thread]
    group = st.one_of(
        unknown_group,
        elsewhere,
        group_steps(STRANGERS, VOLUNTEERS, VOLUNTEER_COMMANDS + PRIVATE_COMMANDS, threads),
        group_steps(EVERYONE, COORDINATORS, ("stats", "start", "help"), threads),
    )
    bench.play(data.draw(st.lists(group, min_size=4, max_size=25)), caplog)


@hypothesis_settings(HOSTILE, max_examples=120)
@given(data=st.data())
def test_everything_at_once(
    bench: Bench, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    """Workers, volunteers, the admin and strangers interleaved, updates delivered twice:
    the case and the circle seeded at the start keep every invariant whatever happens."""
    caplog.set_level(logging.INFO)
    assert bench.thread is not None
    threads = [bench.thread]
    anything = st.one_of(
        private_steps(EVERYONE),
        group_steps(
            (MEMBER, ADMIN),
            VOLUNTEERS,
            VOLUNTEER_COMMANDS + OVERSIGHT_COMMANDS + ("stats",),
            threads,
        ),
        group_steps(STRANGERS, VOLUNTEERS, VOLUNTEER_COMMANDS, threads),
        elsewhere,
        unknown_group,
        st.just(Again()),
    )
    bench.play(data.draw(st.lists(anything, min_size=4, max_size=30)), caplog)


# -- sweeps: every command, every kind of message in every situation, every button ----------

JUNK_ARGUMENTS = (
    "",
    "0",
    "-1",
    str(2**63 - 1),
    str(-(2**63)),
    "1 2",
    "2 1 x",
    "i_",
    "i_" + "A" * 60,
    "\u202e\u200fevil\u202c",
    "\u200b\ufeff\u2060",
    "\x00\x00",
    "<b>bold</b> &amp; <i>",
    "a\u0301" * 2000,
    "я" * 4080,
    "volunteer 1",
    "coordinator 1",
    "csv 2026-W47",
    "2026-W99",
)


def test_every_command_with_junk_arguments(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    """Each command the bot knows, with each kind of junk after it, from a worker, a volunteer
    and the admin, in private; and the volunteers' commands in the volunteers' group, from a
    stranger and from volunteers, in the case's topic."""
    caplog.set_level(logging.INFO)
    assert bench.thread is not None
    every = PRIVATE_COMMANDS + VOLUNTEER_COMMANDS + OVERSIGHT_COMMANDS
    private = [
        Private(user, "text", f"/{name} {args}".rstrip(" ")[:4096])
        for user in (bench.fresh_user(), WORKERS[1], MEMBER, ADMIN)
        for name in every
        for args in JUNK_ARGUMENTS
        # For a volunteer or the admin /stats draws a chart (~0.2 s): two forms are enough.
        if not (name == "stats" and args not in ("", "2026-W99"))
    ]
    in_group = [
        InGroup(user, VOLUNTEERS, "text", f"/{name} {args}".rstrip(" ")[:4096], thread)
        for user, names in (
            (OUTSIDER, VOLUNTEER_COMMANDS),
            (OBSERVER, VOLUNTEER_COMMANDS),
            (MEMBER, VOLUNTEER_COMMANDS + OVERSIGHT_COMMANDS),
            (ADMIN, VOLUNTEER_COMMANDS + OVERSIGHT_COMMANDS),
        )
        for name in names
        for args in JUNK_ARGUMENTS
        for thread in (bench.thread, None)
    ]
    bench.play(private, caplog)
    bench.play(in_group, caplog)


#: Where a user can be in the middle of something: the steps that lead there ("x:y" is a
#: button) and the conversation state they leave (None: no state, or not checked).
CLOSED_CASE = ("/start", "/volunteer", "help1:topic:other", "a question", "/end")
SITUATIONS: dict[str, tuple[tuple[str, ...], State | None]] = {
    "never started": ((), None),
    "at the menu": (("/start",), None),
    "naming an enterprise": (("/start", "/coworkers"), MatchSG.enterprise),
    "naming a city": (("/start", "/coworkers", "Zxqwv Ptkrlm Works"), MatchSG.city),
    "writing to a volunteer": (
        ("/start", "/volunteer", "help1:topic:legal"),
        HelpSG.first_message,
    ),
    "filling a document": (
        ("/start", f"doc1:fill:{REAL['documents'][0]}:en:-1"),
        DocumentSG.field,
    ),
    "answering the checklist": (("/start", "check1:begin::"), None),
    "rating a closed case": (CLOSED_CASE, None),
    "commenting on a case": (
        (*CLOSED_CASE, "help1:rate:{case}-4", HelpCB(action=HelpAction.COMMENT).pack()),
        HelpSG.comment,
    ),
    "in circle mode": ((), None),  # the seeded WORKERS[0]
    "in a circle": ((), None),  # the seeded WORKERS[1]
    "in a case a volunteer took": ((), None),  # the seeded WORKERS[2]
}
SEEDED = {"in circle mode": 0, "in a circle": 1, "in a case a volunteer took": 2}


def _enter(bench: Bench, caplog: pytest.LogCaptureFixture, situation: str) -> int:
    """Someone now in ``situation`` (a newcomer each time, but for the seeded ones)."""
    if situation in SEEDED:
        return WORKERS[SEEDED[situation]]
    user = bench.fresh_user()
    items, state = SITUATIONS[situation]
    for item in items:
        payload = item
        if "{case}" in item:  # the case this user's steps opened and closed
            key = bench.services.identity.user_key(user)
            case = bench.run(bench.services.cases.last_closed(key))
            assert case is not None
            payload = item.format(case=case.id)
        is_button = ":" in payload and " " not in payload
        bench.play([Private(user, "press" if is_button else "text", payload)], caplog)
    if state is not None:
        context = bench.chat.dispatcher.fsm.get_context(bench.chat.bot, user, user)
        assert bench.run(context.get_state()) == state.state, f"{situation}: reached"
    return user


def test_every_kind_of_message_in_every_situation(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """Text, commands, an edit and every kind of content, each sent by a user in the middle
    of each flow (a form, a search, a case, a circle…): every one of them is answered."""
    caplog.set_level(logging.INFO)
    sent = [
        *(("content", kind) for kind in sorted(CONTENT_SAMPLES)),
        *(("text", text) for text in ("hello", "\u202e\u200b", "я" * 4096, "/help", "/nonsense")),
        ("edited", "changed"),
    ]
    for situation in SITUATIONS:
        for kind, payload in sent:
            # A newcomer each time: an answer may end the situation.
            user = _enter(bench, caplog, situation)
            bench.play([Private(user, kind, payload)], caplog)


def _every_button() -> list[str]:
    """Each action of each kind of button, one field at a time set to a real, absent or
    extreme value (ids of other people's cases and circles among them)."""
    values: dict[Any, list[Any]] = {
        int: [0, 1, 2, -1, 2**63 - 1],
        str: ["", "x", *REAL["steps"][:2], REAL["documents"][0], REAL["questions"][0], "1-3"],
    }
    found: list[str] = []
    kinds: tuple[type[CallbackData], ...] = (
        *(GuideCB, ChecklistCB, DocCB, FaqCB),
        *(HelpCB, CaseCB, MatchCB, CircleCB),
    )
    for kind in kinds:
        enum = kind.model_fields["action"].annotation
        assert isinstance(enum, type) and issubclass(enum, StrEnum)
        others = {
            name: field.annotation for name, field in kind.model_fields.items() if name != "action"
        }
        for action in enum:
            tried: list[dict[str, Any]] = [{}]
            tried += [{name: v} for name, type_ in others.items() for v in values[type_]]
            for fields in tried:
                try:
                    found.append(kind(action=action, **fields).pack())
                except ValueError:  # a required field missing, or over 64 bytes
                    continue
    found += [MenuCB(action=action).pack() for action in MenuAction]
    found += [LanguageCB(code=code).pack() for code in LanguageCode]
    found += [PrivacyCB(action=action).pack() for action in PrivacyAction]
    found += [StatsCB(week=week).pack() for week in (20261116, 20261123, 0)]
    found.append(f"stats1:{2**63 - 1}")  # out of range: the class would refuse to build it
    return [data for data in dict.fromkeys(found) if data]


def test_every_button_pressed_by_everyone(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    """Every action of every kind of button, with real, foreign and extreme values, pressed
    in private by a newcomer, by workers in a circle and in a case, and by a volunteer; and in
    the volunteers' group by a stranger and by a volunteer: each press answered once."""
    caplog.set_level(logging.INFO)
    buttons = _every_button()
    newcomer = bench.fresh_user()
    for user in (newcomer, WORKERS[3], MEMBER):
        bench.play([Private(user, "press", data) for data in buttons], caplog)
    for user in (OUTSIDER, MEMBER):
        bench.play([InGroup(user, VOLUNTEERS, "press", data) for data in buttons], caplog)
    # Last, as they may leave the circle or end the case.
    for user in (WORKERS[2], WORKERS[0]):
        bench.play([Private(user, "press", data) for data in buttons], caplog)


# -- bugs found: minimal repros, expected to fail until the bot is fixed ---------------------

EXPIRED = "This button has expired. Send /start for a fresh menu."
APOLOGY = "Sorry, something went wrong"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_forged_rating_button_with_odd_numbers_expires_politely(
    bare_bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker's forged rating button with a superscript digit or a case number beyond
    SQLite's integers gets "expired", like any forged button, not the error handler."""
    caplog.set_level(logging.INFO)
    worker = bare_bench.fresh_user()
    for arg in ("²-1", "1-²", f"{2**63}-5"):
        update = bare_bench.factory(worker).callback(f"help1:rate:{arg}", message_id=1)
        [answer] = bare_bench.feed(update)
        assert isinstance(answer, methods.AnswerCallbackQuery)
        assert answer.text == EXPIRED, arg
    assert _errors(caplog) == []


def test_numbers_in_the_volunteers_group_are_checked(
    bare_bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """Oversight commands (which any member of the group may send), /unblock and a case
    button with an odd or oversized number get their usage line or "does not exist"."""
    caplog.set_level(logging.INFO)
    big = str(2**63)
    commands_sent = {
        MEMBER: [
            "/circle_post ² hello",
            f"/circle_post {big} hello",
            f"/circle_remove {big} 1",
            f"/approve {big}",
            f"/merge {big} 2",
        ],
        ADMIN: ["/unblock ²", f"/unblock {big}"],
    }
    for user, sent in commands_sent.items():
        for text in sent:
            update = bare_bench.factory(user).text(text, VOLUNTEERS, "supergroup")
            calls = bare_bench.feed(update)
            assert any(isinstance(c, methods.SendMessage) for c in calls), text
    press = bare_bench.factory(MEMBER).callback(
        f"case1:take:{big}", message_id=2, chat_id=VOLUNTEERS, chat_type="supergroup"
    )
    [answer] = bare_bench.feed(press)
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert APOLOGY not in (answer.text or "")
    assert _errors(caplog) == []


def test_an_admin_granting_a_role_to_an_odd_number_gets_the_usage(
    bare_bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    """/grant volunteer ² from the admin gets the usage line, not the error handler."""
    caplog.set_level(logging.INFO)
    [reply] = bare_bench.feed(bare_bench.factory(ADMIN).text("/grant volunteer ²"))
    assert isinstance(reply, methods.SendMessage)
    assert reply.text.startswith("Usage: /grant")
    assert _errors(caplog) == []


@pytest.mark.parametrize("data", ["stats0:20261116", "menu1:menu", "x"])
def test_a_stale_button_in_the_coordinators_chat_expires_politely(
    bare_bench: Bench, data: str
) -> None:
    """A button of an older report (``stats0``), or any other, pressed in the coordinators'
    chat gets "expired", as the rules of the house say, not a spinner that never stops."""
    press = bare_bench.factory(MEMBER).callback(
        data, message_id=2, chat_id=COORDINATORS, chat_type="supergroup"
    )
    [answer] = bare_bench.feed(press)
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert answer.text == EXPIRED
