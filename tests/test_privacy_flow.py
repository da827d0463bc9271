"""/mydata, /forget, /wipe, the staying-safe screen, roles, throttling and redelivery,
through the real dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods
from aiogram.fsm.storage.base import StorageKey

from bot.app import Services
from bot.config import Settings
from bot.db.events import EventsRepo
from bot.local_api import QueuedError
from bot.updates import UpdateFactory
from flows.guide.callbacks import ChecklistAction, ChecklistCB, GuideAction, GuideCB
from flows.handoff.callbacks import CaseAction, CaseCB, HelpAction, HelpCB
from flows.match.callbacks import CircleAction, CircleCB
from flows.privacy.callbacks import PrivacyAction, PrivacyCB
from tests.conftest import (
    ChatHarness,
    buttons,
    edits,
    make_settings,
    texts,
    unhurried_harness,
)
from tests.conftest import SettableClock as Clock

GROUP = -100_777_000
ADMIN = 900_000_001
WORKER, SECOND, THIRD = 731_000_001, 731_000_002, 731_000_003
ANSWERS = {"fpb": "yes", "people": "few", "route": "join", "contract": "yes", "contact": "no"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        volunteers_chat_id=GROUP,
        admin_ids=[ADMIN],
        default_locale="en",
        circle_threshold=3,
    )


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    services = await Services.open(settings, clock=clock)
    yield unhurried_harness(services, clock)
    await services.close()


def privacy(action: PrivacyAction) -> str:
    return PrivacyCB(action=action).pack()


def _sent_to(calls: list[Any], chat_id: int) -> list[Any]:
    return [c for c in calls if getattr(c, "chat_id", None) == chat_id]


async def _join_circle(chat: ChatHarness, user: UpdateFactory) -> None:
    await chat.feed(user.text("/start"))
    await chat.feed(user.text("/coworkers"))
    [question] = await chat.feed(user.text("Нафтан"))
    [pick] = [d for _, d in buttons(question) if d and ":pick:" in d]
    calls = await chat.feed(user.callback(pick, message_id=1))
    [agree] = [d for c in edits(calls) for _, d in buttons(c) if d and ":agree:" in d]
    await chat.feed(user.callback(agree, message_id=1))


async def walk_every_flow(
    chat: ChatHarness, worker: UpdateFactory, words: tuple[str, ...] = ("a question",) * 3
) -> None:
    """The worker reads the guide, builds a checklist, finds coworkers (a circle opens),
    writes to the circle, makes an invite link, asks the FAQ and opens a case; ``words`` are
    what they write in the circle, the FAQ and the case."""
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.callback(GuideCB(action=GuideAction.STEP, arg="safety").pack()))
    await chat.feed(worker.callback(ChecklistCB(action=ChecklistAction.OPEN).pack()))
    await chat.feed(worker.callback(ChecklistCB(action=ChecklistAction.BEGIN).pack()))
    for question, value in ANSWERS.items():
        data = ChecklistCB(action=ChecklistAction.ANSWER, item=question, answer=value)
        await chat.feed(worker.callback(data.pack()))
    await chat.feed(
        worker.callback(ChecklistCB(action=ChecklistAction.TICK, item="safety").pack())
    )
    for other in (SECOND, THIRD):
        await _join_circle(chat, chat.user(other, language_code="en"))
    await _join_circle(chat, worker)
    key = chat.services.identity.user_key(worker.user_id)
    assert await chat.services.circles.membership(key)
    await chat.feed(worker.callback(CircleCB(action=CircleAction.RELAY_ON).pack()))
    await chat.feed(worker.text(words[0]))
    await chat.feed(worker.callback(CircleCB(action=CircleAction.RELAY_OFF).pack()))
    await chat.feed(worker.callback(CircleCB(action=CircleAction.REVEAL_ON).pack()))
    await chat.feed(worker.callback(CircleCB(action=CircleAction.INVITE).pack()))
    await chat.feed(worker.text(words[1]))
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()))
    await chat.feed(worker.callback(HelpCB(action=HelpAction.SHARE, arg="1").pack()))
    await chat.feed(worker.text(words[2]))
    case = await chat.services.cases.active_for(key)
    assert case is not None and case.thread_id is not None
    await chat.feed(worker.text("/mydata"))


async def _rows_holding(services: Services, value: str) -> list[str]:
    """``table.column`` of every cell in the database equal to ``value``, or containing it."""
    found = []
    tables = await services.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in tables:
        for column in await services.db.fetchall(f"PRAGMA table_info({table})"):
            name = column[1]
            rows = await services.db.fetchall(
                f"SELECT COUNT(*) FROM {table} WHERE CAST({name} AS TEXT) LIKE ?",
                (f"%{value}%",),
            )
            if rows[0][0]:
                found.append(f"{table}.{name}")
    return found


def _storage_key() -> StorageKey:
    """The worker's conversation in their private chat (the bot's id is the local API's)."""
    return StorageKey(bot_id=42, chat_id=WORKER, user_id=WORKER)


