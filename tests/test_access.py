"""Access control: who may use which command and which button, and what a refusal leaves.

Every volunteer, oversight, coordinator and admin command is tried by people without the role:
a plain worker in private, strangers in the volunteers' group (not a member, or a restricted
observer), a volunteer who is not an admin or not the case's holder, a granted volunteer who is
not a coordinator. Buttons are forged to act on other people's cases, circles and checklists.
Each attempt must be refused (or met with silence) and must change nothing in the database,
and no answer may carry anyone else's data.

The world (a circle, cases open, taken, blocked and closed, a pending enterprise, a checklist,
a granted volunteer) is built once per module; each test gets its own copy of its database.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from bot.telegram import OutgoingLimiter
from bot.updates import UpdateFactory
from flows.guide.callbacks import ChecklistAction, ChecklistCB
from flows.handoff.callbacks import CaseAction, CaseCB, HelpAction, HelpCB
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from flows.stats.router import StatsCB
from tests.conftest import ChatHarness, make_settings, texts

VOLUNTEERS = -100_123_000
COORDINATORS = -100_456_000
ADMIN = 900_000_001
VOL_A = 820_000_001  # a member of the volunteers' group; holds case 1
VOL_B = 820_000_002  # a member of the volunteers' group too, holding nothing
OBSERVER = 830_000_002  # restricted in the group: not a volunteer
GRANTED = 830_000_005  # not in any group, granted the volunteer role by the admin
ATTACKER = 710_000_009  # a plain worker who has sent /start
CIRCLE_A, CIRCLE_B = 710_000_001, 710_000_002  # in the circle at Naftan
CASE_WORKER = 710_000_003  # in the circle too; case 1, taken by VOL_A, enterprise shared
BLOCKED_WORKER = 710_000_004  # case 2, blocked by VOL_A
CLOSED_WORKER = 710_000_005  # case 3, ended by the worker, not rated yet
PENDING_WORKER = 710_000_006  # named an enterprise that is not in the directory
CHECKLIST_WORKER = 710_000_007  # has a checklist with one item ticked
OPEN_WORKER = 710_000_008  # case 4, waiting for a volunteer: any volunteer may act on it
NOT_MEMBERS = (
    ATTACKER,
    GRANTED,
    CIRCLE_A,
    CIRCLE_B,
    CASE_WORKER,
    BLOCKED_WORKER,
    CLOSED_WORKER,
    PENDING_WORKER,
    CHECKLIST_WORKER,
    OPEN_WORKER,
)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: What must never appear in an answer to someone without the role.
OTHERS_DATA = ("Naftan", "Нафтан", "Zxqwv", "Member 1", "Member 2", "Vera", "Ulyana")
EXPIRED = "This button has expired. Send /start for a fresh menu."
UNKNOWN = "I don't know that command."
ONLY_VOLUNTEERS = "Only volunteers can act on cases."
ONLY_ADMINS = "Only admins can grant or revoke roles."
ONLY_COORDINATORS = "The weekly report is for coordinators only."


@dataclass(frozen=True)
class World:
    """The seeded database, and the numbers tests need to aim at it."""

    folder: Path
    case_thread: int  # the topic of case 1, taken by VOL_A
    closed_thread: int  # the topic of case 3, closed today: any volunteer may reopen it
    open_thread: int  # the topic of case 4, not taken yet: any volunteer may close it
    pending: int  # the pending enterprise
    naftan: int  # the enterprise of the circle
    ticked: str  # the checklist item CHECKLIST_WORKER ticked
    reply_name: str  # a canned reply


def settings_in(folder: Path) -> Settings:
    return make_settings(
        folder,
        volunteers_chat_id=VOLUNTEERS,
        coordinators_chat_id=COORDINATORS,
        admin_ids=[ADMIN],
        default_locale="en",
        circle_threshold=2,
        throttle_per_minute=0,
    )


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


async def open_chat(folder: Path) -> ChatHarness:
    services = await Services.open(settings_in(folder), clock=lambda: NOW)
    services.sleep = _no_wait
    services.limiter = OutgoingLimiter(sleep=_no_wait)
    chat = ChatHarness(services)
    for user in NOT_MEMBERS:
        chat.api.chat_members[user] = "left"
    chat.api.chat_members[OBSERVER] = "restricted"
    return chat


def person(chat: ChatHarness, user_id: int) -> UpdateFactory:
    names = {VOL_A: "Vera", CASE_WORKER: "Ulyana"}
    return chat.user(user_id, language_code="en", first_name=names.get(user_id, "Someone"))


def in_group(
    chat: ChatHarness, user_id: int, text: str, thread: int | None = None, **extra: Any
) -> Any:
    return person(chat, user_id).text(
        text, chat_id=VOLUNTEERS, chat_type="supergroup", thread_id=thread, **extra
    )


def topic_of(calls: list[Any]) -> int:
    """The forum topic of the case whose card is among ``calls``."""
    [card] = [c for c in calls if isinstance(c, methods.SendMessage) and c.chat_id == VOLUNTEERS]
    assert card.message_thread_id is not None
    return card.message_thread_id


async def take(chat: ChatHarness, case: int) -> None:
    data = CaseCB(action=CaseAction.TAKE, case=case).pack()
    await chat.feed(person(chat, VOL_A).callback(data, chat_id=VOLUNTEERS, chat_type="supergroup"))


async def open_case_sharing(chat: ChatHarness, worker: UpdateFactory) -> list[Any]:
    """A worker at Naftan opens a case and lets its volunteer see the enterprise."""
    from tests.test_match_flow import join

    await join(chat, worker)
    await chat.feed(worker.text("/volunteer"))
    for action, arg in ((HelpAction.TOPIC, "legal"), (HelpAction.SHARE, "1")):
        await chat.feed(worker.callback(HelpCB(action=action, arg=arg).pack()))
    return await chat.feed(worker.text("Can they fire me?"))


async def seed(folder: Path) -> World:
    """Build the world through the dispatcher, the way users would."""
    from tests.test_handoff import open_case
    from tests.test_match_flow import data_of, join, name_enterprise

    chat = await open_chat(folder)
    try:
        await join(chat, person(chat, CIRCLE_A))
        await join(chat, person(chat, CIRCLE_B))
        invite = CircleCB(action=CircleAction.INVITE).pack()
        await chat.feed(person(chat, CIRCLE_A).callback(invite))

        pending_worker = person(chat, PENDING_WORKER)
        await name_enterprise(chat, pending_worker, "Zxqwv Ptkrlm Works")
        [consent] = await chat.feed(pending_worker.text("Baranovichi"))
        await chat.feed(pending_worker.callback(data_of(consent, "agree")))
        [(pending, _count)] = await chat.services.enterprises.pending()

        case_thread = topic_of(await open_case_sharing(chat, person(chat, CASE_WORKER)))
        await take(chat, 1)
        blocked_thread = topic_of(await open_case(chat, person(chat, BLOCKED_WORKER)))
        await take(chat, 2)
        await chat.feed(in_group(chat, VOL_A, "/block", blocked_thread))
        closed_worker = person(chat, CLOSED_WORKER)
        closed_thread = topic_of(await open_case(chat, closed_worker))
        await chat.feed(closed_worker.text("/end"))
        open_thread = topic_of(await open_case(chat, person(chat, OPEN_WORKER)))

        ticked = await _build_checklist(chat, person(chat, CHECKLIST_WORKER))
        await chat.feed(person(chat, ADMIN).text(f"/grant volunteer {GRANTED}"))
        await chat.feed(person(chat, ATTACKER).text("/start"))

        naftan = await chat.services.enterprises.interest_of(
            chat.services.identity.user_key(CIRCLE_A)
        )
        assert naftan is not None and case_thread and closed_thread
        cases = [await chat.services.cases.get(n) for n in (1, 2, 3, 4)]
        statuses = [c.status if c else None for c in cases]
        assert statuses == ["taken", "closed", "closed", "open"]
        return World(
            folder=folder,
            case_thread=case_thread,
            closed_thread=closed_thread,
            open_thread=open_thread,
            pending=pending.id,
            naftan=naftan.id,
            ticked=ticked,
            reply_name=sorted(chat.services.replies["en"])[0],
        )
    finally:
        await chat.services.close()


async def _build_checklist(chat: ChatHarness, worker: UpdateFactory) -> str:
    """Answer every question with its first option, then tick the first item."""
    await chat.feed(worker.text("/start"))
    await chat.feed(worker.callback(ChecklistCB(action=ChecklistAction.BEGIN).pack()))
    pack = next(iter(chat.services.packs.values()))
    for question in pack.questions:
        answer = ChecklistCB(
            action=ChecklistAction.ANSWER, item=question.id, answer=question.options[0]
        )
        await chat.feed(worker.callback(answer.pack()))
    key = chat.services.identity.user_key(worker.user_id)
    checklist = await chat.services.guide.checklist(key, pack.id)
    assert checklist is not None and checklist.items
    item = checklist.items[0]
    await chat.feed(worker.callback(ChecklistCB(action=ChecklistAction.TICK, item=item).pack()))
    return item


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("access-world")
    with pytest.MonkeyPatch.context() as patch:
        import os

        for name in list(os.environ):
            if name.startswith("SUPOLKA_"):
                patch.delenv(name)
        yield asyncio.run(seed(folder))


@pytest.fixture
async def chat(world: World, tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """A bot on a fresh copy of the world's database."""
    for name in ("bot.sqlite3", "secret.key"):
        shutil.copy2(world.folder / name, tmp_path / name)
    opened = await open_chat(tmp_path)
    yield opened
    await opened.services.close()


