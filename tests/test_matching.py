"""Enterprise matching: the typed-variant test set, near misses, and the directory itself."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.content import ContentError
from bot.content.enterprises import COLUMNS, load_directory
from bot.matching import Confidence, EnterpriseIndex, akanye, skeleton

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