async def test_forget_leaves_no_trace_and_the_counts_stay(
    chat: ChatHarness, settings: Settings
) -> None:
    """Every flow, then /forget: no row anywhere holds the key, the file and WAL do not hold
    it either, the others are told, and the week's counts do not change."""
    services = chat.services
    worker = chat.user(WORKER, language_code="en")
    await walk_every_flow(chat, worker)
    key = services.identity.user_key(WORKER)
    await services.recent.flush()
    touched = await _rows_holding(services, key)
    assert len(touched) >= 8, f"the walk touched the tables: {touched}"
    await chat.feed(worker.text("/documents"))  # mid-flow: conversation state is stored
    await chat.dispatcher.storage.set_state(_storage_key(), "somewhere")
    week = (date(2026, 11, 23), date(2026, 11, 30))
    counts_before = await services.events.activity(*week)
    events_before = len(await EventsRepo(services.db).between(*week))

    [question] = await chat.feed(worker.text("/forget"))
    assert "Delete everything the bot knows about you?" in question.text
    calls = await chat.feed(worker.callback(privacy(PrivacyAction.FORGET_SURE)))

    assert "deleted everything it knew about you" in texts(calls)[-1]
    assert any("left the circle" in t for t in texts(_sent_to(calls, SECOND)))
    assert any(isinstance(c, methods.DeleteForumTopic) for c in calls), "the case topic goes"
    assert any("deleted their data" in t for t in texts(_sent_to(calls, GROUP)))
    assert await _rows_holding(services, key) == []
    assert await services.users.get(key) is None
    assert await chat.dispatcher.storage.get_state(_storage_key()) is None
    assert await chat.dispatcher.storage.get_data(_storage_key()) == {}
    assert await services.events.activity(*week) == counts_before
    events = await EventsRepo(services.db).between(*week)
    assert [e.kind for e in events[events_before:]] == [
        "case_closed",
        "circle_left",
        "user_forgotten",
    ]
    assert events[-1].user_key is None
    raw = b"".join(
        p.read_bytes()
        for p in settings.database_path.parent.iterdir()
        if p.name.startswith(settings.database_path.name)
    )
    assert key.encode() not in raw, "erased rows are not left readable in the file or WAL"

    # A stranger again: /start greets them as new.
    await chat.feed(worker.text("/start"))
    user = await services.users.get(key)
    assert user is not None and user.created_on == date(2026, 11, 23)
    assert await services.circles.membership(key) is None