#: Tables whose changes are bookkeeping of every update, not anyone's data.
BOOKKEEPING = ("handled_updates", "recent_messages")


async def snapshot(
    services: Services, ignore_key: str | None = None, skip: tuple[str, ...] = ()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but bookkeeping and ``skip``), minus rows about ``ignore_key``."""
    await services.db.write_deferred()  # events waiting in memory are rows too
    names = [
        row[0]
        for row in await services.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    skipped = {*BOOKKEEPING, *skip}
    found: dict[str, list[tuple[Any, ...]]] = {}
    for name in names:
        if name in skipped:
            continue
        rows = [tuple(row) for row in await services.db.fetchall(f"SELECT * FROM {name}")]
        found[name] = sorted((r for r in rows if ignore_key not in r), key=repr)
    return found


def assert_nothing_leaked(calls: list[Any], allowed_chats: set[int]) -> None:
    """No call reached a chat it should not, and no answer names anyone else's things."""
    for call in calls:
        if isinstance(call, methods.GetChatMember):
            continue  # a question to Telegram about the asker, not a message
        chat_id = getattr(call, "chat_id", None)
        assert chat_id is None or int(chat_id) in allowed_chats, (
            f"{type(call).__name__} to {chat_id}"
        )
    for text in texts(calls):
        for secret in OTHERS_DATA:
            assert secret not in text, f"{secret!r} in {text!r}"


