"""/chatid: an admin learns a group's (and a topic's) id; strangers in groups get nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import methods

from bot.app import Services
from bot.config import Settings
from tests.conftest import ChatHarness, make_settings, texts

ADMIN = 900_000_001
STRANGER = 731_000_009
NEW_GROUP = -100_555_000  # not configured yet: the organiser is setting it up
VOLUNTEERS = -100_777_000


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, admin_ids=[ADMIN], volunteers_chat_id=VOLUNTEERS)


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    services = await Services.open(settings)
    yield ChatHarness(services)
    await services.close()


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", "This chat's id"), ("ru", "Id этого чата"), ("be", "Id гэтага чата")],
)
async def test_an_admin_learns_a_new_groups_id_in_their_language(
    chat: ChatHarness, locale: str, words: str
) -> None:
    admin = chat.user(ADMIN, language_code=locale)
    [answer] = await chat.feed(admin.text("/chatid", chat_id=NEW_GROUP, chat_type="supergroup"))
    assert isinstance(answer, methods.SendMessage) and answer.chat_id == NEW_GROUP
    assert words in answer.text and f"<code>{NEW_GROUP}</code>" in answer.text
    assert "SUPOLKA_VOLUNTEERS_CHAT_ID" in answer.text


async def test_in_a_forum_topic_the_topics_id_too(chat: ChatHarness) -> None:
    admin = chat.user(ADMIN, language_code="en")
    update = admin.text("/chatid", chat_id=VOLUNTEERS, chat_type="supergroup", thread_id=77)
    [answer] = await chat.feed(update)
    assert f"<code>{VOLUNTEERS}</code>" in answer.text
    assert "This topic's id: 77." in answer.text


@pytest.mark.parametrize("group", [NEW_GROUP, VOLUNTEERS])
async def test_anyone_else_in_a_group_gets_nothing(chat: ChatHarness, group: int) -> None:
    stranger = chat.user(STRANGER, language_code="en")
    for command in ("/chatid", "/chatid@supolka_bot"):
        update = stranger.text(command, chat_id=group, chat_type="supergroup")
        calls = await chat.feed(update)
        assert [call for call in calls if not isinstance(call, methods.GetMe)] == []


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", "Your Telegram id"), ("ru", "Ваш Telegram id"), ("be", "Ваш Telegram id")],
)
async def test_in_a_private_chat_anyone_learns_their_own_id(
    chat: ChatHarness, locale: str, words: str
) -> None:
    user = chat.user(STRANGER, language_code=locale)
    [answer] = texts(await chat.feed(user.text("/chatid")))
    assert words in answer and f"<code>{STRANGER}</code>" in answer
    if locale == "be":
        assert "адміністратара" in answer