async def test_forget_without_data_and_going_back(chat: ChatHarness) -> None:
    """Nothing stored: /forget says so. Asked and declined: nothing is deleted."""
    stranger = chat.user(WORKER, language_code="en")
    [reply] = await chat.feed(stranger.text("/forget"))
    assert reply.text == "The bot stores nothing about you."
    await chat.feed(stranger.text("/start"))
    await chat.feed(stranger.text("/forget"))
    [back] = edits(await chat.feed(stranger.callback(privacy(PrivacyAction.MENU))))
    assert "What the bot stores about you" in (back.text or "")
    assert await chat.services.users.get(chat.services.identity.user_key(WORKER)) is not None


async def test_forget_and_wipe_deletes_the_messages_first(chat: ChatHarness) -> None:
    """The second button wipes the chat, then forgets; the last message leaves no id behind."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("/help"))
    await chat.feed(worker.text("/forget"))
    calls = await chat.feed(worker.callback(privacy(PrivacyAction.FORGET_AND_WIPE)))
    [wipe] = [c for c in calls if isinstance(c, methods.DeleteMessages)]
    assert len(wipe.message_ids) == 6  # three commands and three answers
    assert "Today's and yesterday's messages are deleted too" in texts(calls)[-1]
    key = chat.services.identity.user_key(WORKER)
    assert await _rows_holding(chat.services, key) == []
    assert chat.services.recent.pending == 0


@pytest.mark.parametrize(
    ("locale", "heading", "language"),
    [
        ("en", "What the bot stores about you", "English"),
        ("ru", "Что бот хранит о вас", "Русский"),
        ("be", "Што бот захоўвае пра вас", "Беларуская"),
    ],
)
async def test_mydata_in_each_language(
    chat: ChatHarness, locale: str, heading: str, language: str
) -> None:
    """What is stored, in the user's language, from every table that holds it."""
    worker = chat.user(WORKER, language_code=locale)
    [nothing] = await chat.feed(worker.text("/mydata"))
    assert heading in nothing.text and language not in nothing.text
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.callback(GuideCB(action=GuideAction.STEP, arg="routes").pack()))
    [screen] = await chat.feed(worker.text("/mydata"))
    assert heading in screen.text
    assert language in screen.text
    assert "23" in screen.text and "2026" in screen.text  # the first and last day
    assert screen.text.count("•") >= 5
    if locale != "en":
        assert "What the bot" not in screen.text and "record" not in screen.text
    labels = [label for label, _ in buttons(screen)]
    assert len(labels) == 2  # delete everything, back


async def test_mydata_lists_circle_case_and_checklist(chat: ChatHarness) -> None:
    """A worker in a circle with a case and a checklist sees each of them."""
    worker = chat.user(WORKER, language_code="en")
    await walk_every_flow(chat, worker)
    [screen] = await chat.feed(worker.text("/mydata"))
    text = screen.text
    assert "Naftan" in text and "Member 3 in the circle" in text
    assert "share your contact" in text
    assert "Case #1: waiting for a volunteer." in text
    assert "1 of" in text and "steps ticked" in text
    assert "Invite links you made: 1" in text
    assert "records for the statistics" in text
    assert "recent messages in this chat" in text


async def test_wipe_deletes_both_sides_and_explains_the_rest(chat: ChatHarness) -> None:
    """/wipe deletes the user's and the bot's messages in one call, then says how to clear
    the rest; ids are gone afterwards, and nothing asked first (a panic button)."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("a question about dues"))
    calls = await chat.feed(worker.text("/wipe"))
    [wipe] = [c for c in calls if isinstance(c, methods.DeleteMessages)]
    assert wipe.chat_id == WORKER
    assert sorted(wipe.message_ids) == [1, 2, 3, 4, 5]  # /start, answer, question, answer, /wipe
    assert "Clear History" in texts(calls)[-1]
    key = chat.services.identity.user_key(WORKER)
    assert await chat.services.recent.ids(key) == [6]  # only the explanation


async def test_wipe_falls_back_to_one_by_one_and_keeps_ids_when_telegram_is_down(
    chat: ChatHarness,
) -> None:
    """A refused batch (one too old) is retried message by message; a network failure keeps
    the ids for another try."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    chat.api.fail_next(
        QueuedError(400, "Bad Request: message can't be deleted", method=methods.DeleteMessages)
    )
    calls = await chat.feed(worker.callback(privacy(PrivacyAction.WIPE)))
    singles = [c for c in calls if isinstance(c, methods.DeleteMessage)]
    assert [c.message_id for c in singles] == [1, 2]

    await chat.feed(worker.text("/help"))
    for _ in range(5):  # every retry fails
        chat.api.fail_next(QueuedError(502, "Bad Gateway", method=methods.DeleteMessages))
    chat.services.sleep = _no_wait
    calls = await chat.feed(worker.text("/wipe"))
    assert "could not be reached" in texts(calls)[-1]
    key = chat.services.identity.user_key(WORKER)
    assert len(await chat.services.recent.ids(key)) >= 3