async def attempt(chat: ChatHarness, update: Any, allowed_chats: set[int]) -> list[str]:
    """Feed an update that must change nothing; return what the bot said."""
    before = await snapshot(chat.services)
    calls = await chat.feed(update)
    assert await snapshot(chat.services) == before, "a refused attempt changed nothing"
    assert_nothing_leaked(calls, allowed_chats)
    return texts(calls)


# -- commands -------------------------------------------------------------------------------

#: The volunteers' commands (flows/handoff/volunteer.py), with arguments that would act.
CASE_COMMANDS = (
    "/close bye",
    "/release",
    "/reopen",
    "/transfer",
    "/alias Spy",
    "/reply {reply}",
    "/block",
    "/unblock 2",
    "/grant",
    "/revoke",
    "/grant coordinator",
)
#: Oversight of circles (flows/match/oversight.py), aimed at the real circle and enterprises.
OVERSIGHT = (
    "/circles",
    "/circle_post 1 A message from a stranger",
    "/circle_remove 1 1",
    "/pending",
    "/approve {pending}",
    "/merge {pending} {naftan}",
)
COORDINATOR = ("/stats", "/stats csv", "/stats 2026-W47", "/stats csv 2026-W46")
ADMIN_PRIVATE = (
    f"/grant volunteer {ATTACKER}",
    f"/grant coordinator {ATTACKER}",
    f"/revoke volunteer {GRANTED}",
    f"/revoke coordinator {ADMIN}",
)


def aimed(command: str, world: World) -> str:
    return command.format(pending=world.pending, naftan=world.naftan, reply=world.reply_name)


def expected_in_private(command: str) -> str:
    if command.startswith("/stats"):
        return ONLY_COORDINATORS
    if command.startswith(("/grant", "/revoke")):
        return ONLY_ADMINS
    return UNKNOWN


@pytest.mark.parametrize("command", CASE_COMMANDS + OVERSIGHT + COORDINATOR + ADMIN_PRIVATE)
async def test_a_worker_in_private_is_refused(
    chat: ChatHarness, world: World, command: str
) -> None:
    """In a private chat, volunteers' and oversight commands do not exist, and the report and
    role changes are refused: a worker changes nothing and learns nothing."""
    update = person(chat, ATTACKER).text(aimed(command, world))
    said = await attempt(chat, update, {ATTACKER})
    assert said, "a refusal, not silence"
    assert all(expected_in_private(command) in text for text in said), said


