"""Enterprise matching: the typed-variant test set, near misses, the directory itself, and the
trigram shortlist that large directories are scored on."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.matching import KIND_OF_QUERY, LETTERS, Name, directory
from bot import PROJECT_ROOT, matching
from bot.content import ContentError
from bot.content.enterprises import COLUMNS, load_directory
from bot.matching import Confidence, EnterpriseIndex, Lookup, akanye, skeleton

DIRECTORY = load_directory()
SLUGS = {entry.slug: number for number, entry in enumerate(DIRECTORY, start=1)}
BY_NUMBER = {number: slug for slug, number in SLUGS.items()}
QUERIES = list(
    csv.DictReader(
        (PROJECT_ROOT / "tests" / "data" / "enterprise_queries.csv").open(encoding="utf-8")
    )
)


def _index() -> EnterpriseIndex:
    index = EnterpriseIndex()
    for entry in DIRECTORY:
        for alias in entry.all_names():
            index.add(alias, SLUGS[entry.slug])
        for city in (entry.city_ru, entry.city_be, entry.city_en):
            index.add_place(city)
    return index


INDEX = _index()


def test_the_directory_is_large_and_real_enough() -> None:
    assert len(DIRECTORY) >= 150
    for entry in DIRECTORY:
        assert entry.name_ru and entry.name_be and entry.name_en
        assert entry.city_ru and entry.city_be and entry.city_en


def test_the_test_set_is_large_enough() -> None:
    assert len(QUERIES) >= 200
    assert all(row["expected"] in SLUGS for row in QUERIES if row["expected"])
    assert sum(1 for row in QUERIES if not row["expected"]) >= 20


def test_top_three_recall_is_at_least_95_percent() -> None:
    known = [row for row in QUERIES if row["expected"]]
    hits = 0
    for row in known:
        found = [BY_NUMBER[c.enterprise_id] for c in INDEX.lookup(row["query"]).candidates]
        hits += row["expected"] in found[:3]
    assert hits / len(known) >= 0.95, f"recall@3 = {hits}/{len(known)}"


def test_no_wrong_auto_confirmation() -> None:
    wrong = []
    for row in QUERIES:
        result = INDEX.lookup(row["query"])
        if result.confidence in (Confidence.EXACT, Confidence.HIGH):
            found = BY_NUMBER[result.candidates[0].enterprise_id]
            if found != row["expected"]:
                wrong.append((row["query"], row["expected"], found))
    assert wrong == []


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("ОАО «Нафтан»", "Нафтан"),
        ("Naftan JSC", "Нафтан"),
        ("ААТ Беларуськалій", "Беларуськалий"),
        ("Belaruskali", "Беларуськалий"),
        ("Hrodna Azot", "Гродна Азот"),
        ("Наваполацк", "Новополоцк"),
        ("Открытое акционерное общество «БелАЗ»", "БелАЗ"),
    ],
)
def test_scripts_and_legal_forms_fold_to_one_skeleton(typed: str, same_as: str) -> None:
    assert akanye(skeleton(typed)) == akanye(skeleton(same_as))


@pytest.mark.parametrize(
    ("query", "not_this"),
    [
        ("МАЗ", "mtz"),
        ("МТЗ", "maz"),
        ("Беларусьнефть", "belaruskali"),
        ("Беларуськалий", "belarusneft"),
        ("Пинский мясокомбинат", "minsk-meat"),
    ],
)
def test_similar_names_are_never_confirmed_as_each_other(query: str, not_this: str) -> None:
    result = INDEX.lookup(query)
    if result.confidence in (Confidence.EXACT, Confidence.HIGH) and not_this in SLUGS:
        assert BY_NUMBER[result.candidates[0].enterprise_id] != not_this


def test_a_city_added_to_the_name_still_finds_it() -> None:
    result = INDEX.lookup("Нафтан Новополоцк")
    assert result.confidence == Confidence.EXACT
    assert BY_NUMBER[result.candidates[0].enterprise_id] == "naftan"


def test_nothing_close_finds_nothing() -> None:
    assert INDEX.lookup("Zxqwv Ptkrlm").confidence == Confidence.NONE
    assert INDEX.lookup("🙂🙂").confidence == Confidence.NONE


def test_an_alias_shared_by_two_enterprises_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerow(["mtz", "МТЗ", "МТЗ", "MTZ", "Минск", "Мінск", "Minsk", "трактор"])
        writer.writerow(["maz", "МАЗ", "МАЗ", "MAZ", "Минск", "Мінск", "Minsk", "Трактор"])
    with pytest.raises(
        ContentError, match=r"line 3: alias 'Трактор' of 'maz' is also a name of 'mtz'"
    ):
        load_directory(path)


# -- the shortlist: beyond FULL_SCAN aliases, only those most like the query are scored --------


@pytest.fixture(scope="module")
def synthetic() -> tuple[EnterpriseIndex, list[Name]]:
    """bench.matching's directory, with more aliases than are ever scored in full."""
    index, names, _ = directory(3_000)
    assert len(index) > matching.FULL_SCAN
    return index, names