async def _no_wait(seconds: float) -> None:
    return None


async def test_message_ids_survive_a_restart_and_go_after_48_hours(settings: Settings) -> None:
    """Ids waiting in memory are written at shutdown; a purge drops those of before
    yesterday."""
    services = await Services.open(settings)
    chat = ChatHarness(services)
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    assert services.recent.pending == 2
    await services.close()

    services = await Services.open(settings)
    try:
        key = services.identity.user_key(WORKER)
        assert await services.recent.ids(key) == [1, 2]
        today = services.today()
        assert await services.recent.purge(today + timedelta(days=1)) == 0
        assert await services.recent.purge(today + timedelta(days=2)) == 2
    finally:
        await services.close()


async def test_the_staying_safe_screen_from_the_menu_and_the_guide(chat: ChatHarness) -> None:
    """The guide's first step links to the safety screen; /safety shows it too."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    [step] = edits(
        await chat.feed(worker.callback(GuideCB(action=GuideAction.STEP, arg="safety").pack()))
    )
    assert privacy(PrivacyAction.SAFETY) in [d for _, d in buttons(step)]
    [screen] = edits(await chat.feed(worker.callback(privacy(PrivacyAction.SAFETY))))
    assert "Two-Step Verification" in (screen.text or "")
    [reply] = await chat.feed(worker.text("/safety"))
    assert reply.text == screen.text


async def test_the_privacy_screen_names_the_retention_periods(chat: ChatHarness) -> None:
    """From the main menu: what is stored and for how long, with the four actions."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    [screen] = edits(await chat.feed(worker.callback("menu1:privacy")))
    assert "after 90 days" in (screen.text or "") and "after 365 days" in (screen.text or "")
    actions = [d for _, d in buttons(screen)]
    for action in (PrivacyAction.MYDATA, PrivacyAction.SAFETY, PrivacyAction.WIPE):
        assert privacy(action) in actions


async def test_a_flood_gets_one_slow_down_then_silence(chat: ChatHarness) -> None:
    """Twenty updates a minute are answered; the 21st gets one note; the rest nothing; the
    next minute all is well. The volunteers' group and admins are never throttled."""
    moment = [0.0]
    chat.services.throttle.per_minute = 20
    chat.services.throttle.clock = lambda: moment[0]
    worker = chat.user(WORKER, language_code="ru")
    answered = 0
    for _ in range(20):
        answered += bool(await chat.feed(worker.text("/help")))
    assert answered == 20
    [note] = await chat.feed(worker.text("/help"))
    assert "слишком быстро" in note.text
    for _ in range(10):
        assert await chat.feed(worker.text("/help")) == []
    moment[0] = 61.0
    assert await chat.feed(worker.text("/help"))

    admin = chat.user(ADMIN, language_code="en")
    for _ in range(30):
        assert await chat.feed(admin.text("/help"))
    volunteer = chat.user(820_000_001, language_code="en")
    for _ in range(30):
        assert await chat.feed(volunteer.text("/close", chat_id=GROUP, chat_type="supergroup")), (
            "the group is not throttled"
        )