#: Refusals of the admin's commands; silence for what the group does not offer.
GROUP_REFUSALS = {
    "/unblock": "Only admins can unblock.",
    "/grant": ONLY_ADMINS,
    "/revoke": ONLY_ADMINS,
    "/stats": None,
}


def _group_cases() -> list[Any]:
    cases = []
    for who, label in ((ATTACKER, "not-a-member"), (OBSERVER, "restricted")):
        for command in (*CASE_COMMANDS, "/replies", *OVERSIGHT, *COORDINATOR):
            cases.append(pytest.param(who, command, id=f"{label}-{command}"))
    return cases


@pytest.mark.parametrize(("who", "command"), _group_cases())
async def test_strangers_in_the_volunteers_group_are_refused(
    chat: ChatHarness, world: World, who: int, command: str
) -> None:
    """Someone in the volunteers' group who is not a volunteer (they left, or are a restricted
    observer) gets a refusal or silence for every command, in a case's topic, and changes
    nothing; nothing reaches a worker."""
    text = aimed(command, world)
    extra: dict[str, Any] = {}
    if command.startswith(("/grant", "/revoke")):  # granting themselves the role
        extra = {"reply_to": 5, "reply_to_user": person(chat, who).user}
    # In the topic of a case any volunteer could act on: a missing check would show.
    thread = world.closed_thread if command == "/reopen" else world.open_thread
    said = await attempt(chat, in_group(chat, who, text, thread, **extra), {VOLUNTEERS})
    name = command.split(maxsplit=1)[0]
    if name in GROUP_REFUSALS:
        expected = GROUP_REFUSALS[name]
        assert said == ([expected] if expected else [])
    else:  # the volunteers' commands
        assert said == [] or (len(said) == 1 and said[0].startswith("Only ")), said


WITHOUT_THE_ROLE = [
    (VOL_B, "group", "/grant", ONLY_ADMINS),
    (VOL_B, "group", "/revoke", ONLY_ADMINS),
    (VOL_B, "group", "/grant coordinator", ONLY_ADMINS),
    (VOL_B, "group", "/unblock 2", "Only admins can unblock."),
    (VOL_B, "private", f"/grant volunteer {VOL_B}", ONLY_ADMINS),
    (VOL_B, "private", f"/revoke volunteer {VOL_A}", ONLY_ADMINS),
    (GRANTED, "private", f"/grant coordinator {GRANTED}", ONLY_ADMINS),
    (GRANTED, "group", "/unblock 2", "Only admins can unblock."),
    (GRANTED, "private", "/stats", ONLY_COORDINATORS),
    (GRANTED, "private", "/stats csv 2026-W47", ONLY_COORDINATORS),
    # Volunteers act on the cases they hold only.
    (VOL_B, "case", "/close bye", "Only the volunteer who took the case can close it."),
    (VOL_B, "case", "/block", "Only the volunteer who took the case can block its worker."),
    (VOL_B, "case", "/release", "Only the volunteer who took the case can release it."),
    (VOL_B, "case", "/transfer", "Only the volunteer who took the case can hand it on."),
    (VOL_B, "case", "/reply {reply}", "Take the case first"),
    (GRANTED, "case", "/close bye", "Only the volunteer who took the case can close it."),
    (GRANTED, "case", "/transfer", "Only the volunteer who took the case can hand it on."),
]


@pytest.mark.parametrize(
    ("who", "where", "command", "refusal"),
    [
        pytest.param(
            *case, id=f"{'member' if case[0] == VOL_B else 'granted'}-{case[1]}-{case[2]}"
        )
        for case in WITHOUT_THE_ROLE
    ],
)
async def test_volunteers_without_the_role_are_refused(
    chat: ChatHarness, world: World, who: int, where: str, command: str, refusal: str
) -> None:
    """A volunteer is not an admin (no roles, no /unblock), not a coordinator (no report),
    and not the holder of someone else's case (no close, block, release, hand-on, reply)."""
    text = aimed(command, world)
    if where == "private":
        update = person(chat, who).text(text)
        allowed = {who}
    else:
        extra: dict[str, Any] = {}
        if command.startswith(("/grant", "/revoke")):
            extra = {"reply_to": 5, "reply_to_user": person(chat, who).user}
        thread = world.case_thread if where == "case" else None
        update = in_group(chat, who, text, thread, **extra)
        allowed = {VOLUNTEERS}
    said = await attempt(chat, update, allowed)
    assert len(said) == 1 and said[0].startswith(refusal), said


