"""Reading the guide through the dispatcher: steps in place, contents, progress, packs."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram import methods
from aiogram.types import LinkPreviewOptions

from bot.app import Services
from bot.config import Settings
from bot.updates import UpdateFactory
from flows.guide.callbacks import DocAction, DocCB, GuideAction, GuideCB
from tests.conftest import ChatHarness, all_events, buttons, edits, make_settings

STEP_ONE = {"en": "Step 1 of 12", "ru": "Шаг 1 из 12", "be": "Крок 1 з 12"}
SAFETY = {"en": "Safety first", "ru": "безопасность", "be": "бяспека"}


def step(step_id: str) -> str:
    return GuideCB(action=GuideAction.STEP, arg=step_id).pack()


async def _open_guide(chat: ChatHarness, locale: str = "en") -> tuple[UpdateFactory, int]:
    user = chat.user(language_code=locale)
    await chat.feed(user.text("/guide"))
    return user, chat.api.sent_message_ids[-1]


@pytest.mark.parametrize("locale", ["en", "ru", "be"])
async def test_the_guide_starts_with_safety_in_every_language(
    chat: ChatHarness, locale: str
) -> None:
    user = chat.user(language_code=locale)
    [home] = await chat.feed(user.text("/guide"))
    assert isinstance(home, methods.SendMessage)
    start = [d for _, d in buttons(home) if d == step("safety")]
    assert start, "the home screen offers to start"

    message_id = chat.api.sent_message_ids[-1]
    [screen] = edits(await chat.feed(user.callback(step("safety"), message_id=message_id)))
    assert screen.message_id == message_id, "one message, edited in place"
    text = screen.text or ""
    assert STEP_ONE[locale] in text
    assert SAFETY[locale] in text.lower() or SAFETY[locale] in text
    assert isinstance(screen.link_preview_options, LinkPreviewOptions)
    assert screen.link_preview_options.is_disabled, "source links make no preview cards"


async def test_next_back_and_contents(chat: ChatHarness) -> None:
    user, message_id = await _open_guide(chat)
    [first] = edits(await chat.feed(user.callback(step("safety"), message_id=message_id)))
    labels = [label for label, _ in buttons(first)]
    assert "⬅️ Back" not in labels, "no Back on the first step"
    assert step("routes") in [d for _, d in buttons(first)]

    [second] = edits(await chat.feed(user.callback(step("routes"), message_id=message_id)))
    assert "Step 2 of 12" in (second.text or "")
    assert step("safety") in [d for _, d in buttons(second)], "Back leads to step 1"

    contents = GuideCB(action=GuideAction.CONTENTS).pack()
    [toc] = edits(await chat.feed(user.callback(contents, message_id=message_id)))
    step_buttons = [d for _, d in buttons(toc) if d and d.startswith("guide1:step:")]
    assert len(step_buttons) == 12

    [seventh] = edits(await chat.feed(user.callback(step_buttons[6], message_id=message_id)))
    assert "Step 7 of 12" in (seventh.text or "")


async def test_the_last_step_finishes_once(chat: ChatHarness, services: Services) -> None:
    user, message_id = await _open_guide(chat)
    [last] = edits(await chat.feed(user.callback(step("help"), message_id=message_id)))
    finish = GuideCB(action=GuideAction.FINISH).pack()
    assert finish in [d for _, d in buttons(last)]
    [done] = edits(await chat.feed(user.callback(finish, message_id=message_id)))
    assert "You have read the whole guide." in (done.text or "")
    await chat.feed(user.callback(finish, message_id=message_id))
    kinds = [e.kind for e in await all_events(services)]
    assert kinds.count("guide_completed") == 1


async def test_events_record_the_funnel(chat: ChatHarness, services: Services) -> None:
    user, message_id = await _open_guide(chat)
    for step_id in ("safety", "routes", "safety"):
        await chat.feed(user.callback(step(step_id), message_id=message_id))
    events = await all_events(services)
    assert [e.kind for e in events].count("guide_started") == 1
    viewed = [e for e in events if e.kind == "guide_step_viewed"]
    assert [e.fields["step"] for e in viewed] == ["safety", "routes", "safety"]
    assert all(e.user_key is None for e in viewed), "what someone read is not tied to them"


async def test_progress_survives_a_restart(settings: Settings) -> None:
    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        user, message_id = await _open_guide(chat, "ru")
        await chat.feed(user.callback(step("address"), message_id=message_id))
    finally:
        await services.close()

    services = await Services.open(settings)
    try:
        chat = ChatHarness(services)
        [home] = await chat.feed(chat.user(language_code="ru").text("/guide"))
        assert "Вы остановились на шаге 7: Юридический адрес." in home.text
        labels = [label for label, _ in buttons(home)]
        assert "▶️ Продолжить" in labels
        assert step("address") in [d for _, d in buttons(home)]
    finally:
        await services.close()


async def test_a_stale_step_button_shows_the_current_step(chat: ChatHarness) -> None:
    user, message_id = await _open_guide(chat)
    await chat.feed(user.callback(step("meeting"), message_id=message_id))
    [screen] = edits(await chat.feed(user.callback(step("removed_step"), message_id=message_id)))
    assert "Step 6 of 12" in (screen.text or "")


@pytest.mark.parametrize("data", ["guide1:jump:safety", "guide1:step", "guide1"])
async def test_a_forged_guide_button_expires(chat: ChatHarness, data: str) -> None:
    [answer] = await chat.feed(chat.user().callback(data, message_id=1))
    assert isinstance(answer, methods.AnswerCallbackQuery)
    assert answer.text == "This button has expired. Send /start for a fresh menu."


async def test_text_typed_on_a_step_is_an_faq_question(chat: ChatHarness) -> None:
    user, message_id = await _open_guide(chat)
    await chat.feed(user.callback(step("routes"), message_id=message_id))
    [reply] = await chat.feed(user.text("how many founders do we need?"))
    assert "This may answer your question:" in reply.text


async def test_a_step_links_its_document(chat: ChatHarness) -> None:
    user, message_id = await _open_guide(chat)
    [screen] = edits(await chat.feed(user.callback(step("applications"), message_id=message_id)))
    document = DocCB(action=DocAction.OPEN, kind="membership_application").pack()
    assert document in [d for _, d in buttons(screen)]
    [opened] = edits(await chat.feed(user.callback(document, message_id=message_id)))
    assert "Membership application" in (opened.text or "")


async def test_steps_link_the_checklist_and_the_faq(chat: ChatHarness) -> None:
    user, message_id = await _open_guide(chat)
    [routes] = edits(await chat.feed(user.callback(step("routes"), message_id=message_id)))
    assert "check1:open::" in [d for _, d in buttons(routes)]
    [last] = edits(await chat.feed(user.callback(step("help"), message_id=message_id)))
    assert "faq1:topics:" in [d for _, d in buttons(last)]
    [coworkers] = edits(await chat.feed(user.callback(step("coworkers"), message_id=message_id)))
    assert "match1:start:0" in [d for _, d in buttons(coworkers)]


async def test_switching_packs(tmp_path: Path) -> None:
    services = await Services.open(make_settings(tmp_path, guide_packs=["by", "uk"]))
    try:
        chat = ChatHarness(services)
        user = chat.user(language_code="ru")
        [home] = await chat.feed(user.text("/guide"))
        packs = GuideCB(action=GuideAction.PACKS).pack()
        assert packs in [d for _, d in buttons(home)]
        message_id = chat.api.sent_message_ids[-1]
        [choice] = edits(await chat.feed(user.callback(packs, message_id=message_id)))
        uk = GuideCB(action=GuideAction.PACK, arg="uk").pack()
        assert uk in [d for _, d in buttons(choice)]
        [uk_home] = edits(await chat.feed(user.callback(uk, message_id=message_id)))
        assert "Union recognition in the United Kingdom" in (uk_home.text or "")
        [first] = edits(await chat.feed(user.callback(step("request"), message_id=message_id)))
        assert "Шаг 1 из 5" in (first.text or ""), "the interface stays in the user's language"
        # The choice is remembered.
        [again] = await chat.feed(user.text("/guide"))
        assert "United Kingdom" in again.text
    finally:
        await services.close()


async def test_a_single_pack_offers_no_country_choice(chat: ChatHarness) -> None:
    [home] = await chat.feed(chat.user().text("/guide"))
    assert GuideCB(action=GuideAction.PACKS).pack() not in [d for _, d in buttons(home)]
