"""The questionnaire and the personal checklist, through the dispatcher."""

from __future__ import annotations

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from bot.updates import UpdateFactory
from flows.guide.callbacks import ChecklistAction, ChecklistCB
from tests.conftest import ChatHarness, all_events, buttons, edits

ORDER = ("fpb", "people", "route", "contract", "contact")
POSITION = {"en": "Question {n} of 5", "ru": "Вопрос {n} из 5", "be": "Пытанне {n} з 5"}
ALL_STEPS = [
    "safety",
    "routes",
    "coworkers",
    "statute",
    "applications",
    "meeting",
    "address",
    "registration",
    "employer",
    "leave_fpb",
    "rights",
    "help",
]


def answer(question: str, value: str) -> str:
    return ChecklistCB(action=ChecklistAction.ANSWER, item=question, answer=value).pack()


def tick(item: str) -> str:
    return ChecklistCB(action=ChecklistAction.TICK, item=item).pack()


async def _answer_all(
    chat: ChatHarness, user: UpdateFactory, answers: dict[str, str]
) -> methods.EditMessageText:
    await chat.feed(user.text("/start"))
    message_id = chat.api.sent_message_ids[-1]
    open_ = ChecklistCB(action=ChecklistAction.OPEN).pack()
    [intro] = edits(await chat.feed(user.callback(open_, message_id=message_id)))
    assert "5" in (intro.text or ""), "the intro says how many questions"
    begin = ChecklistCB(action=ChecklistAction.BEGIN).pack()
    [question] = edits(await chat.feed(user.callback(begin, message_id=message_id)))
    for number, question_id in enumerate(ORDER, start=1):
        assert (question.text or "").startswith(
            "<i>" + POSITION[user.user["language_code"]].format(n=number)
        )
        data = answer(question_id, answers[question_id])
        assert data in [d for _, d in buttons(question)]
        [question] = edits(await chat.feed(user.callback(data, message_id=message_id)))
    return question  # the checklist screen


def _items(screen: methods.EditMessageText) -> list[str]:
    return [d.split(":")[2] for _, d in buttons(screen) if d and d.startswith("check1:tick:")]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {"fpb": "yes", "people": "alone", "route": "join", "contract": "yes", "contact": "no"},
            ALL_STEPS,
        ),
        (
            {"fpb": "no", "people": "ten", "route": "found", "contract": "no", "contact": "yes"},
            [
                "safety",
                "routes",
                "applications",
                "meeting",
                "address",
                "registration",
                "employer",
                "rights",
            ],
        ),
        (
            {
                "fpb": "unsure",
                "people": "few",
                "route": "unsure",
                "contract": "unsure",
                "contact": "yes",
            },
            [s for s in ALL_STEPS if s != "help"],
        ),
    ],
)
async def test_answers_give_the_expected_checklist(
    chat: ChatHarness, services: Services, answers: dict[str, str], expected: list[str]
) -> None:
    screen = await _answer_all(chat, chat.user(language_code="en"), answers)
    assert "Your checklist" in (screen.text or "")
    assert f"0 of {len(expected)} done" in (screen.text or "")
    assert _items(screen) == expected
    built = [e for e in await all_events(services) if e.kind == "checklist_built"]
    assert [e.fields["items"] for e in built] == [len(expected)]


async def test_ticks_are_saved_and_survive_a_restart(settings: Settings) -> None:
    answers = {"fpb": "no", "people": "ten", "route": "found", "contract": "no", "contact": "yes"}
    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="be")
        screen = await _answer_all(chat, user, answers)
        message_id = screen.message_id or 0
        [screen] = edits(await chat.feed(user.callback(tick("routes"), message_id=message_id)))
        assert "Выканана: 1 з 8" in (screen.text or "")
        assert "✅ 2." in (screen.text or "")
        done = [e for e in await all_events(services) if e.kind == "checklist_item_done"]
        assert [(e.fields, e.user_key is not None) for e in done] == [({"pack": "by"}, True)]
    finally:
        await services.close()

    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="be")
        open_ = ChecklistCB(action=ChecklistAction.OPEN).pack()
        [screen] = edits(await chat.feed(user.callback(open_, message_id=5)))
        assert "Выканана: 1 з 8" in (screen.text or "")
        [screen] = edits(await chat.feed(user.callback(tick("routes"), message_id=5)))
        assert "Выканана: 0 з 8" in (screen.text or ""), "a second tap unticks"
    finally:
        await services.close()


async def test_reset_starts_the_questions_again(chat: ChatHarness) -> None:
    answers = {"fpb": "no", "people": "ten", "route": "found", "contract": "no", "contact": "yes"}
    user = chat.user(language_code="ru")
    screen = await _answer_all(chat, user, answers)
    reset = ChecklistCB(action=ChecklistAction.RESET).pack()
    assert reset in [d for _, d in buttons(screen)]
    [question] = edits(await chat.feed(user.callback(reset, message_id=screen.message_id or 0)))
    assert "Вопрос 1 из 5" in (question.text or "")
    open_ = ChecklistCB(action=ChecklistAction.OPEN).pack()
    [intro] = edits(await chat.feed(user.callback(open_, message_id=screen.message_id or 0)))
    assert "Ваш личный список шагов" in (intro.text or ""), "no checklist until answered again"


async def test_stale_or_forged_answers_change_nothing(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    await chat.feed(user.text("/start"))
    begin = ChecklistCB(action=ChecklistAction.BEGIN).pack()
    await chat.feed(user.callback(begin, message_id=2))
    for data in (answer("fpb", "maybe"), answer("nosuch", "yes"), tick("safety")):
        [screen] = edits(await chat.feed(user.callback(data, message_id=2)))
        assert "Question 1 of 5" in (screen.text or "") or "personal checklist" in (
            screen.text or ""
        )


async def test_the_checklist_is_sealed_in_the_database(settings: Settings) -> None:
    answers = {
        "fpb": "yes",
        "people": "alone",
        "route": "join",
        "contract": "yes",
        "contact": "no",
    }
    services = await Services.open(settings)
    try:
        await _answer_all(ChatHarness(services), ChatHarness(services).user(), answers)
    finally:
        await services.close()
    raw = settings.database_path.read_bytes()
    for secret in (b"leave_fpb", b'"fpb": ', b'"alone"', b'"answers": {'):
        assert secret not in raw