async def test_those_with_the_role_may(chat: ChatHarness, world: World) -> None:
    """The refusals are about the role, not broken commands: the admin's /unblock and /grant
    work, a member of the group lists the circles, the holder of case 1 sees its enterprise."""
    [unblocked] = texts(await chat.feed(in_group(chat, ADMIN, "/unblock 2")))
    assert "can open cases again" in unblocked
    [granted] = texts(await chat.feed(person(chat, ADMIN).text(f"/grant volunteer {VOL_B}")))
    assert granted.startswith("Granted")
    [listing] = texts(await chat.feed(in_group(chat, VOL_B, "/circles")))
    assert "Naftan" in listing
    data = CaseCB(action=CaseAction.ENTERPRISE, case=1).pack()
    press = person(chat, VOL_A).callback(data, chat_id=VOLUNTEERS, chat_type="supergroup")
    assert "Naftan" in (_answer(await chat.feed(press)).text or "")


# -- buttons --------------------------------------------------------------------------------


def _answer(calls: list[Any]) -> methods.AnswerCallbackQuery:
    [answer] = [c for c in calls if isinstance(c, methods.AnswerCallbackQuery)]
    return answer


@pytest.mark.parametrize("case", [1, 2, 3])
@pytest.mark.parametrize("action", list(CaseAction))
async def test_case_buttons_pressed_in_private_expire(
    chat: ChatHarness, action: CaseAction, case: int
) -> None:
    """A case card's button forged in a private chat is not a volunteer's button there."""
    data = CaseCB(action=action, case=case).pack()
    before = await snapshot(chat.services)
    calls = await chat.feed(person(chat, ATTACKER).callback(data))
    assert await snapshot(chat.services) == before
    assert_nothing_leaked(calls, {ATTACKER})
    assert _answer(calls).text == EXPIRED


@pytest.mark.parametrize("who", [ATTACKER, OBSERVER, OPEN_WORKER])
@pytest.mark.parametrize("action", list(CaseAction))
async def test_case_buttons_from_strangers_in_the_group_are_refused(
    chat: ChatHarness, who: int, action: CaseAction
) -> None:
    """Take, Release, Close, Accept of a waiting case, and the enterprise shared in case 1,
    pressed in the group by someone who is not a volunteer (the case's own worker among them):
    an alert only."""
    case = 1 if action == CaseAction.ENTERPRISE else 4
    data = CaseCB(action=action, case=case).pack()
    update = person(chat, who).callback(
        data, message_id=2, chat_id=VOLUNTEERS, chat_type="supergroup"
    )
    before = await snapshot(chat.services)
    calls = await chat.feed(update)
    assert await snapshot(chat.services) == before
    assert_nothing_leaked(calls, {VOLUNTEERS})
    answer = _answer(calls)
    assert answer.text == ONLY_VOLUNTEERS and answer.show_alert


@pytest.mark.parametrize(
    "action", [CaseAction.ENTERPRISE, CaseAction.RELEASE, CaseAction.CLOSE, CaseAction.ACCEPT]
)
async def test_case_buttons_of_a_case_another_volunteer_holds(
    chat: ChatHarness, action: CaseAction
) -> None:
    """A volunteer who does not hold case 1 cannot release, close, accept it or see its
    enterprise."""
    data = CaseCB(action=action, case=1).pack()
    update = person(chat, VOL_B).callback(
        data, message_id=2, chat_id=VOLUNTEERS, chat_type="supergroup"
    )
    before = await snapshot(chat.services)
    calls = await chat.feed(update)
    assert await snapshot(chat.services) == before
    assert_nothing_leaked(calls, {VOLUNTEERS})
    assert _answer(calls).show_alert