def _full_and_shortlisted(
    index: EnterpriseIndex, query: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Lookup, Lookup]:
    """The lookup with every alias scored, and with only the shortlist scored."""
    monkeypatch.setattr(matching, "FULL_SCAN", 10**9)
    full = index.lookup(query)
    monkeypatch.setattr(matching, "FULL_SCAN", 0)
    return full, index.lookup(query)


def _finds(lookup: Lookup, enterprise_id: int) -> bool:
    return any(candidate.enterprise_id == enterprise_id for candidate in lookup.candidates)


def test_the_shortlist_answers_the_real_test_set_as_a_full_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    different = []
    for row in QUERIES:
        full, shortlisted = _full_and_shortlisted(INDEX, row["query"], monkeypatch)
        if shortlisted != full:
            different.append((row["query"], full, shortlisted))
    assert different == []


def test_on_a_large_directory_the_shortlist_answers_as_a_full_scan(
    synthetic: tuple[EnterpriseIndex, list[Name]], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, names = synthetic
    rng = random.Random(3)
    queries = [
        (make(name, rng), name) for _, make in KIND_OF_QUERY for name in rng.sample(names, 40)
    ]
    same = 0
    for query, name in queries:
        full, shortlisted = _full_and_shortlisted(index, query, monkeypatch)
        # What the bot shows first and how sure it is never differ; nor does finding the name.
        assert shortlisted.confidence == full.confidence, query
        assert shortlisted.candidates[:1] == full.candidates[:1], query
        assert _finds(shortlisted, name.enterprise_id) == _finds(full, name.enterprise_id), query
        same += shortlisted == full
    # The second and third candidates may: an alias scoring 75–90 can share few trigrams.
    assert same >= 0.9 * len(queries)


def test_a_typo_in_a_second_letter_is_found_through_the_shortlist(
    synthetic: tuple[EnterpriseIndex, list[Name]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortlist by words' first two letters, before this one, missed half of these."""
    index, names = synthetic
    monkeypatch.setattr(matching, "FULL_SCAN", 0)
    rng = random.Random(4)
    missed = []
    for name in rng.sample(names, 60):
        words = name.text.split()
        longest = max(range(len(words)), key=lambda n: len(words[n]))
        word = words[longest]
        wrong = rng.choice([c for c in LETTERS[name.script] if c != word[1].lower()])
        words[longest] = word[0] + wrong + word[2:]
        query = " ".join(words)
        if not _finds(index.lookup(query), name.enterprise_id):
            missed.append(query)
    assert missed == []


@pytest.mark.parametrize("query", ["", " ", "а", "Я", "«»", "ОАО", "№ 1", "🙂", "Zxqwv Ptkrlm"])
def test_empty_short_and_unknown_queries_find_nothing_through_the_shortlist(
    synthetic: tuple[EnterpriseIndex, list[Name]], query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, _ = synthetic
    monkeypatch.setattr(matching, "FULL_SCAN", 0)
    assert index.lookup(query) == Lookup(Confidence.NONE, ())


def test_short_aliases_match_only_exactly_through_the_shortlist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(matching, "FULL_SCAN", 0)
    index = EnterpriseIndex([("А", 1), ("МТЗ", 2), ("МАЗ", 3)])
    assert index.lookup("а").candidates[0].enterprise_id == 1
    assert index.lookup("МТЗ").candidates[0].enterprise_id == 2
    assert index.lookup("МТЗК").confidence == Confidence.NONE
    assert index.lookup("МТЗ К").confidence == Confidence.NONE
    assert EnterpriseIndex().lookup("Нафтан").confidence == Confidence.NONE


def test_aliases_added_and_reassigned_after_a_lookup_are_shortlisted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index caches bitsets between lookups: a new alias must not be left out of them."""
    monkeypatch.setattr(matching, "FULL_SCAN", 0)
    index = EnterpriseIndex([("Гродно Азот", 1), ("Беларуськалий", 2)])
    assert not _finds(index.lookup("Белагромашсервис"), 3)
    index.add("Белагромашсервис", 3)
    assert index.lookup("Белагромашсервс").candidates[0].enterprise_id == 3
    index.reassign(3, 4)
    assert index.lookup("Белагромашсервс").candidates[0].enterprise_id == 4


def test_the_shortlist_holds_the_alias_itself_and_no_more_than_asked(
    synthetic: tuple[EnterpriseIndex, list[Name]],
) -> None:
    index, names = synthetic
    checked = 0
    for name in random.Random(5).sample(names, 20):
        key = skeleton(name.text)
        if key not in index._keys:
            continue  # too short to be scored, or another enterprise's alias
        assert index._keys.index(key) in index._trigrams.shortlist(akanye(key), 10)
        shortlist = index._trigrams.shortlist(akanye(key), 50)
        assert len(set(shortlist)) == len(shortlist) == 50
        checked += 1
    assert checked >= 10


@given(st.lists(st.sets(st.integers(min_value=0, max_value=300)), max_size=40))
def test_bitsets_are_counted_as_one_by_one(sets: list[set[int]]) -> None:
    counted = matching._count(sum(1 << p for p in positions) for positions in sets)
    by_number: dict[int, list[int]] = {}
    for position in sorted(set().union(*sets)):
        by_number.setdefault(sum(position in s for s in sets), []).append(position)
    assert {n: matching._positions(bitset) for n, bitset in counted.items()} == by_number
