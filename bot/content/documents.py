"""Document templates (``data/documents/<kind>/``) rendered to DOCX files with python-docx.

``fields.toml`` lists the fields a worker may fill in the chat; ``<locale>.toml`` holds the
title, the prompts and the blocks of text with ``{field}`` placeholders. An unfilled field
prints as a line to write on by hand. Filled values live only in the file that is sent.
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Pt

from bot import PROJECT_ROOT
from bot.config import LOCALES
from bot.content import ContentError
from bot.content.guide import _Reader

DOCUMENTS_DIR = PROJECT_ROOT / "data" / "documents"
STYLES = ("title", "heading", "right", "paragraph", "signature", "note", "page_break")
BLANK = "______________________"
_FIELD_ID = re.compile(r"^[a-z][a-z_]{0,15}$")
_FILENAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$")


@dataclass(frozen=True)
class Block:
    style: str
    text: str


@dataclass(frozen=True)
class DocumentText:
    title: str
    description: str
    filename: str
    disclaimer: str
    prompts: Mapping[str, str]
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class DocumentTemplate:
    id: str
    order: int
    fields: tuple[str, ...]
    texts: Mapping[str, DocumentText]

    def text_locale(self, locale: str) -> str:
        if locale in self.texts:
            return locale
        return "en" if "en" in self.texts else next(iter(self.texts))

    def text(self, locale: str) -> DocumentText:
        return self.texts[self.text_locale(locale)]

    def render(self, locale: str, values: Mapping[str, str]) -> bytes:
        """The DOCX file, with ``values`` filled in and blanks for the rest."""
        text = self.text(locale)
        filled = {field: values.get(field) or BLANK for field in self.fields}
        document = Document()
        base = document.styles["Normal"]
        base.font.name = "Times New Roman"  # has Cyrillic and ў/і; customary for such papers
        base.font.size = Pt(13)
        for block in text.blocks:
            _add_block(document, block, block.text.format_map(filled))
        note = document.add_paragraph()
        run = note.add_run(text.disclaimer)
        run.italic = True
        run.font.size = Pt(9)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()


def _add_block(document: object, block: Block, text: str) -> None:
    if block.style == "page_break":
        document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)  # type: ignore[attr-defined]
        return
    paragraph = document.add_paragraph()  # type: ignore[attr-defined]
    run = paragraph.add_run(text)
    if block.style == "title":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run.bold = True
    elif block.style == "heading":
        run.bold = True
    elif block.style == "right":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif block.style == "paragraph":
        # Left, not justified: justification stretches the spaces around the blank lines.
        paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
    elif block.style == "note":
        run.italic = True
        run.font.size = Pt(10)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def load_document(directory: Path) -> DocumentTemplate:
    manifest = _Reader(directory / "fields.toml")
    document_id = manifest.ident(manifest.data.get("id"), "id")
    if document_id != directory.name:
        raise manifest.fail("id", f"'{document_id}' differs from the folder '{directory.name}'")
    fields = tuple(manifest.data.get("fields") or ())
    if not fields:
        raise manifest.fail("fields", "a document needs at least one field to fill in")
    for field in fields:
        if not isinstance(field, str) or not _FIELD_ID.match(field):
            raise manifest.fail("fields", f"field id {field!r} must be a-z and _, 16 at most")
    locales = tuple(manifest.data.get("locales") or ())
    if not locales or any(locale not in LOCALES for locale in locales):
        raise manifest.fail("locales", f"must list some of {', '.join(LOCALES)}")
    texts = {locale: _load_text(directory / f"{locale}.toml", fields) for locale in locales}
    order = manifest.data.get("order", 100)
    if not isinstance(order, int):
        raise manifest.fail("order", "must be a whole number (the place in the list)")
    return DocumentTemplate(document_id, order, fields, texts)


def _load_text(path: Path, fields: tuple[str, ...]) -> DocumentText:
    reader = _Reader(path)
    data = reader.data
    prompts_table = reader.table(data, "fields", "fields")
    if set(prompts_table) != set(fields):
        raise reader.fail("fields", f"prompts must be given for exactly {list(fields)}")
    prompts = {field: reader.string(prompts_table, field, "fields") for field in fields}
    blocks = []
    for number, raw in enumerate(data.get("blocks") or [], start=1):
        where = f"block {number}"
        style = raw.get("style", "paragraph")
        if style not in STYLES:
            raise reader.fail(where, f"style must be one of {', '.join(STYLES)}")
        text = raw.get("text", "")
        if not isinstance(text, str) or (style != "page_break" and not text.strip()):
            raise reader.fail(where, "'text' must be a non-empty string")
        try:
            unknown = _placeholders(text) - set(fields)
        except ValueError as error:
            raise reader.fail(where, f"bad placeholder: {error}") from None
        if unknown:
            raise reader.fail(where, f"placeholders not in fields.toml: {sorted(unknown)}")
        blocks.append(Block(style, text))
    if not blocks:
        raise reader.fail("blocks", "a document needs at least one block")
    filename = reader.string(data, "filename", "filename")
    if not _FILENAME.match(filename):
        raise reader.fail("filename", "must be lowercase ASCII letters, digits and hyphens")
    return DocumentText(
        title=reader.string(data, "title", "title"),
        description=reader.string(data, "description", "description"),
        filename=filename,
        disclaimer=reader.string(data, "disclaimer", "disclaimer"),
        prompts=prompts,
        blocks=tuple(blocks),
    )


def load_documents(root: Path = DOCUMENTS_DIR) -> dict[str, DocumentTemplate]:
    """Every document under ``data/documents``, by id, in their ``order``."""
    if not root.is_dir():
        raise ContentError(f"{root}: the documents folder is missing")
    documents = [load_document(d) for d in sorted(root.iterdir()) if d.is_dir()]
    return {document.id: document for document in sorted(documents, key=lambda d: d.order)}
