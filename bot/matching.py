"""Matching an enterprise name typed freely, in any script, to the directory.

Every name and alias is reduced to a *skeleton*: Unicode-normalised, case-folded, transliterated
to Latin (Belarusian і and ў, Łacinka included), legal forms removed and spelling variants
folded, so that «ААТ Беларуськалій», "Беларуськалий" and "Belaruskali" meet. An exact skeleton
is a match; otherwise rapidfuzz scores the query against every alias, once as written and once
with akanye (o→a: Новополоцк = Наваполацк).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from anyascii import anyascii
from rapidfuzz import fuzz, process

#: Legal forms and the words they abbreviate, transliterated (ru, be, en); folded like names.
_LEGAL_FORMS_RAW = (
    "oao zao ooo odo up rup kup chup pup ip pao ao npo aat zat taa dp prup "
    "jsc ojsc cjsc pjsc llc ltd rue ue plc inc co corp company "
    "otkrytoe zakrytoe aktsionernoe obshchestvo adkrytae zakrytae aktsyyanernae tavarystva "
    "respublikanskoe unitarnoe predpriyatie respublikanskae unitarnae pradpryemstva"
)
#: Spelling variants folded to one form, in this order (shch before sh, ck before ts→c).
_FOLDS = (
    ("shch", "s"),
    ("sch", "s"),
    ("ck", "k"),
    ("kh", "g"),
    ("ts", "c"),
    ("cz", "c"),
    ("zh", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("iy", "i"),
    ("ij", "i"),
    ("ii", "i"),
    ("yi", "i"),
    ("ya", "ia"),
    ("yu", "iu"),
    ("ye", "e"),
    ("y", "i"),
    ("h", "g"),
    ("w", "v"),
    ("q", "k"),
    ("x", "ks"),
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_DOUBLES = re.compile(r"([a-z])\1+")


def _fold(word: str) -> str:
    for old, new in _FOLDS:
        word = word.replace(old, new)
    return _DOUBLES.sub(r"\1", word)


LEGAL_FORMS = frozenset(_fold(word) for word in _LEGAL_FORMS_RAW.split())

#: Scores (0–100): from here the bot asks "Is it X?"; from MIDDLE it offers the top three.
HIGH = 90.0
MIDDLE = 75.0
#: The best enterprise must lead the next one by this much to be proposed alone.
MARGIN = 6.0


def skeleton(text: str) -> str:
    """The comparable form of a name: lowercase ASCII words, legal forms and variants folded."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    text = anyascii(text).lower().replace("'", "")
    words = (_fold(word) for word in _NON_WORD.split(text) if word)
    return " ".join(word for word in words if word and word not in LEGAL_FORMS)


def akanye(text: str) -> str:
    """Unstressed o written as a in Belarusian: compare both spellings as one."""
    return text.replace("o", "a")


class Confidence(StrEnum):
    EXACT = "exact"  # the skeleton is a known alias
    HIGH = "high"  # one clear candidate: ask "Is it …?"
    MIDDLE = "middle"  # a few candidates: offer them as buttons
    NONE = "none"  # nothing close: register a pending enterprise


@dataclass(frozen=True)
class Candidate:
    enterprise_id: int
    score: float


@dataclass(frozen=True)
class Lookup:
    confidence: Confidence
    candidates: tuple[Candidate, ...]


#: Aliases this short (acronyms: МТЗ, МАЗ, БМЗ) differ from others by one letter: they match
#: only exactly, never by similarity.
SHORT_ALIAS = 4
#: For "Is it …?" the query must be close to the whole alias, not just contain part of it.
WHOLE_RATIO = 85.0
#: Up to this many aliases, every one is scored. Beyond it, only aliases sharing the first two
#: letters of a word with the query are (typos rarely touch the start of a word): scoring
#: 100,000 aliases takes about 100 ms a lookup here, the shortlist about a hundredth of that.
FULL_SCAN = 5_000