async def test_an_update_delivered_twice_is_handled_once(settings: Settings) -> None:
    """A redelivery (in the same run, or after a restart) creates no second case, interest,
    membership or event."""
    services = await Services.open(settings)
    chat = ChatHarness(services)
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()))
    first = worker.text("Can they fire me?")
    assert await chat.feed(first)
    events = len(await EventsRepo(services.db).between(date(2000, 1, 1), date(2100, 1, 1)))
    assert await chat.feed(first) == []
    await services.close()

    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        assert await chat.feed(first) == []
        everything = await EventsRepo(services.db).between(date(2000, 1, 1), date(2100, 1, 1))
        assert len(everything) == events
        row = await services.db.fetchone("SELECT COUNT(*) FROM cases")
        assert row is not None and row[0] == 1
    finally:
        await services.close()


async def test_a_restart_mid_flow_continues_it(settings: Settings) -> None:
    """Stopped while the bot waits for the workplace's name; after a restart, the name typed
    is taken as the answer. An update cut short by the stop is handled when delivered
    again."""
    services = await Services.open(settings)
    chat = ChatHarness(services)
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    assert await chat.feed(worker.text("/coworkers"))  # "Where do you work?"

    started = asyncio.Event()
    release = asyncio.Event()
    original = chat.api.make_request

    async def slow(bot: Any, method: Any, timeout: int | None = None) -> Any:  # noqa: ASYNC109
        started.set()
        await release.wait()
        return await original(bot, method, timeout)

    chat.api.make_request = slow  # type: ignore[method-assign]
    cut_short = worker.text("/help")
    task = asyncio.create_task(chat.dispatcher.feed_update(chat.bot, cut_short))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await services.close()

    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        assert await chat.feed(cut_short), "cut short, so handled when delivered again"
        [question] = await chat.feed(worker.text("Нафтан"))
        assert "Naftan" in question.text
    finally:
        await services.close()


async def test_admins_grant_and_revoke_the_coordinator_role(chat: ChatHarness) -> None:
    """By Telegram id in a private chat, or as a reply in the volunteers' group; logged."""
    coordinator = chat.user(SECOND, language_code="en")
    await chat.feed(coordinator.text("/start"))
    [refused] = await chat.feed(coordinator.text("/stats"))
    assert "coordinators only" in refused.text
    admin = chat.user(ADMIN, language_code="en")
    [unknown] = await chat.feed(admin.text(f"/grant coordinator {THIRD}"))
    assert "has not started the bot" in unknown.text
    [granted] = await chat.feed(admin.text(f"/grant coordinator {SECOND}"))
    assert "Granted" in granted.text
    report = await chat.feed(coordinator.text("/stats"))
    assert "coordinators only" not in texts(report)[0]
    assert any(isinstance(c, methods.SendPhoto) for c in report), "the summary, then the chart"
    [revoked] = await chat.feed(admin.text(f"/revoke coordinator {SECOND}"))
    assert "Revoked" in revoked.text
    [refused] = await chat.feed(coordinator.text("/stats"))
    assert "coordinators only" in refused.text
    [usage] = await chat.feed(admin.text("/grant boss 12"))
    assert "Usage:" in usage.text
    [not_admin] = await chat.feed(coordinator.text(f"/grant coordinator {SECOND}"))
    assert "Only admins" in not_admin.text

    reply = admin.text(
        "/grant coordinator",
        chat_id=GROUP,
        chat_type="supergroup",
        reply_to=5,
        reply_to_user=coordinator.user,
    )
    assert "Granted" in texts(await chat.feed(reply))[-1]
    rows = await chat.services.db.fetchall("SELECT action FROM access_log ORDER BY id")
    assert [r[0] for r in rows] == ["grant_coordinator", "revoke_coordinator", "grant_coordinator"]


