"""Hand-off through the dispatcher: cases, cards, relays both ways, take races, reminders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from bot.local_api import QueuedError
from bot.telegram import OutgoingLimiter
from bot.updates import UpdateFactory
from flows.handoff.callbacks import CaseAction, CaseCB, HelpAction, HelpCB
from flows.handoff.desk import Desk
from flows.handoff.reminders import remind
from flows.handoff.router import make_desk
from tests.conftest import ChatHarness, all_events, buttons, make_settings

GROUP = -100_777_000
ADMIN = 900_000_001
WORKER, WORKER_2 = 710_000_001, 710_000_002
VOL_A, VOL_B = 820_000_001, 820_000_002


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The volunteers read the group in the default locale: English here.
    return make_settings(
        tmp_path, volunteers_chat_id=GROUP, admin_ids=[ADMIN], default_locale="en"
    )


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    clock = Clock()
    services = await Services.open(settings, clock=clock)

    async def instant(seconds: float) -> None:
        await asyncio.sleep(0)

    # Pacing is measured elsewhere (test_fanout, and the burst test below): no real waits here.
    services.limiter = OutgoingLimiter(sleep=instant)
    harness = ChatHarness(services)
    harness.clock = clock  # type: ignore[attr-defined]
    yield harness
    await services.close()


def in_group(calls: list[Any]) -> list[Any]:
    return [c for c in calls if getattr(c, "chat_id", None) == GROUP]


def to(calls: list[Any], chat_id: int) -> list[Any]:
    return [c for c in calls if getattr(c, "chat_id", None) == chat_id]


async def open_case(
    chat: ChatHarness,
    worker: UpdateFactory,
    first: str = "Can they fire me?",
    topic: str = "legal",
) -> list[Any]:
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(
        worker.callback(HelpCB(action=HelpAction.TOPIC, arg=topic).pack(), message_id=1)
    )
    return await chat.feed(worker.text(first))


def card_of(calls: list[Any]) -> methods.SendMessage:
    [card] = [c for c in in_group(calls) if isinstance(c, methods.SendMessage)]
    return card


def volunteer(chat: ChatHarness, user_id: int = VOL_A) -> UpdateFactory:
    return chat.user(user_id, language_code="en", first_name="Vera", username="vera_real")


async def take(chat: ChatHarness, who: UpdateFactory, case: int = 1) -> list[Any]:
    data = CaseCB(action=CaseAction.TAKE, case=case).pack()
    return await chat.feed(who.callback(data, message_id=2, chat_id=GROUP, chat_type="supergroup"))


async def test_a_worker_opens_a_case_and_volunteers_see_a_card_without_identity(
    chat: ChatHarness,
) -> None:
    worker = chat.user(WORKER, language_code="ru", first_name="Ulyana", username="ulyana77")
    calls = await open_case(chat, worker)
    [topic] = [c for c in calls if isinstance(c, methods.CreateForumTopic)]
    assert topic.name == "#1 · RU · Legal question"
    card = card_of(calls)
    assert "Case #1" in card.text and "Русский" in card.text
    assert card.message_thread_id is not None
    [copy] = [c for c in in_group(calls) if isinstance(c, methods.CopyMessage)]
    assert copy.protect_content is True and copy.message_thread_id == card.message_thread_id
    for call in in_group(calls):
        # from_chat_id goes to Telegram only: a copy shows volunteers no link to the original.
        dumped = str(call.model_dump(exclude={"from_chat_id"}))
        assert str(WORKER) not in dumped and "Ulyana" not in dumped and "ulyana77" not in dumped
    [confirmation] = [c for c in to(calls, WORKER) if isinstance(c, methods.SendMessage)]
    assert confirmation.text.startswith("Обращение №1 открыто") or "#1" in confirmation.text
    kinds = [e.kind for e in await all_events(chat.services)]
    assert "case_opened" in kinds


async def test_take_tells_the_worker_the_alias_only(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)
    vera = volunteer(chat)
    await chat.feed(vera.text("/alias Ala", chat_id=GROUP, chat_type="supergroup"))
    calls = await take(chat, vera)
    [told] = to(calls, WORKER)
    assert told.text == "A volunteer, Ala, has joined the conversation."
    assert "Vera" not in told.text and "vera_real" not in told.text
    log = await chat.services.cases.access_log(1)
    assert [action for _, action in log] == ["take"]
    [taken] = [e for e in await all_events(chat.services) if e.kind == "case_taken"]
    assert "wait_seconds" in taken.fields and taken.user_key is None


async def test_exactly_one_of_two_volunteers_takes_a_case_100_times(chat: ChatHarness) -> None:
    vera, bob = volunteer(chat, VOL_A), volunteer(chat, VOL_B)
    for trial in range(100):
        worker = chat.user(730_000_000 + trial, language_code="en")
        await open_case(chat, worker, first=f"question {trial}")
        case = trial + 1
        before = len(chat.api.calls)
        await asyncio.gather(take(chat, vera, case), take(chat, bob, case))
        # Concurrent feeds share one recording: tell the two answers apart by callback id.
        answers = {
            c.callback_query_id: c
            for c in chat.api.calls[before:]
            if isinstance(c, methods.AnswerCallbackQuery)
        }
        assert len(answers) == 2, f"trial {trial}: both presses were answered"
        refused = [a for a in answers.values() if a.show_alert]
        assert len(refused) == 1, f"trial {trial}"
        assert (refused[0].text or "").startswith("Already taken by")
        takes = [a for _, a in await chat.services.cases.access_log(case) if a == "take"]
        assert takes == ["take"], f"trial {trial}: exactly one take"


async def test_relay_both_ways_and_internal_notes(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera, bob = volunteer(chat, VOL_A), volunteer(chat, VOL_B)
    await take(chat, vera)

    calls = await chat.feed(
        vera.text(
            "You are protected by art. 14.",
            chat_id=GROUP,
            chat_type="supergroup",
            thread_id=thread,
        )
    )
    [copy] = [c for c in calls if isinstance(c, methods.CopyMessage)]
    assert copy.chat_id == WORKER and copy.protect_content is True
    assert [e.kind for e in await all_events(chat.services)].count("case_first_response") == 1

    for note in ("// check the statute first",):
        calls = await chat.feed(
            vera.text(note, chat_id=GROUP, chat_type="supergroup", thread_id=thread)
        )
        assert to(calls, WORKER) == []
    calls = await chat.feed(
        bob.text("I agree", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    assert to(calls, WORKER) == [], "another volunteer's words stay a note"

    calls = await chat.feed(worker.text("Thank you!"))
    [copy] = [c for c in calls if isinstance(c, methods.CopyMessage)]
    assert copy.chat_id == GROUP and copy.message_thread_id == thread


async def test_without_forum_mode_cards_and_replies_route_the_case(chat: ChatHarness) -> None:
    chat.api.fail_next(
        QueuedError(400, "Bad Request: the chat is not a forum", method=methods.CreateForumTopic)
    )
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    card = card_of(calls)
    assert card.message_thread_id is None
    [copy] = [c for c in in_group(calls) if isinstance(c, methods.CopyMessage)]
    assert copy.reply_parameters is not None, "the worker's message hangs under the card"
    card_id = copy.reply_parameters.message_id
    vera = volunteer(chat)
    await take(chat, vera)
    calls = await chat.feed(
        vera.text("Hello", chat_id=GROUP, chat_type="supergroup", reply_to=card_id)
    )
    assert [c.chat_id for c in calls if isinstance(c, methods.CopyMessage)] == [WORKER]


async def test_mistakes_in_the_group_get_local_replies(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera = volunteer(chat)
    [reply] = [
        c
        for c in await chat.feed(
            vera.text("hi", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
        )
        if isinstance(c, methods.SendMessage)
    ]
    assert "Take the case first" in reply.text
    [reply] = await chat.feed(
        vera.text("hi", chat_id=GROUP, chat_type="supergroup", thread_id=999)
    )
    assert "not linked to a case" in reply.text

    await take(chat, vera)
    [alert] = [
        c
        for c in await take(chat, volunteer(chat, VOL_B))
        if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert alert.show_alert and "Already taken by Volunteer" in (alert.text or "")

    await chat.feed(vera.text("/close", chat_id=GROUP, chat_type="supergroup", thread_id=thread))
    [reply] = await chat.feed(
        vera.text("one more", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    assert "is closed: nothing was sent" in reply.text
    [alert] = [c for c in await take(chat, vera) if isinstance(c, methods.AnswerCallbackQuery)]
    assert "closed" in (alert.text or "")


async def test_non_volunteers_are_refused(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    chat.api.chat_members[VOL_B] = "restricted"
    observer = volunteer(chat, VOL_B)
    [alert] = [c for c in await take(chat, observer) if isinstance(c, methods.AnswerCallbackQuery)]
    assert "Only volunteers" in (alert.text or "")
    [reply] = await chat.feed(
        observer.text("hi", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    assert "Only volunteers can answer cases." in reply.text


async def test_end_rate_and_comment_is_passed_on_not_stored(
    chat: ChatHarness, settings: Settings
) -> None:
    worker = chat.user(WORKER, language_code="be")
    await open_case(chat, worker)
    await take(chat, volunteer(chat))
    calls = await chat.feed(worker.text("/end"))
    rate = [d for c in calls for _, d in buttons(c) if d and d.startswith("help1:rate:")]
    assert len(rate) == 5
    calls = await chat.feed(worker.callback(rate[3], message_id=1))
    [rated] = [e for e in await all_events(chat.services) if e.kind == "case_rated"]
    assert rated.fields["score"] == 4
    comment = "The volunteer explained article fourteen clearly"
    await chat.feed(worker.callback(HelpCB(action=HelpAction.COMMENT).pack(), message_id=1))
    calls = await chat.feed(worker.text(comment))
    assert any(isinstance(c, methods.CopyMessage) and c.chat_id == GROUP for c in calls)
    closed = [e for e in await all_events(chat.services) if e.kind == "case_closed"]
    assert closed[0].fields["by"] == "worker"
    await chat.services.db.checkpoint()
    assert comment.encode() not in settings.database_path.read_bytes()


async def test_writing_again_within_seven_days_reopens_later_a_new_case(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)
    await chat.feed(worker.text("/end"))
    chat.clock.now += timedelta(days=3)  # type: ignore[attr-defined]
    calls = await chat.feed(worker.text("/volunteer"))
    [again] = [c for c in to(calls, WORKER) if isinstance(c, methods.SendMessage)]
    assert "#1 is open again" in again.text
    assert any(
        "wrote again" in c.text for c in in_group(calls) if isinstance(c, methods.SendMessage)
    )
    await chat.feed(worker.text("/end"))
    chat.clock.now += timedelta(days=8)  # type: ignore[attr-defined]
    [topics] = await chat.feed(worker.text("/volunteer"))
    assert "What is it about?" in topics.text
    calls = await chat.feed(
        worker.callback(HelpCB(action=HelpAction.TOPIC, arg="safety").pack(), message_id=1)
    )
    calls = await chat.feed(worker.text("new question"))
    assert any("#2" in c.name for c in calls if isinstance(c, methods.CreateForumTopic))


@pytest.mark.parametrize("locale", ["en", "ru", "be"])
async def test_canned_replies_in_the_workers_language(chat: ChatHarness, locale: str) -> None:
    worker = chat.user(WORKER, language_code=locale)
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera = volunteer(chat)
    await take(chat, vera)
    [listing] = await chat.feed(
        vera.text("/replies", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    names = [line[2:] for line in listing.text.splitlines() if line.startswith("• ")]
    assert len(names) >= 5
    calls = await chat.feed(
        vera.text(f"/reply {names[0]}", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    [sent] = to(calls, WORKER)
    assert sent.text == chat.services.replies[locale][names[0]]


async def test_reminders_with_a_controllable_clock(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)

    def desk() -> Desk:
        return make_desk(chat.services, chat.bot)

    assert await remind(desk()) == 0
    chat.clock.now += timedelta(minutes=16)  # type: ignore[attr-defined]
    before = len(chat.api.calls)
    assert await remind(desk()) == 1
    [ping] = in_group(chat.api.calls[before:])
    assert "waiting for 16 minutes" in ping.text
    assert await remind(desk()) == 0, "once"
    chat.clock.now += timedelta(minutes=50)  # type: ignore[attr-defined]
    before = len(chat.api.calls)
    assert await remind(desk()) == 1
    [told] = to(chat.api.calls[before:], WORKER)
    assert "still in the queue" in told.text


async def test_a_failed_relay_is_reported_in_the_topic(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera = volunteer(chat)
    await take(chat, vera)
    chat.api.fail_next(
        QueuedError(403, "Forbidden: bot was blocked by the user", method=methods.CopyMessage)
    )
    calls = await chat.feed(
        vera.text("hello?", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    )
    [reply] = [c for c in in_group(calls) if isinstance(c, methods.SendMessage)]
    assert "blocked the bot" in reply.text


async def test_forty_worker_messages_in_a_minute_arrive_in_order(chat: ChatHarness) -> None:
    waited: list[float] = []

    async def no_wait(seconds: float) -> None:
        waited.append(seconds)

    chat.services.sleep = no_wait
    chat.services.limiter._sleep = no_wait
    # Forty in a minute is over the per-user limit: this test is about the relay's order.
    chat.services.throttle.per_minute = 0
    harness = ChatHarness(chat.services, chat.api)
    worker = harness.user(WORKER, language_code="en")
    await open_case(harness, worker, first="message 0")
    for _ in range(3):
        harness.api.fail_next(
            QueuedError(
                429,
                "Too Many Requests: retry after 5",
                {"retry_after": 5},
                method=methods.CopyMessage,
            )
        )
    sources = []
    for n in range(1, 40):
        update = worker.text(f"message {n}")
        assert update.message is not None
        sources.append(update.message.message_id)
        await harness.feed(update)
    copies = [c for c in in_group(harness.api.calls) if isinstance(c, methods.CopyMessage)]
    delivered: list[int] = []
    for call in copies:
        if not delivered or delivered[-1] != call.message_id:
            delivered.append(call.message_id)
    assert delivered[1:] == sources, "every message, once each, in order"
    assert 5 in waited, "429 answers were waited out"
    assert sum(w for w in waited if w != 5) >= 39 * 3 - 1, "paced at 20 a minute"


async def test_access_log_block_and_unblock(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera, bob = volunteer(chat, VOL_A), volunteer(chat, VOL_B)
    in_case: dict[str, Any] = {"chat_id": GROUP, "chat_type": "supergroup", "thread_id": thread}
    await take(chat, vera)
    await chat.feed(vera.text("answer", **in_case))
    await chat.feed(vera.text("/transfer", **in_case))
    accept = CaseCB(action=CaseAction.ACCEPT, case=1).pack()
    calls = await chat.feed(
        bob.callback(accept, message_id=3, chat_id=GROUP, chat_type="supergroup")
    )
    assert any("Another volunteer" in c.text for c in to(calls, WORKER))
    await chat.feed(bob.text("/release", **in_case))
    await take(chat, bob)
    calls = await chat.feed(bob.text("/block", **in_case))
    assert any(c.text == "This conversation has ended." for c in to(calls, WORKER))
    actions = [action for _, action in await chat.services.cases.access_log(1)]
    assert actions == ["take", "reply", "transfer", "accept_transfer", "release", "take", "block"]
    [refused] = await chat.feed(worker.text("/volunteer"))
    assert "not available right now" in refused.text

    [denied] = await chat.feed(vera.text("/unblock 1", chat_id=GROUP, chat_type="supergroup"))
    assert "Only admins" in denied.text
    admin = chat.user(ADMIN, language_code="en")
    await chat.feed(admin.text("/unblock 1", chat_id=GROUP, chat_type="supergroup"))
    calls = await chat.feed(worker.text("/volunteer"))
    [welcome] = [c for c in to(calls, WORKER) if isinstance(c, methods.SendMessage)]
    assert "open again" in welcome.text, "unblocked within a week: the same case reopens"


async def test_stickers_and_locations_are_explained(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)
    [reply] = await chat.feed(worker.content("location"))
    assert "could identify you" in reply.text
    [reply] = await chat.feed(worker.content("sticker"))
    assert "Stickers are not passed on" in reply.text


async def test_admins_grant_and_revoke_the_volunteer_role(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)
    chat.api.chat_members[VOL_B] = "restricted"
    observer = volunteer(chat, VOL_B)
    admin = chat.user(ADMIN, language_code="en")
    [refused] = await chat.feed(
        observer.text("/grant", chat_id=GROUP, chat_type="supergroup", reply_to=5)
    )
    assert "Only admins" in refused.text
    update = admin.text(
        "/grant", chat_id=GROUP, chat_type="supergroup", reply_to=5, reply_to_user=observer.user
    )
    [granted] = await chat.feed(update)
    assert "Granted" in granted.text
    [answer] = [
        c for c in await take(chat, observer) if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert not answer.show_alert, "the granted observer could take the case"


async def test_review_fixes_hold(chat: ChatHarness) -> None:
    """Regressions from the review: files with hidden data, notes in captions, who may act."""
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    in_case: dict[str, Any] = {"chat_id": GROUP, "chat_type": "supergroup", "thread_id": thread}
    [refusal] = await chat.feed(worker.content("image_document"))
    assert "not as files" in refusal.text

    vera, bob = volunteer(chat, VOL_A), volunteer(chat, VOL_B)
    await take(chat, vera)
    close = CaseCB(action=CaseAction.CLOSE, case=1).pack()
    [alert] = [
        c
        for c in await chat.feed(
            bob.callback(close, message_id=2, chat_id=GROUP, chat_type="supergroup")
        )
        if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert "Only the volunteer who took the case" in (alert.text or "")
    [reply] = await chat.feed(bob.text("/block", **in_case))
    assert "Only the volunteer who took the case" in reply.text
    case = await chat.services.cases.get(1)
    assert case is not None and case.status == "taken"

    [reply] = [
        c
        for c in await chat.feed(
            vera.text("hi", chat_id=GROUP, chat_type="supergroup", thread_id=thread).model_copy()
        )
        if isinstance(c, methods.CopyMessage)
    ]
    assert reply.chat_id == WORKER


async def test_the_enterprise_is_shown_to_the_holder_only(chat: ChatHarness) -> None:
    from tests.test_match_flow import join

    worker = chat.user(WORKER, language_code="en")
    await join(chat, worker)  # registers an interest at Naftan
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(
        worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack(), message_id=1)
    )
    await chat.feed(worker.callback(HelpCB(action=HelpAction.SHARE, arg="1").pack(), message_id=1))
    calls = await chat.feed(worker.text("question"))
    card = card_of(calls)
    assert "Naftan" not in card.text, "not on the card the whole group sees"
    vera, bob = volunteer(chat, VOL_A), volunteer(chat, VOL_B)
    await take(chat, vera)
    show = CaseCB(action=CaseAction.ENTERPRISE, case=1).pack()
    [denied] = [
        c
        for c in await chat.feed(
            bob.callback(show, message_id=2, chat_id=GROUP, chat_type="supergroup")
        )
        if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert "Naftan" not in (denied.text or "")
    [shown] = [
        c
        for c in await chat.feed(
            vera.callback(show, message_id=2, chat_id=GROUP, chat_type="supergroup")
        )
        if isinstance(c, methods.AnswerCallbackQuery)
    ]
    assert shown.show_alert and "Naftan" in (shown.text or "")
    assert "enterprise_shown" in [a for _, a in await chat.services.cases.access_log(1)]


async def test_a_blocked_worker_cannot_open_a_case_with_old_buttons(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    vera = volunteer(chat)
    await take(chat, vera)
    await chat.feed(vera.text("/block", chat_id=GROUP, chat_type="supergroup", thread_id=thread))
    [answer] = await chat.feed(
        worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack(), message_id=1)
    )
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert await chat.services.cases.active_for(chat.services.identity.user_key(WORKER)) is None


async def test_a_reopened_case_is_rated_once(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    await open_case(chat, worker)
    await chat.feed(worker.text("/end"))
    await chat.feed(
        worker.callback(HelpCB(action=HelpAction.RATE, arg="1-5").pack(), message_id=1)
    )
    await chat.feed(worker.text("/volunteer"))  # reopened within the week
    await chat.feed(worker.text("/end"))
    await chat.feed(
        worker.callback(HelpCB(action=HelpAction.RATE, arg="1-1").pack(), message_id=1)
    )
    rated = [e.fields["score"] for e in await all_events(chat.services) if e.kind == "case_rated"]
    assert rated == [5]


async def test_anonymous_admins_are_told_why(chat: ChatHarness) -> None:
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    thread = card_of(calls).message_thread_id
    update = volunteer(chat).text("hi", chat_id=GROUP, chat_type="supergroup", thread_id=thread)
    assert update.message is not None
    anonymous = update.model_copy(
        update={"message": update.message.model_copy(update={"sender_chat": update.message.chat})}
    )
    [reply] = await chat.feed(anonymous)
    assert "Post as yourself" in reply.text


async def test_an_unreachable_group_leaves_no_stuck_case(chat: ChatHarness) -> None:
    chat.api.fail_next(
        QueuedError(
            403,
            "Forbidden: bot is not a member of the supergroup chat",
            method=methods.CreateForumTopic,
        )
    )
    worker = chat.user(WORKER, language_code="en")
    calls = await open_case(chat, worker)
    [reply] = [c for c in to(calls, WORKER) if isinstance(c, methods.SendMessage)]
    assert "cannot be reached right now" in reply.text
    assert await chat.services.cases.active_for(chat.services.identity.user_key(WORKER)) is None
