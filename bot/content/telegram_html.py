"""Checks text against the HTML subset Telegram accepts, and measures it as Telegram does."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

#: Tags Telegram's HTML parse mode accepts.
ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)
#: Telegram accepts numeric entities and only these named ones.
_BAD_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?!/?[a-zA-Z][a-zA-Z-]*(?:\s[^<>]*)?>)")
_TAG = re.compile(r"<[^>]+>")

#: Telegram's limit for one message's text, counted in UTF-16 code units after parsing.
MESSAGE_LIMIT = 4096


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed by Telegram")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/> is not allowed by Telegram")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> does not close the last open tag")
            return
        self.open.pop()


def html_problems(text: str) -> list[str]:
    """What Telegram would refuse in ``text`` (empty when it is fine)."""
    problems = []
    if _BAD_ENTITY.search(text):
        problems.append("a bare '&' or an entity Telegram does not know (use &amp;)")
    if _BARE_LT.search(text):
        problems.append("a bare '<' (use &lt;)")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    problems += checker.problems
    if checker.open:
        problems.append(f"unclosed tags: {', '.join(checker.open)}")
    return problems


def visible_length(text: str) -> int:
    """The length Telegram counts: text without tags, entities decoded, in UTF-16 units."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2
