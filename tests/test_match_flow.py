"""Finding coworkers through the dispatcher: naming the enterprise, consent, circles, relay,
mutual reveal, invite links, volunteers' oversight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from bot.local_api import QueuedError
from bot.updates import UpdateFactory
from flows.match.callbacks import CircleAction, CircleCB, MatchAction, MatchCB
from tests.conftest import ChatHarness, all_events, buttons, make_settings

VOLUNTEERS = -100_999_000
FIRST, SECOND, THIRD, FOURTH = 700_000_001, 700_000_002, 700_000_003, 700_000_004


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, volunteers_chat_id=VOLUNTEERS, circle_threshold=3)


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    services = await Services.open(settings)
    yield ChatHarness(services)
    await services.close()


def sent_to(calls: list[Any], chat_id: int) -> list[Any]:
    return [c for c in calls if getattr(c, "chat_id", None) == chat_id]


def data_of(call: Any, action: str) -> str:
    [data] = [d for _, d in buttons(call) if d and f":{action}:" in f"{d}:"]
    return data


async def name_enterprise(chat: ChatHarness, user: UpdateFactory, name: str) -> list[Any]:
    await chat.feed(user.text("/start"))
    [ask] = await chat.feed(user.text("/coworkers"))
    assert "Where do you work?" in ask.text or "Дзе вы працуеце" in ask.text or ask.text
    return await chat.feed(user.text(name))


async def join(chat: ChatHarness, user: UpdateFactory, name: str = "Нафтан") -> list[Any]:
    [question] = await name_enterprise(chat, user, name)
    pick = data_of(question, "pick")
    calls = await chat.feed(user.callback(pick, message_id=1))
    [consent] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    agree = data_of(consent, "agree")
    return await chat.feed(user.callback(agree, message_id=1))


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("   ", "too short"),
        ("Н", "too short"),
        ("Н" * 300, "too long"),
        ("🏭🏭🏭", "in letters"),
        ("12345", "in letters"),
    ],
)
async def test_bad_enterprise_names_get_a_clear_prompt(
    chat: ChatHarness, typed: str, complaint: str
) -> None:
    user = chat.user(FIRST, language_code="en")
    [reply] = await name_enterprise(chat, user, typed)
    assert complaint in reply.text
    [question] = await chat.feed(user.text("Naftan"))
    assert "Is it <b>Naftan, Novopolotsk</b>?" in question.text, "still asking, then it works"


async def test_a_sticker_instead_of_a_name(chat: ChatHarness) -> None:
    user = chat.user(FIRST, language_code="en")
    await chat.feed(user.text("/coworkers"))
    [reply] = await chat.feed(user.content("sticker"))
    assert "type the name as text" in reply.text


async def test_the_first_worker_waits_for_coworkers(chat: ChatHarness) -> None:
    calls = await join(chat, chat.user(FIRST, language_code="en"))
    [screen] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "You are 1 of the 3 coworkers needed at <b>Naftan, Novopolotsk</b>" in (
        screen.text or ""
    )


async def test_the_threshold_opens_the_circle_and_everyone_hears(chat: ChatHarness) -> None:
    first, second = chat.user(FIRST, language_code="en"), chat.user(SECOND, language_code="ru")
    third = chat.user(THIRD, language_code="be")
    await join(chat, first)
    calls = await join(chat, second, "ОАО Нафтан")
    [note] = sent_to(calls, FIRST)
    assert "2 of the 3 needed" in note.text
    assert note.protect_content is True

    calls = await join(chat, third, "Нафтан Наваполацк")
    [screen] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "3" in (screen.text or "") and "Нафтан" in (screen.text or "")
    [to_first] = sent_to(calls, FIRST)
    [to_second] = sent_to(calls, SECOND)
    assert "your circle has opened" in to_first.text
    assert "открылся" in to_second.text or "круг" in to_second.text, "each in their language"
    kinds = [e.kind for e in await all_events(chat.services)]
    assert kinds.count("interest_registered") == 3
    assert kinds.count("circle_opened") == 1
    assert kinds.count("circle_joined") == 3


async def _circle_of_three(chat: ChatHarness) -> tuple[UpdateFactory, ...]:
    users = tuple(chat.user(i, language_code="en") for i in (FIRST, SECOND, THIRD))
    for user in users:
        await join(chat, user)
    return users


async def _relay_on(chat: ChatHarness, user: UpdateFactory) -> None:
    await chat.feed(user.callback(CircleCB(action=CircleAction.RELAY_ON).pack(), message_id=1))


async def test_circle_mode_relays_under_a_pseudonym(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    calls = await chat.feed(first.text("Meeting at the gate <3 tomorrow"))
    for member in (SECOND, THIRD):
        [copy] = sent_to(calls, member)
        assert copy.text == "<b>Member 1</b>\nMeeting at the gate &lt;3 tomorrow"
        assert copy.protect_content is True
    [receipt] = sent_to(calls, FIRST)
    assert isinstance(receipt, methods.SetMessageReaction), "the sender gets a quiet 👌 only"
    for call in calls:
        if getattr(call, "chat_id", None) == FIRST:
            continue  # the sender's own chat
        dumped = str(call.model_dump())
        assert str(FIRST) not in dumped and "Alesia" not in dumped
    [event] = [e for e in await all_events(chat.services) if e.kind == "circle_message"]
    assert event.fields == {"circle": 1}, "a count, no content"


async def test_relayed_copies_are_noted_for_the_recipients_wipe(chat: ChatHarness) -> None:
    """The fan-out reads only the id of each copy it sends: /wipe must still find them."""
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    keys = {m: chat.services.identity.user_key(m) for m in (SECOND, THIRD)}
    before = {m: set(await chat.services.recent.ids(key)) for m, key in keys.items()}
    calls = await chat.feed(first.text("Meeting at the gate tomorrow"))
    for member, key in keys.items():
        [copy] = sent_to(calls, member)
        assert isinstance(copy, methods.SendMessage)
        new = set(await chat.services.recent.ids(key)) - before[member]
        assert len(new) == 1, f"the copy to {member} is noted in its chat"


async def test_media_is_copied_with_the_pseudonym_as_caption(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    calls = await chat.feed(first.content("photo"))
    copies = [c for c in calls if isinstance(c, methods.CopyMessage)]
    assert {c.chat_id for c in copies} == {SECOND, THIRD}
    assert all(c.caption == "<b>Member 1</b>" and c.protect_content for c in copies)


async def test_a_location_is_refused_with_a_reason(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    [reply] = await chat.feed(first.content("location"))
    assert reply.chat_id == FIRST
    assert "cannot be sent to the circle" in reply.text


async def test_commands_still_work_in_circle_mode(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    [reply] = await chat.feed(first.text("/help"))
    assert reply.chat_id == FIRST
    assert "How to use Supolka" in reply.text


async def test_reveal_only_between_those_who_opt_in(chat: ChatHarness) -> None:
    first, second, _ = await _circle_of_three(chat)
    reveal = CircleCB(action=CircleAction.REVEAL_ON).pack()
    calls = await chat.feed(first.callback(reveal, message_id=1))
    [alone] = [c for c in sent_to(calls, FIRST) if isinstance(c, methods.SendMessage)]
    assert "Nobody else shares a contact yet" in alone.text

    calls = await chat.feed(second.callback(reveal, message_id=1))
    [to_second] = [c for c in sent_to(calls, SECOND) if isinstance(c, methods.SendMessage)]
    assert f"tg://user?id={FIRST}" in to_second.text
    [to_first] = sent_to(calls, FIRST)
    assert f"tg://user?id={SECOND}" in to_first.text
    assert sent_to(calls, THIRD) == [], "who did not opt in learns nothing"
    kinds = [e.kind for e in await all_events(chat.services)]
    assert kinds.count("reveal_opt_in") == 2


def _invite_token(calls: list[Any]) -> str:
    [message] = [c for c in calls if isinstance(c, methods.SendMessage) and "t.me/" in c.text]
    link = message.text.split("https://t.me/")[1].split()[0]
    payload = link.split("?start=")[1]
    assert len(payload) <= 64
    return payload


async def test_invite_link_lifecycle(chat: ChatHarness, settings: Settings) -> None:
    first, _, _ = await _circle_of_three(chat)
    invite = CircleCB(action=CircleAction.INVITE).pack()
    payload = _invite_token(await chat.feed(first.callback(invite, message_id=1)))
    assert "naftan" not in payload.lower()

    newcomer = chat.user(FOURTH, language_code="en")
    [offer] = await chat.feed(newcomer.text(f"/start {payload}"))
    assert "invited you to the circle of coworkers at <b>Naftan, Novopolotsk</b>" in offer.text
    join_data = data_of(offer, "join")
    calls = await chat.feed(newcomer.callback(join_data, message_id=1))
    [screen] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "You joined the circle" in (screen.text or "")
    assert any("Member 4 joined" in c.text for c in sent_to(calls, FIRST))
    kinds = [e.kind for e in await all_events(chat.services)]
    assert "invite_created" in kinds and "invite_used" in kinds

    # Revoked: the link stops working.
    await chat.feed(first.callback(CircleCB(action=CircleAction.REVOKE).pack(), message_id=1))
    [reply] = await chat.feed(chat.user(FOURTH + 1).text(f"/start {payload}"))
    assert "This invite link was revoked." in reply.text


async def test_expired_and_unknown_invites(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    payload = _invite_token(
        await chat.feed(first.callback(CircleCB(action=CircleAction.INVITE).pack(), message_id=1))
    )
    later = chat.services.clock() + timedelta(days=15)
    chat.services.clock = lambda: later
    restarted = ChatHarness(chat.services, chat.api)
    [reply] = await restarted.feed(restarted.user(FOURTH).text(f"/start {payload}"))
    assert "This invite link has expired" in reply.text
    [reply] = await restarted.feed(restarted.user(FOURTH).text("/start i_forgedtoken123"))
    assert "This invite link is not valid" in reply.text


async def test_a_forged_join_button_joins_nothing(chat: ChatHarness) -> None:
    await _circle_of_three(chat)
    outsider = chat.user(FOURTH, language_code="en")
    forged = CircleCB(action=CircleAction.JOIN, arg=1).pack()
    [answer] = await chat.feed(outsider.callback(forged, message_id=1))
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert "no longer valid" in (answer.text or "")
    assert await chat.services.circles.membership(chat.services.identity.user_key(FOURTH)) is None


async def test_volunteers_oversee_without_identities(chat: ChatHarness) -> None:
    first, second, _ = await _circle_of_three(chat)
    volunteer = chat.user(800_000_001, language_code="en")
    calls = await chat.feed(volunteer.text("/circles", chat_id=VOLUNTEERS, chat_type="supergroup"))
    [listing] = [c for c in calls if isinstance(c, methods.SendMessage)]  # after the role check
    assert "#1 · Naftan · 3 ·" in listing.text
    assert str(FIRST) not in listing.text

    calls = await chat.feed(
        volunteer.text("/circle_post 1 Stay safe", chat_id=VOLUNTEERS, chat_type="supergroup")
    )
    assert all(c.text == "<b>Volunteer</b>\nStay safe" for c in sent_to(calls, FIRST))

    calls = await chat.feed(
        volunteer.text("/circle_remove 1 2", chat_id=VOLUNTEERS, chat_type="supergroup")
    )
    assert any("removed you" in c.text for c in sent_to(calls, SECOND))
    assert any("removed Member 2" in c.text for c in sent_to(calls, FIRST))

    # The removed member cannot come back, by the search or by an invite.
    payload = _invite_token(
        await chat.feed(first.callback(CircleCB(action=CircleAction.INVITE).pack(), message_id=1))
    )
    [reply] = await chat.feed(second.text(f"/start {payload}"))
    assert "You cannot join this circle." in reply.text


async def test_oversight_is_refused_outside_the_volunteers_chat(chat: ChatHarness) -> None:
    await _circle_of_three(chat)
    worker = chat.user(FOURTH, language_code="en")
    [reply] = await chat.feed(worker.text("/circles"))
    assert "I don't know that command" in reply.text
    assert await chat.feed(worker.text("/circles", chat_id=-100_555, chat_type="supergroup")) == []
    [reply] = await chat.feed(worker.text("/circle_remove 1 1"))
    assert "I don't know that command" in reply.text


async def test_a_new_enterprise_is_pending_until_volunteers_merge_it(chat: ChatHarness) -> None:
    user = chat.user(FIRST, language_code="en")
    [question] = await name_enterprise(chat, user, "Zxqwv Ptkrlm Works")
    assert "In which city" in question.text
    [consent] = await chat.feed(user.text("Baranovichi"))
    assert "Zxqwv Ptkrlm Works, Baranovichi" in consent.text
    await chat.feed(user.callback(data_of(consent, "agree"), message_id=1))
    kinds = [e.kind for e in await all_events(chat.services)]
    assert "enterprise_pending" in kinds and "interest_registered" in kinds

    volunteer = chat.user(800_000_001, language_code="en")
    calls = await chat.feed(volunteer.text("/pending", chat_id=VOLUNTEERS, chat_type="supergroup"))
    [pending] = [c for c in calls if isinstance(c, methods.SendMessage)]  # after the role check
    assert "Zxqwv Ptkrlm Works" in pending.text
    pending_id = int(pending.text.splitlines()[1].split(" · ")[0])
    naftan = await chat.services.enterprises.interest_of(chat.services.identity.user_key(FIRST))
    assert naftan is not None
    [done] = await chat.feed(
        volunteer.text(f"/merge {pending_id} 2", chat_id=VOLUNTEERS, chat_type="supergroup")
    )
    assert "1 people moved" in done.text
    moved = await chat.services.enterprises.interest_of(chat.services.identity.user_key(FIRST))
    assert moved is not None and moved.id == 2
    # The merged name now finds the enterprise directly.
    [question] = await name_enterprise(chat, chat.user(SECOND), "Zxqwv Ptkrlm Works")
    assert "Is it" in question.text


async def test_fan_out_survives_429_and_drops_members_who_blocked_the_bot(
    chat: ChatHarness,
) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    fake_sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        fake_sleeps.append(seconds)

    chat.services.sleep = no_wait
    chat.services.limiter._sleep = no_wait
    relay = ChatHarness(chat.services, chat.api)
    relay.api.fail_next(QueuedError(429, "Too Many Requests: retry after 3", {"retry_after": 3}))
    relay.api.fail_next(
        QueuedError(403, "Forbidden: bot was blocked by the user", method=methods.SendMessage)
    )
    calls = await relay.feed(first.text("one"))
    texts = [c.text for c in calls if isinstance(c, methods.SendMessage)]
    assert "<b>Member 1</b>\none" in texts
    assert 3 in fake_sleeps, "the 429's retry_after was honoured"
    notes = [t for t in texts if "No longer reachable, so no longer in the circle" in t]
    assert notes, "the others hear that an unreachable member left"
    members = await chat.services.circles.members(1)
    assert len(members) == 2


async def test_an_invite_link_admits_one_person(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    payload = _invite_token(
        await chat.feed(first.callback(CircleCB(action=CircleAction.INVITE).pack(), message_id=1))
    )
    newcomer, another = chat.user(FOURTH), chat.user(FOURTH + 1)
    [offer_1] = await chat.feed(newcomer.text(f"/start {payload}"))
    [offer_2] = await chat.feed(another.text(f"/start {payload}"))  # both opened it in time
    await chat.feed(newcomer.callback(data_of(offer_1, "join"), message_id=1))
    [refusal] = await chat.feed(another.callback(data_of(offer_2, "join"), message_id=1))
    assert isinstance(refusal, methods.AnswerCallbackQuery)
    assert "no longer valid" in (refusal.text or "")
    [reply] = await chat.feed(chat.user(FOURTH + 2).text(f"/start {payload}"))
    assert "already been used" in reply.text
    assert len(await chat.services.circles.members(1)) == 4


async def test_links_of_a_removed_member_stop_working(chat: ChatHarness) -> None:
    _, second, _ = await _circle_of_three(chat)
    payload = _invite_token(
        await chat.feed(second.callback(CircleCB(action=CircleAction.INVITE).pack(), message_id=1))
    )
    volunteer = chat.user(800_000_001)
    await chat.feed(
        volunteer.text("/circle_remove 1 2", chat_id=VOLUNTEERS, chat_type="supergroup")
    )
    [reply] = await chat.feed(chat.user(FOURTH).text(f"/start {payload}"))
    assert "revoked" in reply.text or "not valid" in reply.text
    removed = [e for e in await all_events(chat.services) if e.kind == "circle_left"]
    assert [e.fields["reason"] for e in removed] == ["removed"]


async def test_one_circle_per_person(chat: ChatHarness) -> None:
    await _circle_of_three(chat)
    others = [chat.user(i) for i in (FOURTH, FOURTH + 1, FOURTH + 2)]
    for user in others:
        await join(chat, user, "Беларуськалий")
    payload = _invite_token(
        await chat.feed(
            others[0].callback(CircleCB(action=CircleAction.INVITE).pack(), message_id=1)
        )
    )
    first = chat.user(FIRST, language_code="en")
    [offer] = await chat.feed(first.text(f"/start {payload}"))
    calls = await chat.feed(first.callback(data_of(offer, "join"), message_id=1))
    [screen] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "already in the circle of another enterprise" in (screen.text or "")
    member = await chat.services.circles.membership(chat.services.identity.user_key(FIRST))
    assert member is not None and member.circle_id == 1
    [reply] = await chat.feed(chat.user(FOURTH + 3).text(f"/start {payload}"))
    assert "already been used" not in reply.text, "a refused join does not use up the link"


@pytest.mark.parametrize("action", [MatchAction.PICK, MatchAction.AGREE])
async def test_forged_enterprise_buttons_show_and_register_nothing(
    chat: ChatHarness, action: MatchAction
) -> None:
    user = chat.user(FIRST, language_code="en")
    await chat.feed(user.text("/start"))
    forged = MatchCB(action=action, enterprise=7).pack()
    [answer] = await chat.feed(user.callback(forged, message_id=1))
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert answer.text == "This button has expired. Send /start for a fresh menu."
    assert (
        await chat.services.enterprises.interest_of(chat.services.identity.user_key(FIRST)) is None
    )


async def test_cancel_after_the_city_saves_nothing(chat: ChatHarness) -> None:
    user = chat.user(FIRST, language_code="en")
    await name_enterprise(chat, user, "Zxqwv Ptkrlm Works")
    [consent] = await chat.feed(user.text("Baranovichi"))
    await chat.feed(user.callback(data_of(consent, "cancel"), message_id=1))
    assert await chat.services.enterprises.pending() == []
    kinds = [e.kind for e in await all_events(chat.services)]
    assert "enterprise_pending" not in kinds


async def test_commands_are_not_taken_for_names(chat: ChatHarness) -> None:
    user = chat.user(FIRST, language_code="en")
    await chat.feed(user.text("/coworkers"))
    [reply] = await chat.feed(user.text("/help"))
    assert "How to use Supolka" in reply.text


async def test_pictures_sent_as_files_are_refused(chat: ChatHarness) -> None:
    first, _, _ = await _circle_of_three(chat)
    await _relay_on(chat, first)
    [reply] = await chat.feed(first.content("image_document"))
    assert "send pictures as photos" in reply.text


async def test_agreeing_twice_tells_the_others_once(chat: ChatHarness) -> None:
    await join(chat, chat.user(FIRST, language_code="en"))
    second = chat.user(SECOND, language_code="en")
    [question] = await name_enterprise(chat, second, "Нафтан")
    calls = await chat.feed(second.callback(data_of(question, "pick"), message_id=1))
    [consent] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    agree = data_of(consent, "agree")
    first_time = await chat.feed(second.callback(agree, message_id=1))
    assert len(sent_to(first_time, FIRST)) == 1
    again = await chat.feed(second.callback(agree, message_id=1))
    assert sent_to(again, FIRST) == []


async def test_two_coworkers_agreeing_at_once_open_one_circle(chat: ChatHarness) -> None:
    import asyncio

    await join(chat, chat.user(FIRST, language_code="en"))
    second, third = chat.user(SECOND), chat.user(THIRD)
    pending = []
    for user in (second, third):
        [question] = await name_enterprise(chat, user, "Нафтан")
        calls = await chat.feed(user.callback(data_of(question, "pick"), message_id=1))
        [consent] = [c for c in calls if isinstance(c, methods.EditMessageText)]
        pending.append(user.callback(data_of(consent, "agree"), message_id=1))
    await asyncio.gather(*(chat.feed(update) for update in pending))
    assert len(await chat.services.circles.summaries()) == 1
    assert len(await chat.services.circles.members(1)) == 3
    assert not [c for c in chat.api.calls if "went wrong" in str(getattr(c, "text", ""))]