def _forged(world: World) -> list[tuple[str, str | None]]:
    """Buttons naming someone else's case, circle, enterprise, report: (data, answer)."""
    help_cb, circle_cb, match_cb = HelpCB, CircleCB, MatchCB
    not_in_circle = None  # the "not in a circle" screen, with a plain answer
    return [
        (help_cb(action=HelpAction.RATE, arg="3-5").pack(), EXPIRED),  # CLOSED_WORKER's case
        (help_cb(action=HelpAction.RATE, arg="1-1").pack(), EXPIRED),  # CASE_WORKER's case
        (help_cb(action=HelpAction.RATE, arg="2-1").pack(), EXPIRED),  # BLOCKED_WORKER's case
        (help_cb(action=HelpAction.END).pack(), "You have no open conversation with a volunteer."),
        (help_cb(action=HelpAction.COMMENT).pack(), EXPIRED),
        (help_cb(action=HelpAction.SHARE, arg="1").pack(), None),
        *(
            (circle_cb(action=a, arg=1).pack(), not_in_circle)
            for a in CircleAction
            if a not in (CircleAction.JOIN,)
        ),
        (
            circle_cb(action=CircleAction.JOIN, arg=1).pack(),
            "This invite is no longer valid. Ask for a new link.",
        ),
        (match_cb(action=MatchAction.PICK, enterprise=world.naftan).pack(), EXPIRED),
        (match_cb(action=MatchAction.AGREE, enterprise=world.naftan).pack(), EXPIRED),
        (match_cb(action=MatchAction.AGREE, enterprise=world.pending).pack(), EXPIRED),
        (match_cb(action=MatchAction.WITHDRAW, enterprise=world.naftan).pack(), None),
        (StatsCB(week=20261116).pack(), ONLY_COORDINATORS),
        ("priv1:forget!", None),
        ("priv1:mine", None),
    ]


async def test_buttons_forged_to_act_on_other_peoples_things(
    chat: ChatHarness, world: World
) -> None:
    """A worker presses buttons carrying other workers' case numbers, the circle's number, a
    coworker's enterprise, last week's report, "delete my data": each answered once, and
    nobody else's rows change (the presser's own may: forgetting themselves is their right)."""
    attacker_key = chat.services.identity.user_key(ATTACKER)
    for data, expected in _forged(world):
        # The presser's own conversation state may change; forgetting detaches their events
        # (the key becomes NULL) and counts one anonymous "user_forgotten".
        skip = ("fsm_state", "events") if data == "priv1:forget!" else ("fsm_state",)
        before = await snapshot(chat.services, ignore_key=attacker_key, skip=skip)
        calls = await chat.feed(person(chat, ATTACKER).callback(data))
        after = await snapshot(chat.services, ignore_key=attacker_key, skip=skip)
        assert after == before, data
        assert_nothing_leaked(calls, {ATTACKER})
        answers = [c for c in calls if isinstance(c, methods.AnswerCallbackQuery)]
        assert len(answers) == 1, data
        if expected is not None:
            assert answers[0].text == expected, data
    cases = [await chat.services.cases.get(n) for n in (1, 2, 3)]
    assert [(c.status, c.rating) for c in cases if c] == [
        ("taken", None),
        ("closed", None),
        ("closed", None),
    ]


async def test_a_forged_checklist_button_shows_only_the_pressers_own_checklist(
    chat: ChatHarness, world: World
) -> None:
    """Pressing Tick with an item of someone else's checklist, or Open, shows the presser the
    invitation to answer the questions (they have no checklist), never the other's list, and
    the other's checklist stays as it was."""
    guide = chat.services.guide
    pack = next(iter(chat.services.packs.values()))
    owner_key = chat.services.identity.user_key(CHECKLIST_WORKER)
    theirs = await guide.checklist(owner_key, pack.id)
    assert theirs is not None and world.ticked in theirs.done

    newcomer = person(chat, 710_000_099)
    await chat.feed(newcomer.text("/start"))
    intro = texts(
        await chat.feed(newcomer.callback(ChecklistCB(action=ChecklistAction.OPEN).pack()))
    )
    for action, item in (
        (ChecklistAction.TICK, world.ticked),
        (ChecklistAction.OPEN, world.ticked),
        (ChecklistAction.TICK, theirs.items[-1]),
    ):
        data = ChecklistCB(action=action, item=item).pack()
        calls = await chat.feed(person(chat, ATTACKER).callback(data))
        assert texts(calls)[0] == intro[0], "the presser's own (empty) checklist"
    for action in (ChecklistAction.RESET, ChecklistAction.BEGIN, ChecklistAction.ANSWER):
        data = ChecklistCB(action=action, item=pack.questions[0].id, answer="x").pack()
        await chat.feed(person(chat, ATTACKER).callback(data))
    assert await guide.checklist(owner_key, pack.id) == theirs
