"""Matching an enterprise name typed freely, in any script, to the directory.

Every name and alias is reduced to a *skeleton*: Unicode-normalised, case-folded, transliterated
to Latin (Belarusian і and ў, Łacinka included), legal forms removed and spelling variants
folded, so that «ААТ Беларуськалій», "Беларуськалий" and "Belaruskali" meet. An exact skeleton
is a match; otherwise rapidfuzz scores the query against the aliases, once as written and once
with akanye (o→a: Новополоцк = Наваполацк). A small directory (the real one has about 800
aliases) is scored in full; a large one only on a shortlist of the aliases sharing the most
character trigrams with the query (:class:`_Trigrams`).
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
#: Up to this many aliases every one is scored (the real directory has about 800): results are
#: then exactly rapidfuzz's over the whole directory, in about 1 ms at 1,000 aliases. Beyond it,
#: only a shortlist is (:class:`_Trigrams`): a full scan of 100,000 takes about 100 ms.
FULL_SCAN = 2_000
#: Aliases on the shortlist. rapidfuzz keeps the best 20 of each pass and the bot shows three
#: enterprises, so a few hundred leave room. Of 1,200 synthetic queries against 100,000 aliases
#: (bench.matching's), the shortlist lost one enterprise that a full scan found, and put another
#: first 6 times: 5 of them ties at 90 among dozens of aliases.
SHORTLIST = 200


class EnterpriseIndex:
    """Aliases of every enterprise, by skeleton, for exact and fuzzy lookup."""

    def __init__(self, aliases: Iterable[tuple[str, int]] = ()) -> None:
        self._exact: dict[str, int] = {}
        self._exact_akanye: dict[str, int] = {}
        self._keys: list[str] = []
        self._keys_akanye: list[str] = []
        self._owners: list[int] = []
        #: Trigrams → positions in ``_keys``: the shortlist for large indexes, kept at any size
        #: (a few milliseconds for the real directory) so that adding an alias stays cheap.
        self._trigrams = _Trigrams()
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
            self._trigrams.add(akanye(key), position)

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

    def _shortlist(self, key: str) -> list[int] | None:
        """Positions in ``_keys`` worth scoring for ``key``; None means all of them."""
        if len(self._keys) <= FULL_SCAN:
            return None
        # In their order in ``_keys``, so that equal scores come out as in a full scan.
        return sorted(self._trigrams.shortlist(akanye(key), SHORTLIST))


class _Trigrams:
    """Which aliases share how many character trigrams with a query: an inverted index.

    The aliases most like a query share most of its trigrams, and a typo spoils only the few
    around it (the shortlist by words' first two letters that this replaced missed names with
    a typo in a word's second letter). Both sides are indexed with akanye, so that one
    shortlist serves both of rapidfuzz's passes.

    Each trigram keeps a bitset of the aliases that have it (bit *p*: the alias at position *p*
    in ``EnterpriseIndex._keys``), so that aliases are counted a whole bitset at a time. At
    100,000 aliases a query's trigrams are in some 160,000 alias positions: counting them one
    by one, even with ``collections.Counter``, takes about 8 ms; counting only for the rarer
    trigrams is fast, but a typo makes rare trigrams of its own and the name goes uncounted.
    Bitsets are ``bytearray``s so that adding an alias sets one bit in place; a lookup turns the
    query's into integers, whose ``&``, ``|`` and ``^`` take about a microsecond on 100,000 bits.
    """

    def __init__(self) -> None:
        #: Trigram → the aliases that have it.
        self._having: dict[str, bytearray] = {}
        #: Number of distinct trigrams → the aliases that have that many.
        self._sized: dict[int, bytearray] = {}
        #: ``_sized`` as integers, made again after an alias is added.
        self._sized_ints: dict[int, int] | None = None

    def add(self, key: str, position: int) -> None:
        grams = _trigrams(key)
        bitsets = [self._having.setdefault(gram, bytearray()) for gram in grams]
        bitsets.append(self._sized.setdefault(len(grams), bytearray()))
        byte, bit = divmod(position, 8)
        for bitset in bitsets:
            if len(bitset) <= byte:  # positions only grow: pad up to this one's byte
                bitset.extend(bytes(byte + 1 - len(bitset)))
            bitset[byte] |= 1 << bit
        self._sized_ints = None

    def shortlist(self, key: str, size: int) -> list[int]:
        """Up to ``size`` positions of the aliases most like ``key``.

        The aliases are grouped by the number of trigrams they share with ``key`` and by their
        own number of trigrams, which together make their likeness; groups are taken best first.
        Of a group that does not fit whole, the aliases added first are taken.
        """
        grams = _trigrams(key)
        shared = _count(
            int.from_bytes(self._having[gram], "little") for gram in grams if gram in self._having
        )
        # A group's likeness: the trigrams shared, times what each is worth at the aliases' size.
        weights = {own: _likeness_per_trigram(len(grams), own) for own in self._sized}
        groups = sorted(
            (
                (count * weight, count, own)
                for count in shared
                for own, weight in weights.items()
                if count <= own
            ),
            reverse=True,
        )
        if self._sized_ints is None:
            self._sized_ints = {
                number: int.from_bytes(bitset, "little") for number, bitset in self._sized.items()
            }
        chosen, found = 0, 0
        for _, count, own in groups:
            group = shared[count] & self._sized_ints[own]
            if not group:
                continue
            in_group = group.bit_count()
            if found + in_group >= size:
                return _positions(chosen) + _positions(group)[: size - found]
            chosen |= group
            found += in_group
        return _positions(chosen)


def _likeness_per_trigram(query: int, alias: int) -> float:
    """How like a query an alias looks for each trigram they share, by their numbers of them.

    It mimics rapidfuzz's ``WRatio``, which the shortlist is then scored with: the better of a
    whole-to-whole likeness (Dice's coefficient, for ``ratio``) and how much of the shorter one
    is in the longer one, scaled by 0.9 as ``WRatio`` scales ``partial_ratio``. Without the
    second, an alias inside a longer query ("Гомельхлеб" in "Гомельхлебприборресурс") or a query
    cut short ("Белагромаш") can rank below hundreds of merely similar aliases.
    """
    return max(2 / (query + alias), 0.9 / min(query, alias))


def _count(bitsets: Iterable[int]) -> dict[int, int]:
    """For each number *n* ≥ 1, a bitset of the positions set in exactly *n* of ``bitsets``.

    The numbers are added up bit-sliced: ``planes[i]`` holds bit *i* of every position's
    number, and adding a bitset is a ripple-carry addition done for every position at once.
    Then the planes are read, most significant first, to sort the positions by number.
    """
    planes: list[int] = []
    for bitset in bitsets:
        carry = bitset
        for i, plane in enumerate(planes):
            planes[i] = plane ^ carry
            carry &= plane
            if not carry:
                break
        else:
            planes.append(carry)
    # Every position starts at 0; each plane, read, takes a number n to 2n or to 2n + 1.
    having = {0: (1 << max((plane.bit_length() for plane in planes), default=0)) - 1}
    for plane in reversed(planes):
        read: dict[int, int] = {}
        for number, bitset in having.items():
            ones = bitset & plane
            if ones:
                read[2 * number + 1] = ones
            if ones != bitset:
                read[2 * number] = bitset ^ ones
        having = read
    having.pop(0, None)
    return having


_NONZERO = re.compile(rb"[^\x00]")
#: The bits set in each value of a byte.
_BITS = tuple(tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256))


def _positions(bitset: int) -> list[int]:
    """The positions set in a bitset, in order (a regular expression skips the empty bytes)."""
    data = bitset.to_bytes((bitset.bit_length() + 7) // 8, "little")
    positions: list[int] = []
    for match in _NONZERO.finditer(data):
        start = match.start()
        positions.extend(8 * start + bit for bit in _BITS[data[start]])
    return positions


def _trigrams(key: str) -> set[str]:
    """The trigrams of a skeleton, with a space around it so that words' ends count too."""
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


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
