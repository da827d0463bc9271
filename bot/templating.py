"""One Jinja2 environment for every message template, in every language.

Templates live in ``flows/<flow>/templates/`` and are named ``<flow>/<name>.html.j2``. Output is
Telegram HTML, so autoescape is on; ``{% trans %}`` reads aiogram's current locale at render time.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from jinja2 import Environment, FileSystemLoader, PrefixLoader, StrictUndefined

from bot import PROJECT_ROOT

FLOWS_DIR = PROJECT_ROOT / "flows"


def _loaders(flows_dir: Path) -> dict[str, FileSystemLoader]:
    return {
        flow.name: FileSystemLoader(flow / "templates")
        for flow in sorted(flows_dir.iterdir())
        if (flow / "templates").is_dir()
    }


class Templates:
    """Renders ``<flow>/<name>.html.j2`` in the current locale."""

    def __init__(self, i18n: I18n, flows_dir: Path = FLOWS_DIR) -> None:
        self._i18n = i18n
        #: Templates without arguments render the same in a language every time: once.
        self._static: dict[tuple[str, str], str] = {}
        #: Templates whose arguments take a few fixed values: once per language and values.
        self._variants: dict[tuple[str, str, tuple[tuple[str, Hashable], ...]], str] = {}
        self.env = Environment(
            loader=PrefixLoader(_loaders(flows_dir)),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        # Collapse whitespace inside {% trans %} so message ids do not depend on indentation;
        # babel.cfg sets the same option for extraction.
        self.env.policies["ext.i18n.trimmed"] = True
        self.env.install_gettext_callables(  # type: ignore[attr-defined]
            # Bound methods read aiogram's current-locale ContextVar on every call.
            gettext=i18n.gettext,
            ngettext=i18n.gettext,
            newstyle=True,
        )

    def render(self, name: str, **context: Any) -> str:
        if context:
            return self.env.get_template(name).render(**context).strip()
        key = (name, self._i18n.current_locale)
        text = self._static.get(key)
        if text is None:
            text = self._static[key] = self.env.get_template(name).render().strip()
        return text

    def render_variant(self, name: str, **context: Hashable) -> str:
        """:meth:`render` for arguments that take a few fixed values (a flag, the name of a
        language): each language and set of values is rendered once and remembered.

        Never for anything a user typed or anything about one person: what is remembered stays
        in memory for the life of the process.
        """
        key = (name, self._i18n.current_locale, tuple(sorted(context.items())))
        text = self._variants.get(key)
        if text is None:
            text = self._variants[key] = self.render(name, **context)
        return text