async def test_oversight_commands_go_to_the_access_log(chat: ChatHarness) -> None:
    """Looking at circles or pending enterprises is a volunteer action like any other."""
    volunteer = chat.user(820_000_001, language_code="en")
    for command in ("/circles", "/pending"):
        await chat.feed(volunteer.text(command, chat_id=GROUP, chat_type="supergroup"))
    rows = await chat.services.db.fetchall("SELECT volunteer_key, action FROM access_log")
    key = chat.services.identity.user_key(820_000_001)
    assert [(r[0], r[1]) for r in rows] == [(key, "circles"), (key, "pending")]


async def test_a_volunteer_who_forgets_gives_their_cases_back(chat: ChatHarness) -> None:
    """The case they held waits for another volunteer; their key is nowhere."""
    worker = chat.user(WORKER, language_code="en")
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.text("/volunteer"))
    await chat.feed(worker.callback(HelpCB(action=HelpAction.TOPIC, arg="legal").pack()))
    await chat.feed(worker.text("Can they fire me?"))
    volunteer = chat.user(820_000_001, language_code="en")
    take = CaseCB(action=CaseAction.TAKE, case=1).pack()
    await chat.feed(volunteer.callback(take, message_id=2, chat_id=GROUP, chat_type="supergroup"))
    case = await chat.services.cases.get(1)
    assert case is not None and case.status == "taken"
    await chat.feed(volunteer.text("/start"))
    await chat.feed(volunteer.text("/forget"))
    await chat.feed(volunteer.callback(privacy(PrivacyAction.FORGET_SURE)))
    case = await chat.services.cases.get(1)
    assert case is not None and (case.status, case.assignee) == ("open", None)
    key = chat.services.identity.user_key(820_000_001)
    assert await _rows_holding(chat.services, key) == ["access_log.volunteer_key"]


async def test_forget_does_not_undo_a_removal_from_a_circle(chat: ChatHarness) -> None:
    """Removed by a volunteer, then /forget, then the same search: still not let in."""
    users = [chat.user(i, language_code="en") for i in (WORKER, SECOND, THIRD)]
    for user in users:
        await _join_circle(chat, user)
    volunteer = chat.user(820_000_001, language_code="en")
    await chat.feed(volunteer.text("/circle_remove 1 2", chat_id=GROUP, chat_type="supergroup"))
    removed = users[1]
    await chat.feed(removed.text("/forget"))
    await chat.feed(removed.callback(privacy(PrivacyAction.FORGET_SURE)))
    await _join_circle(chat, removed)
    key = chat.services.identity.user_key(SECOND)
    assert await chat.services.circles.membership(key) is None


async def test_a_flooding_user_can_still_wipe_and_every_id_is_kept(chat: ChatHarness) -> None:
    """Over the limit, ordinary messages are dropped, but /wipe works and deletes them too."""
    chat.services.throttle.per_minute = 5
    chat.services.throttle.clock = lambda: 0.0
    worker = chat.user(WORKER, language_code="en")
    for _ in range(8):
        await chat.feed(worker.text("help"))
    calls = await chat.feed(worker.text("/wipe"))
    [wipe] = [c for c in calls if isinstance(c, methods.DeleteMessages)]
    user_messages = 9  # eight and the /wipe itself, answered or not
    assert len(wipe.message_ids) >= user_messages
    assert "Clear History" in texts(calls)[-1]


async def test_a_stranger_is_told_the_truth_about_message_ids(chat: ChatHarness) -> None:
    """Before /start only the ids of what they wrote are kept; /mydata says so, /forget drops
    them and then "nothing" is true."""
    stranger = chat.user(WORKER, language_code="en")
    await chat.feed(stranger.text("hello"))
    [shown] = await chat.feed(stranger.text("/mydata"))
    assert "recent messages in this chat" in shown.text
    [reply] = await chat.feed(stranger.text("/forget"))
    assert reply.text == "The bot stores nothing about you."
    assert await chat.services.recent.ids(chat.services.identity.user_key(WORKER)) == []
