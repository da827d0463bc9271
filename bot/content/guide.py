"""Guide packs: ``data/guide/<pack>/pack.toml`` (structure, sources, checklist rules) and one
``<locale>.toml`` per declared locale (titles, bodies, questions).

Code never hard-codes a jurisdiction: steps, questions and the checklist rules all come from
the pack, so a new country is a new folder.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot import PROJECT_ROOT
from bot.config import LOCALES
from bot.content import ContentError
from bot.content.telegram_html import html_problems

GUIDE_DIR = PROJECT_ROOT / "data" / "guide"
#: Ids travel in callback data (64 bytes): keep them short and plain.
_ID = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")
_READ_ON = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
#: What a step may link to besides its document: other parts of the bot. A link to a part that
#: is not built yet shows no button until it is.
LINK_TARGETS = frozenset({"checklist", "documents", "faq", "match", "handoff", "safety"})


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    read_on: str


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    id: str
    sources: tuple[str, ...]
    document: str | None
    links: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]]

    def applies(self, answers: Mapping[str, str]) -> bool:
        """Whether this step belongs in the checklist of someone who answered so."""
        return all(answers.get(question) in allowed for question, allowed in self.when.items())


@dataclass(frozen=True)
class StepText:
    title: str
    body: str
    checklist: str


@dataclass(frozen=True)
class QuestionText:
    text: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class PackText:
    title: str
    intro: str
    disclaimer: str
    steps: Mapping[str, StepText]
    questions: Mapping[str, QuestionText]
    #: Source titles in this language, where the pack gives them (else the manifest's).
    source_titles: Mapping[str, str]


@dataclass(frozen=True)
class Pack:
    id: str
    country: str
    as_of: date
    locales: tuple[str, ...]
    sources: Mapping[str, Source]
    questions: tuple[Question, ...]
    steps: tuple[Step, ...]
    texts: Mapping[str, PackText]
    #: Founders the law requires for the smallest organisation one can found (None: no rule).
    founders: int | None = None

    def text_locale(self, locale: str) -> str:
        """The user's locale when the pack has it, else English, else the pack's first."""
        if locale in self.texts:
            return locale
        return "en" if "en" in self.texts else self.locales[0]

    def text(self, locale: str) -> PackText:
        return self.texts[self.text_locale(locale)]

    def source_title(self, source_id: str, locale: str) -> str:
        titles = self.text(locale).source_titles
        return titles.get(source_id) or self.sources[source_id].title

    def index(self, step_id: str) -> int | None:
        for number, step in enumerate(self.steps):
            if step.id == step_id:
                return number
        return None

    def checklist(self, answers: Mapping[str, str]) -> list[str]:
        """The ids of the steps that apply to these answers, in the guide's order."""
        return [step.id for step in self.steps if step.applies(answers)]