class EnterpriseIndex:
    """Aliases of every enterprise, by skeleton, for exact and fuzzy lookup."""

    def __init__(self, aliases: Iterable[tuple[str, int]] = ()) -> None:
        self._exact: dict[str, int] = {}
        self._exact_akanye: dict[str, int] = {}
        self._keys: list[str] = []
        self._keys_akanye: list[str] = []
        self._owners: list[int] = []
        #: Two-letter word starts → positions in ``_keys``: the shortlist for large indexes.
        self._by_start: dict[str, list[int]] = {}
        self._places: set[str] = set()
        for alias, enterprise_id in aliases:
            self.add(alias, enterprise_id)

    def add(self, alias: str, enterprise_id: int) -> None:
        self.add_skeleton(skeleton(alias), enterprise_id)

    def add_skeleton(self, key: str, enterprise_id: int) -> None:
        """Add an alias already reduced with :func:`skeleton` (skeletons are not idempotent)."""
        if not key or key in self._exact:
            return
        self._exact[key] = enterprise_id
        self._exact_akanye.setdefault(akanye(key), enterprise_id)
        if len(key.replace(" ", "")) > SHORT_ALIAS:
            position = len(self._keys)
            self._keys.append(key)
            self._keys_akanye.append(akanye(key))
            self._owners.append(enterprise_id)
            for start in _starts(key) | _starts(akanye(key)):
                self._by_start.setdefault(start, []).append(position)

    def reassign(self, old_id: int, new_id: int) -> None:
        """Every alias of ``old_id`` now names ``new_id`` (a pending name merged into it)."""
        for table in (self._exact, self._exact_akanye):
            for key, owner in table.items():
                if owner == old_id:
                    table[key] = new_id
        self._owners = [new_id if owner == old_id else owner for owner in self._owners]

    def add_place(self, name: str) -> None:
        """A city name: people add it to the enterprise's name ("Нафтан Новополоцк")."""
        for word in skeleton(name).split():
            self._places.add(word)
            self._places.add(akanye(word))

    def __len__(self) -> int:
        return len(self._exact)

    def lookup(self, query: str, limit: int = 3) -> Lookup:
        full = skeleton(query)
        # Without the city, if anything else is left: "МТЗ Минск" is looked up as МТЗ.
        words = [
            w for w in full.split() if w not in self._places and akanye(w) not in self._places
        ]
        key = " ".join(words) or full
        if not key:
            return Lookup(Confidence.NONE, ())
        for candidate in (key, full):
            exact = self._exact.get(candidate)
            if exact is None:
                exact = self._exact_akanye.get(akanye(candidate))
            if exact is not None:
                return Lookup(Confidence.EXACT, (Candidate(exact, 100.0),))
        # Scored with and without the city: "гродно азод" without the city is too short.
        best = self._best_by_enterprise(key)
        if full != key:
            for owner, found in self._best_by_enterprise(full).items():
                if found[0] > best.get(owner, (0.0, "", ""))[0]:
                    best[owner] = found
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:limit]
        candidates = tuple(Candidate(e, score) for e, (score, _, _) in ranked if score >= MIDDLE)
        if not candidates:
            return Lookup(Confidence.NONE, ())
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
        top_score, top_alias, top_query = ranked[0][1]
        if (
            top_score >= HIGH
            and top_score - runner_up >= MARGIN
            and len(top_query.replace(" ", "")) > SHORT_ALIAS
            and _whole_match(top_query, top_alias)
        ):
            return Lookup(Confidence.HIGH, candidates[:1])
        return Lookup(Confidence.MIDDLE, candidates)

    def _best_by_enterprise(self, key: str) -> dict[int, tuple[float, str, str]]:
        """Per enterprise: its best score, the alias that gave it, and the query scored."""
        best: dict[int, tuple[float, str, str]] = {}
        if len(key.replace(" ", "")) <= SHORT_ALIAS:
            return best
        positions = self._shortlist(key)
        for keys, query in ((self._keys, key), (self._keys_akanye, akanye(key))):
            choices = keys if positions is None else {p: keys[p] for p in positions}
            for _, score, index in process.extract(
                query, choices, scorer=fuzz.WRatio, limit=20, score_cutoff=MIDDLE - 10
            ):
                owner = self._owners[index]
                if score > best.get(owner, (0.0, "", ""))[0]:
                    best[owner] = (float(score), self._keys[index], key)
        return best

    def _shortlist(self, key: str) -> set[int] | None:
        """Positions worth scoring for ``key``; None means all of them (a small index)."""
        if len(self._keys) <= FULL_SCAN:
            return None
        positions: set[int] = set()
        for start in _starts(key) | _starts(akanye(key)):
            positions.update(self._by_start.get(start, ()))
        return positions


def _starts(key: str) -> set[str]:
    """The first two letters of each word of a skeleton."""
    return {word[:2] for word in key.split() if len(word) >= 2}


def _whole_match(query: str, alias: str) -> bool:
    """Close as a whole (not a part of a longer name), and every word starting as it should.

    Typos rarely touch a word's first letter, while names that differ only there are different
    places: Пинский and Минский мясокомбинат must never be taken for each other.
    """
    if max(fuzz.ratio(query, alias), fuzz.ratio(akanye(query), akanye(alias))) < WHOLE_RATIO:
        return False
    alias_words = alias.split()
    for word in query.split():
        closest = max(alias_words, key=lambda candidate: fuzz.ratio(word, candidate))
        if closest[0] != word[0]:
            return False
    return True
