"""The FAQ: ``data/faq/<locale>.toml``, browsed by topic or searched with free text.

Search is small and predictable: words are normalised (case, ё→е, punctuation), cut to a short
stem so that word forms meet (профсоюза ~ профсоюз, прафсаюзы ~ прафсаюз), stop words dropped,
and entries scored by the rarer stems they share with the question, keywords counting most.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT
from bot.config import LOCALES
from bot.content import ContentError
from bot.content.guide import _Reader
from bot.content.telegram_html import visible_length

FAQ_DIR = PROJECT_ROOT / "data" / "faq"
STEM_LENGTH = 5
#: A result needs at least this share of the question's informative stems.
MIN_COVERAGE = 0.34

_WORD = re.compile(r"[^\W\d_]+(?:['ʼ’][^\W\d_]+)?")
_STOP_WORDS = {
    "en": "a an and are as at be can do does for from has have how i if in is it me my of on "
    "or should so that the this to was what when where which who why will with would you your",
    "ru": "а без бы в во вы да для до если же за и из или их к как ли мне мой мы на не ни но о "
    "об от по под при с со так то ты у что чтобы это я можно ли ещё уже там тут",
    "be": "а без бы ў у вы да для да калі ж за і з ці іх да як мне мой мы на не ні але аб ад па "
    "пад пры з са так то ты што каб гэта я можна ці яшчэ ўжо там тут",
}


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    # ў after a vowel is у after a consonant: "ўзносы" and "узносы" are one word.
    return text.replace("ў", "у").replace("’", "'").replace("ʼ", "'")


#: English word endings dropped before cutting, so that fire, fires, fired and firing meet.
_EN_SUFFIXES = ("ing", "ed", "es", "s", "e")


def _stem(word: str, locale: str) -> str:
    if locale == "en":
        for suffix in _EN_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return word[:STEM_LENGTH]


def stems(text: str, locale: str) -> list[str]:
    stop = set(_STOP_WORDS.get(locale, "").split())
    words = [w for w in _WORD.findall(normalise(text)) if w not in stop]
    return [_stem(w, locale) for w in words if len(w) > 1]


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    question: str
    answer: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FaqCatalog:
    """The entries of one locale, with an index for search."""

    locale: str
    topics: Mapping[str, str]
    entries: tuple[Entry, ...]

    def __post_init__(self) -> None:
        strong = [
            set(stems(e.question + " " + " ".join(e.keywords), self.locale)) for e in self.entries
        ]
        weak = [set(stems(e.answer, self.locale)) for e in self.entries]
        frequency: Counter[str] = Counter()
        for a, b in zip(strong, weak, strict=True):
            frequency.update(a | b)
        total = max(len(self.entries), 1)
        idf = {stem: math.log(1 + total / count) for stem, count in frequency.items()}
        object.__setattr__(self, "_strong", strong)
        object.__setattr__(self, "_weak", weak)
        object.__setattr__(self, "_idf", idf)

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def by_topic(self, topic: str) -> list[Entry]:
        return [e for e in self.entries if e.topic == topic]

    def search(self, question: str, limit: int = 3) -> list[Entry]:
        """The best entries for a free-text question; empty when nothing fits."""
        wanted = [s for s in dict.fromkeys(stems(question, self.locale)) if s in self._idf]  # type: ignore[attr-defined]
        asked = set(stems(question, self.locale))
        if not wanted or not asked:
            return []
        idf: dict[str, float] = self._idf  # type: ignore[attr-defined]
        best = sum(idf[s] for s in wanted)
        scored = []
        for entry, strong, weak in zip(self.entries, self._strong, self._weak, strict=True):  # type: ignore[attr-defined]
            score = sum(
                idf[s] * (1.0 if s in strong else 0.4 if s in weak else 0.0) for s in wanted
            )
            # Coverage over everything asked: nonsense words make a question less certain.
            coverage = score / (best + 0.5 * (len(asked) - len(wanted)) * max(idf.values()))
            if coverage >= MIN_COVERAGE and any(s in strong for s in wanted):
                scored.append((coverage, entry))
        scored.sort(key=lambda pair: -pair[0])
        return [entry for _, entry in scored[:limit]]


#: An answer must leave room on its screen for the question and up to a few sources.
MAX_ANSWER = 3000


def _answer(reader: _Reader, raw: Mapping[str, object], where: str) -> str:
    answer = reader.html(reader.string(raw, "answer", where), where)
    if visible_length(answer) > MAX_ANSWER:
        raise reader.fail(where, f"the answer is over {MAX_ANSWER} characters")
    return answer


def load_faq(path: Path, locale: str) -> FaqCatalog:
    reader = _Reader(path)
    data = reader.data
    topics_table = reader.table(data, "topics", "topics")
    topics = {
        reader.ident(key, "topics"): reader.html(reader.string(topics_table, key, "topics"), key)
        for key in topics_table
    }
    entries = []
    for number, raw in enumerate(data.get("faq") or [], start=1):
        entry_id = reader.ident(raw.get("id"), f"entry {number}")
        where = f"entry '{entry_id}'"
        topic = raw.get("topic")
        if topic not in topics:
            raise reader.fail(where, f"topic {topic!r} is not in [topics]")
        keywords = raw.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise reader.fail(where, "'keywords' must be a list of strings")
        entries.append(
            Entry(
                id=entry_id,
                topic=topic,
                question=reader.html(reader.string(raw, "question", where), where),
                answer=_answer(reader, raw, where),
                keywords=tuple(keywords),
                sources=tuple(raw.get("sources") or ()),
            )
        )
    if len({e.id for e in entries}) != len(entries):
        raise reader.fail("faq", "entry ids must be unique")
    return FaqCatalog(locale, topics, tuple(entries))


def load_faqs(
    root: Path = FAQ_DIR, known_sources: set[str] | None = None
) -> dict[str, FaqCatalog]:
    """One catalog per locale, with the same entry ids and topics in every one."""
    catalogs: dict[str, FaqCatalog] = {
        locale: load_faq(root / f"{locale}.toml", locale) for locale in LOCALES
    }
    reference = next(iter(catalogs.values()))
    for locale, catalog in catalogs.items():
        name = f"data/faq/{locale}.toml"
        if [e.id for e in catalog.entries] != [e.id for e in reference.entries]:
            raise ContentError(f"{name}: entries differ from data/faq/{reference.locale}.toml")
        if set(catalog.topics) != set(reference.topics):
            raise ContentError(f"{name}: topics differ from data/faq/{reference.locale}.toml")
        for entry in catalog.entries:
            unknown = set(entry.sources) - (known_sources or set(entry.sources))
            if unknown:
                raise ContentError(
                    f"{name}: entry '{entry.id}': unknown sources {sorted(unknown)}"
                )
    return catalogs