class _Reader:
    """Reads one TOML file and reports problems with the file's name and the key's path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContentError(f"{self._name()}: file is missing") from None
        except tomllib.TOMLDecodeError as error:
            raise ContentError(f"{self._name()}: not valid TOML: {error}") from None

    def _name(self) -> str:
        try:
            return str(self.path.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(self.path)

    def fail(self, where: str, problem: str) -> ContentError:
        return ContentError(f"{self._name()}: {where}: {problem}")

    def string(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"'{key}' must be a non-empty string")
        return value.strip()

    def table(self, table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = table.get(key)
        if not isinstance(value, dict):
            raise self.fail(where, f"'{key}' must be a table")
        return value

    def ident(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(where, f"id {value!r} must be short lowercase letters, digits, - or _")
        return value

    def html(self, text: str, where: str) -> str:
        problems = html_problems(text)
        if problems:
            raise self.fail(where, "; ".join(problems))
        return text


def load_pack(directory: Path) -> Pack:
    """Load and check one pack; raises :class:`ContentError` naming the file and the step."""
    manifest = _Reader(directory / "pack.toml")
    data = manifest.data
    pack_id = manifest.ident(data.get("id"), "id")
    if pack_id != directory.name:
        raise manifest.fail("id", f"'{pack_id}' differs from the folder name '{directory.name}'")
    try:
        as_of = date.fromisoformat(manifest.string(data, "as_of", "as_of"))
    except ValueError:
        raise manifest.fail("as_of", "must be a date like 2026-11-01") from None
    locales = tuple(data.get("locales") or ())
    if not locales or any(locale not in LOCALES for locale in locales):
        raise manifest.fail("locales", f"must list some of {', '.join(LOCALES)}")
    sources = _sources(manifest)
    questions = _questions(manifest)
    steps = _steps(manifest, sources, questions)
    texts = {
        locale: _load_texts(directory / f"{locale}.toml", steps, questions, set(sources))
        for locale in locales
    }
    return Pack(
        id=pack_id,
        country=manifest.string(data, "country", "country"),
        as_of=as_of,
        locales=locales,
        sources=sources,
        questions=tuple(questions),
        steps=tuple(steps),
        texts=texts,
        founders=_founders(manifest),
    )


def _founders(manifest: _Reader) -> int | None:
    value = manifest.data.get("founders")
    if value is not None and (not isinstance(value, int) or value < 1):
        raise manifest.fail("founders", "must be a positive whole number")
    return value


def _sources(manifest: _Reader) -> dict[str, Source]:
    sources = {}
    for number, raw in enumerate(manifest.data.get("sources") or [], start=1):
        source_id = manifest.ident(raw.get("id"), f"source {number}")
        where = f"source '{source_id}'"
        url = manifest.string(raw, "url", where)
        if not url.startswith("https://"):
            raise manifest.fail(where, "url must start with https://")
        read_on = manifest.string(raw, "read_on", where)
        if not _READ_ON.match(read_on):
            raise manifest.fail(where, "read_on must be YYYY-MM or YYYY-MM-DD")
        sources[source_id] = Source(source_id, manifest.string(raw, "title", where), url, read_on)
    return sources


def _questions(manifest: _Reader) -> list[Question]:
    if not manifest.data.get("questions"):
        raise manifest.fail("questions", "a pack needs at least one question for the checklist")
    questions = []
    for raw in manifest.data.get("questions") or []:
        question_id = manifest.ident(raw.get("id"), "question")
        where = f"question '{question_id}'"
        options = tuple(manifest.ident(option, where) for option in raw.get("options", []))
        if len(options) < 2:
            raise manifest.fail(where, "needs at least two options")
        questions.append(Question(question_id, options))
    return questions


def _steps(manifest: _Reader, sources: dict[str, Source], questions: list[Question]) -> list[Step]:
    known_answers = {q.id: set(q.options) for q in questions}
    steps = []
    for raw in manifest.data.get("steps") or []:
        step_id = manifest.ident(raw.get("id"), "step")
        where = f"step '{step_id}'"
        step_sources = tuple(raw.get("sources") or ())
        if not step_sources:
            raise manifest.fail(where, "every step names at least one source")
        undefined = [source_id for source_id in step_sources if source_id not in sources]
        if undefined:
            raise manifest.fail(where, f"source '{undefined[0]}' is not defined")
        when = {}
        for question_id, allowed in (raw.get("when") or {}).items():
            if question_id not in known_answers:
                raise manifest.fail(where, f"'when' names unknown question '{question_id}'")
            unknown = set(allowed) - known_answers[question_id]
            if unknown:
                raise manifest.fail(where, f"'when' names unknown answers {sorted(unknown)}")
            when[question_id] = tuple(allowed)
        links = tuple(raw.get("links") or ())
        unknown_links = set(links) - LINK_TARGETS
        if unknown_links:
            raise manifest.fail(where, f"unknown links {sorted(unknown_links)}")
        steps.append(Step(step_id, step_sources, raw.get("document"), links, when))
    if not steps:
        raise manifest.fail("steps", "a pack needs at least one step")
    if len({s.id for s in steps}) != len(steps):
        raise manifest.fail("steps", "step ids must be unique")
    return steps


def _load_texts(
    path: Path, steps: list[Step], questions: list[Question], source_ids: set[str]
) -> PackText:
    reader = _Reader(path)
    data = reader.data
    step_texts = {}
    step_tables = data.get("steps") or {}
    for step in steps:
        where = f"step '{step.id}'"
        if step.id not in step_tables:
            raise reader.fail(where, "is missing")
        raw = step_tables[step.id]
        step_texts[step.id] = StepText(
            title=reader.html(reader.string(raw, "title", where), where),
            body=reader.html(reader.string(raw, "body", where), where),
            checklist=reader.html(reader.string(raw, "checklist", where), where),
        )
    extra = set(step_tables) - {s.id for s in steps}
    if extra:
        raise reader.fail("steps", f"steps not in pack.toml: {sorted(extra)}")
    question_texts = {}
    for question in questions:
        where = f"question '{question.id}'"
        raw = reader.table(data.get("questions") or {}, question.id, where)
        options = reader.table(raw, "options", where)
        if set(options) != set(question.options):
            raise reader.fail(where, f"options must be exactly {list(question.options)}")
        question_texts[question.id] = QuestionText(
            text=reader.string(raw, "text", where),
            options={key: reader.string(options, key, where) for key in question.options},
        )
    titles_table = data.get("sources") or {}
    unknown_sources = set(titles_table) - source_ids
    if unknown_sources:
        raise reader.fail("sources", f"titles for undefined sources {sorted(unknown_sources)}")
    source_titles = {key: reader.string(titles_table, key, "sources") for key in titles_table}
    return PackText(
        title=reader.string(data, "title", "title"),
        intro=reader.html(reader.string(data, "intro", "intro"), "intro"),
        disclaimer=reader.string(data, "disclaimer", "disclaimer"),
        steps=step_texts,
        questions=question_texts,
        source_titles=source_titles,
    )


def all_source_ids(root: Path | None = None) -> set[str]:
    """The source ids of every pack on disk, enabled or not (the FAQ may cite any of them)."""
    ids = set()
    for manifest in sorted((root or GUIDE_DIR).glob("*/pack.toml")):
        reader = _Reader(manifest)
        ids |= {str(source.get("id")) for source in reader.data.get("sources") or []}
    return ids


def load_packs(enabled: list[str], root: Path | None = None) -> dict[str, Pack]:
    """The enabled packs, in the order given (the first is the default)."""
    packs = {}
    for pack_id in enabled:
        directory = (root or GUIDE_DIR) / pack_id
        if not directory.is_dir():
            raise ContentError(f"data/guide/{pack_id}: no such guide pack (SUPOLKA_GUIDE_PACKS)")
        packs[pack_id] = load_pack(directory)
    return packs
