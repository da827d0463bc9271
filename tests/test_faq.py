"""The FAQ: complete in every language, found by free-text questions, browsable by topic."""

from __future__ import annotations

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import LOCALES
from bot.content.faq import load_faqs
from bot.content.telegram_html import MESSAGE_LIMIT, visible_length
from bot.db.events import EventsRepo
from flows.guide.callbacks import FaqAction, FaqCB
from tests.conftest import ChatHarness, all_events, buttons

FAQS = load_faqs()

#: Questions as a worker might type them, and the entry that must be among the top three.
SAMPLES = {
    "en": [
        ("can they fire me for the union?", "dismissal"),
        ("how many founders do we need", "how-many-founders"),
        ("stop paying dues from salary", "stop-dues"),
        ("is my work phone safe to use", "work-devices"),
        ("what do you store about me", "what-bot-stores"),
        ("fixed-term contract ends", "fixed-term-contract"),
        ("who registers the organisation", "who-registers"),
    ],
    "ru": [
        ("могут ли меня уволить за профсоюз", "dismissal"),
        ("сколько нужно учредителей", "how-many-founders"),
        ("как перестать платить взносы из зарплаты", "stop-dues"),
        ("можно ли выйти из профсоюза ФПБ", "leave-fpb"),
        ("что бот хранит обо мне", "what-bot-stores"),
        ("юридический адрес", "legal-address"),
        ("рабочий телефон и вайфай", "work-devices"),
    ],
    "be": [
        ("ці могуць мяне звольніць за прафсаюз", "dismissal"),
        ("колькі трэба заснавальнікаў", "how-many-founders"),
        ("як спыніць утрыманне ўзносаў з заробку", "stop-dues"),
        ("што бот захоўвае пра мяне", "what-bot-stores"),
        ("юрыдычны адрас", "legal-address"),
        ("кантракт заканчваецца", "fixed-term-contract"),
        ("ці можна выйсці з прафсаюза ФПБ", "leave-fpb"),
    ],
}
NONSENSE = ["qwzx vbnm plokij", "ыфвапр олдж", "ўўў ііі", "🙂🙂🙂", "12345 67890", "the of and"]


@pytest.mark.parametrize("locale", LOCALES)
def test_at_least_fifteen_entries_in_every_language(locale: str) -> None:
    catalog = FAQS[locale]
    assert len(catalog.entries) >= 15
    assert {e.id for e in catalog.entries} == {e.id for e in FAQS["en"].entries}
    for entry in catalog.entries:
        screen = f"<b>{entry.question}</b>\n\n{entry.answer}"
        assert visible_length(screen) < MESSAGE_LIMIT - 1000, "room for the sources"


@pytest.mark.parametrize(
    ("locale", "question", "expected"),
    [(locale, q, e) for locale, pairs in SAMPLES.items() for q, e in pairs],
)
def test_search_finds_the_right_answer(locale: str, question: str, expected: str) -> None:
    found = [entry.id for entry in FAQS[locale].search(question)]
    assert expected in found, f"{question!r} → {found}"
    assert len(found) <= 3


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("nonsense", NONSENSE)
def test_nonsense_finds_nothing(locale: str, nonsense: str) -> None:
    assert FAQS[locale].search(nonsense) == []


async def test_a_typed_question_gets_answers_as_buttons(
    chat: ChatHarness, services: Services
) -> None:
    user = chat.user(language_code="be")
    [reply] = await chat.feed(user.text("колькі трэба заснавальнікаў?"))
    assert "Магчыма, тут ёсць адказ на ваша пытанне" in reply.text
    data = [d for _, d in buttons(reply)]
    entry = FaqCB(action=FaqAction.ENTRY, arg="how-many-founders").pack()
    assert entry in data

    calls = await chat.feed(user.callback(entry, message_id=chat.api.sent_message_ids[-1]))
    [answer] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "10" in (answer.text or "")
    assert "Крыніцы:" in (answer.text or ""), "an answer with facts cites its sources"

    events = EventsRepo(services.db)
    assert await events.count("faq_searched") == 1
    [event] = [e for e in await all_events(services) if e.kind == "faq_searched"]
    assert event.fields == {"hit": True, "locale": "be"}


async def test_no_match_says_so_and_offers_the_topics(
    chat: ChatHarness, services: Services
) -> None:
    [reply] = await chat.feed(chat.user(language_code="ru").text("ыфвапр олдж"))
    assert "Я не нашёл ответа на это" in reply.text
    assert FaqCB(action=FaqAction.TOPICS).pack() in [d for _, d in buttons(reply)]
    [event] = [e for e in await all_events(services) if e.kind == "faq_searched"]
    assert event.fields["hit"] is False


async def test_browsing_by_topic(chat: ChatHarness) -> None:
    user = chat.user(language_code="en")
    [topics] = await chat.feed(user.text("/faq"))
    labels = [label for label, _ in buttons(topics)]
    assert "Safety" in labels
    message_id = chat.api.sent_message_ids[-1]
    topic = FaqCB(action=FaqAction.TOPIC, arg="safety").pack()
    [questions] = [
        c
        for c in await chat.feed(user.callback(topic, message_id=message_id))
        if isinstance(c, methods.EditMessageText)
    ]
    assert len(buttons(questions)) >= 4  # three questions at least, and the way back


@pytest.mark.parametrize("data", ["faq1:entry:no-such-entry", "faq1:topic:nope"])
async def test_a_stale_faq_button_shows_the_topics(chat: ChatHarness, data: str) -> None:
    calls = await chat.feed(chat.user(language_code="en").callback(data, message_id=1))
    [screen] = [c for c in calls if isinstance(c, methods.EditMessageText)]
    assert "Questions and answers" in (screen.text or "")
