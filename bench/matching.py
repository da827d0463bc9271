"""Enterprise lookup latency with 1k, 10k and 100k aliases (issue 8, item 3: p99 < 10 ms at 100k).

    .venv/bin/python -m bench.matching [queries per kind] [sizes…]
    (make bench: 300 queries of each kind at 1,000, 10,000 and 100,000 aliases;
    make bench-quick: 60 of each kind)

The directory is synthetic but shaped like the real one (data/enterprises.csv): each enterprise
has a Russian, a Belarusian and a Latin name, made of a city adjective and a kind of works
("Гомельский мясокомбинат", numbered ones such as "Строительный трест № 12"), or of a
compound brand ("Белагромашсервис"), sometimes with the city. Aliases are added with
``EnterpriseIndex.add`` until the index holds the wanted number of distinct skeletons.

Queries are typed the way people type them: **exact** (a name as written, often with a legal
form, quotes, other case or the city), **misspelt** (one or two typos, never on a word's first
letter), and **partial** (a word left out or cut short). Each query is timed on its own; "found"
is the share whose intended enterprise is among the candidates returned.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.matching import Confidence, EnterpriseIndex, skeleton

TARGET_ALIASES = 100_000
TARGET_MS = 10

# (Russian, Belarusian, Latin)
Triple = tuple[str, str, str]

CITIES: list[tuple[Triple, Triple]] = [  # (the city, its adjective)
    (("Минск", "Мінск", "Minsk"), ("Минский", "Мінскі", "Minsk")),
    (("Гомель", "Гомель", "Gomel"), ("Гомельский", "Гомельскі", "Gomel")),
    (("Брест", "Брэст", "Brest"), ("Брестский", "Брэсцкі", "Brest")),
    (("Гродно", "Гродна", "Grodno"), ("Гродненский", "Гродзенскі", "Grodno")),
    (("Витебск", "Віцебск", "Vitebsk"), ("Витебский", "Віцебскі", "Vitebsk")),
    (("Могилёв", "Магілёў", "Mogilev"), ("Могилёвский", "Магілёўскі", "Mogilev")),
    (("Бобруйск", "Бабруйск", "Bobruisk"), ("Бобруйский", "Бабруйскі", "Bobruisk")),
    (("Борисов", "Барысаў", "Borisov"), ("Борисовский", "Барысаўскі", "Borisov")),
    (("Пинск", "Пінск", "Pinsk"), ("Пинский", "Пінскі", "Pinsk")),
    (("Лида", "Ліда", "Lida"), ("Лидский", "Лідскі", "Lida")),
    (("Орша", "Орша", "Orsha"), ("Оршанский", "Аршанскі", "Orsha")),
    (("Полоцк", "Полацк", "Polotsk"), ("Полоцкий", "Полацкі", "Polotsk")),
    (("Мозырь", "Мазыр", "Mozyr"), ("Мозырский", "Мазырскі", "Mozyr")),
    (("Слуцк", "Слуцк", "Slutsk"), ("Слуцкий", "Слуцкі", "Slutsk")),
    (("Жлобин", "Жлобін", "Zhlobin"), ("Жлобинский", "Жлобінскі", "Zhlobin")),
    (("Солигорск", "Салігорск", "Soligorsk"), ("Солигорский", "Салігорскі", "Soligorsk")),
    (("Барановичи", "Баранавічы", "Baranovichi"), ("Барановичский", "Баранавіцкі", "Baranovichi")),
    (("Молодечно", "Маладзечна", "Molodechno"), ("Молодечненский", "Маладзечанскі", "Molodechno")),
    (
        ("Светлогорск", "Светлагорск", "Svetlogorsk"),
        ("Светлогорский", "Светлагорскі", "Svetlogorsk"),
    ),
    (("Речица", "Рэчыца", "Rechitsa"), ("Речицкий", "Рэчыцкі", "Rechitsa")),
    (("Кобрин", "Кобрын", "Kobrin"), ("Кобринский", "Кобрынскі", "Kobrin")),
    (("Новополоцк", "Наваполацк", "Novopolotsk"), ("Новополоцкий", "Наваполацкі", "Novopolotsk")),
    (("Жодино", "Жодзіна", "Zhodino"), ("Жодинский", "Жодзінскі", "Zhodino")),
    (("Слоним", "Слонім", "Slonim"), ("Слонимский", "Слонімскі", "Slonim")),
    (("Волковыск", "Ваўкавыск", "Volkovysk"), ("Волковысский", "Ваўкавыскі", "Volkovysk")),
    (("Осиповичи", "Асіповічы", "Osipovichi"), ("Осиповичский", "Асіповіцкі", "Osipovichi")),
    (
        ("Калинковичи", "Калінкавічы", "Kalinkovichi"),
        ("Калинковичский", "Калінкавіцкі", "Kalinkovichi"),
    ),
    (("Сморгонь", "Смаргонь", "Smorgon"), ("Сморгонский", "Смаргонскі", "Smorgon")),
    (("Новогрудок", "Навагрудак", "Novogrudok"), ("Новогрудский", "Навагрудскі", "Novogrudok")),
    (("Рогачёв", "Рагачоў", "Rogachev"), ("Рогачёвский", "Рагачоўскі", "Rogachev")),
    (("Горки", "Горкі", "Gorki"), ("Горецкий", "Горацкі", "Gorki")),
    (("Кричев", "Крычаў", "Krichev"), ("Кричевский", "Крычаўскі", "Krichev")),
]

KINDS: list[Triple] = [
    ("мясокомбинат", "мясакамбінат", "Meat Plant"),
    ("молочный комбинат", "малочны камбінат", "Dairy"),
    ("хлебозавод", "хлебазавод", "Bakery"),
    ("ремонтный завод", "рамонтны завод", "Repair Plant"),
    ("домостроительный комбинат", "домабудаўнічы камбінат", "House-Building Plant"),
    ("швейная фабрика", "швейная фабрыка", "Garment Factory"),
    ("станкостроительный завод", "станкабудаўнічы завод", "Machine-Tool Plant"),
    ("консервный завод", "кансервавы завод", "Cannery"),
    ("ликёро-водочный завод", "лікёра-гарэлачны завод", "Distillery"),
    ("обувная фабрика", "абутковая фабрыка", "Shoe Factory"),
    ("завод железобетонных изделий", "завод жалезабетонных вырабаў", "Concrete Products Plant"),
    ("комбинат строительных материалов", "камбінат будаўнічых матэрыялаў", "Building Materials"),
    ("электротехнический завод", "электратэхнічны завод", "Electrical Plant"),
    ("приборостроительный завод", "прыборабудаўнічы завод", "Instrument Plant"),
    ("мебельная фабрика", "мэблевая фабрыка", "Furniture Factory"),
    ("льнозавод", "ільнозавод", "Flax Mill"),
    ("сахарный комбинат", "цукровы камбінат", "Sugar Plant"),
    ("стекольный завод", "шкляны завод", "Glass Works"),
    ("лесхоз", "лясгас", "Forestry"),
    ("райагросервис", "райаграсэрвіс", "Agroservice"),
    ("водоканал", "водаканал", "Vodokanal"),
    ("тепловые сети", "цеплавыя сеткі", "Heating Network"),
    ("автокомбинат", "аўтакамбінат", "Motor Depot"),
    ("комбинат хлебопродуктов", "камбінат хлебапрадуктаў", "Grain Products"),
]
NUMBERED: list[Triple] = [
    ("строительный трест №", "будаўнічы трэст №", "Construction Trust No."),
    ("автобусный парк №", "аўтобусны парк №", "Bus Depot No."),
    ("городская больница №", "гарадская бальніца №", "City Hospital No."),
    ("средняя школа №", "сярэдняя школа №", "Secondary School No."),
    ("ДРСУ №", "ДРБУ №", "Road Repair Unit No."),
    ("ПМК №", "ПМК №", "Mobile Unit No."),
]
PREFIXES: list[Triple] = [
    ("Бел", "Бел", "Bel"),
    ("Гомель", "Гомель", "Gomel"),
    ("Брест", "Брэст", "Brest"),
    ("Гродно", "Гродна", "Grodno"),
    ("Витебск", "Віцебск", "Vitebsk"),
    ("Могилёв", "Магілёў", "Mogilev"),
    ("Минск", "Мінск", "Minsk"),
    ("Полесье", "Палессе", "Polesie"),
    ("Днепр", "Дняпро", "Dnepr"),
    ("Неман", "Нёман", "Neman"),
    ("Двина", "Дзвіна", "Dvina"),
    ("Запад", "Захад", "Zapad"),
]
ROOTS: list[Triple] = [
    ("агро", "агра", "agro"),
    ("хим", "хім", "khim"),
    ("маш", "маш", "mash"),
    ("строй", "буд", "stroy"),
    ("тех", "тэх", "tekh"),
    ("лес", "лес", "les"),
    ("пром", "прам", "prom"),
    ("торг", "гандаль", "torg"),
    ("транс", "транс", "trans"),
    ("энерго", "энерга", "energo"),
    ("нефть", "нафта", "neft"),
    ("газ", "газ", "gaz"),
    ("авто", "аўта", "avto"),
    ("электро", "электра", "elektro"),
    ("мет", "мет", "met"),
    ("лит", "літ", "lit"),
    ("текс", "тэкс", "teks"),
    ("мебель", "мэбля", "mebel"),
    ("фарм", "фарм", "farm"),
    ("мед", "мед", "med"),
    ("молоко", "малако", "moloko"),
    ("мясо", "мяса", "myaso"),
    ("хлеб", "хлеб", "khleb"),
    ("сталь", "сталь", "stal"),
    ("бумага", "папера", "bumaga"),
    ("пласт", "пласт", "plast"),
    ("стекло", "шкло", "steklo"),
    ("кабель", "кабель", "kabel"),
    ("прибор", "прыбор", "pribor"),
    ("радио", "радыё", "radio"),
]
SUFFIXES: list[Triple] = [
    ("", "", ""),
    ("сервис", "сэрвіс", "servis"),
    ("комплект", "камплект", "komplekt"),
    ("монтаж", "мантаж", "montazh"),
    ("проект", "праект", "proekt"),
    ("снаб", "снаб", "snab"),
    ("ресурс", "рэсурс", "resurs"),
    ("инвест", "інвест", "invest"),
    ("продукт", "прадукт", "produkt"),
    ("холдинг", "холдынг", "holding"),
]
LEGAL: Triple = (
    "ОАО ЗАО ООО УП РУП КУП ЧУП ОДО",
    "ААТ ЗАТ ТАА УП РУП КУП ПУП",
    "JSC OJSC LLC Ltd",
)
#: Letters a typo may bring in, per script.
LETTERS = (
    "абвгдежзийклмнопрстуфхцчшыэюя",
    "абвгдежзійклмнопрстуўфхцчшыэюя",
    "abcdefghiklmnoprstuvyz",
)


@dataclass(frozen=True)
class Name:
    enterprise_id: int
    text: str
    script: int  # 0 ru, 1 be, 2 latin
    city: str


def enterprise(rng: random.Random) -> tuple[list[str], tuple[str, str, str]]:
    """Three names (ru, be, latin) of one synthetic enterprise, and its city."""
    city, adjective = rng.choice(CITIES)
    roll = rng.random()
    if roll < 0.35:
        kind = rng.choice(KINDS)
        names = [f"{adjective[s]} {kind[s]}" for s in (0, 1)]
        names.append(f"{adjective[2]} {kind[2]}")
    elif roll < 0.55:
        kind, number = rng.choice(NUMBERED), rng.randint(1, 120)
        names = [f"{kind[s]} {number} {city[s]}" for s in range(3)]
        names[0] = names[0][0].upper() + names[0][1:]
        names[1] = names[1][0].upper() + names[1][1:]
    else:
        prefix, root, suffix = rng.choice(PREFIXES), rng.choice(ROOTS), rng.choice(SUFFIXES)
        extra = rng.choice(ROOTS) if rng.random() < 0.6 else ("", "", "")
        names = [(prefix[s] + root[s] + extra[s] + suffix[s]).capitalize() for s in range(3)]
        if rng.random() < 0.3:
            names = [f"{n} {city[s]}" for s, n in enumerate(names)]
    return names, city


def directory(size: int, seed: int = 8) -> tuple[EnterpriseIndex, list[Name], float]:
    """An index of ``size`` distinct aliases, the names behind it, and the seconds the index
    took to build from skeletons, as ``Services.open`` builds it from the database."""
    rng = random.Random(seed)
    names: list[Name] = []
    aliases: dict[str, int] = {}
    cities: set[str] = set()
    seen: set[str] = set()
    while len(aliases) < size:
        texts, city = enterprise(rng)
        keys = [skeleton(t) for t in texts]
        # The same name drawn twice (with or without the city) is one enterprise, not two.
        bare = {skeleton(t.replace(c, "")) for t, c in zip(texts, city, strict=True)}
        if not seen.isdisjoint([*keys, *bare]):
            continue
        seen.update(keys, bare)
        enterprise_id = names[-1].enterprise_id + 1 if names else 1
        for script, (text, key) in enumerate(zip(texts, keys, strict=True)):
            aliases.setdefault(key, enterprise_id)
            names.append(Name(enterprise_id, text, script, city[script]))
        cities.update(city)
    started = time.perf_counter()
    index = EnterpriseIndex()
    for key, enterprise_id in aliases.items():
        index.add_skeleton(key, enterprise_id)
    for city_name in cities:
        index.add_place(city_name)
    return index, names, time.perf_counter() - started


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def typo(word: str, letters: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # a letter left out
        return word[:at] + word[at + 1 :]
    if kind == 1:  # two letters swapped
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == 2:  # a letter doubled
        return word[:at] + word[at] + word[at:]
    return word[:at] + rng.choice(letters) + word[at + 1 :]  # a wrong letter


def exact(name: Name, rng: random.Random) -> str:
    text = name.text
    roll = rng.random()
    if roll < 0.4:
        text = f"{rng.choice(LEGAL[name.script].split())} «{text}»"
    elif roll < 0.6:
        text = text.lower()
    elif roll < 0.8 and name.city not in text:
        text = f"{text} {name.city}"
    return text


def misspelt(name: Name, rng: random.Random) -> str:
    words = name.text.split()
    letters = LETTERS[name.script]
    long = [n for n, w in enumerate(words) if len(w) >= 5] or [0]
    for _ in range(1 if rng.random() < 0.6 else 2):
        n = rng.choice(long)
        words[n] = typo(words[n], letters, rng)
    return " ".join(words).lower() if rng.random() < 0.5 else " ".join(words)


def partial(name: Name, rng: random.Random) -> str:
    words = name.text.split()
    if len(words) > 2 and rng.random() < 0.7:
        del words[rng.randrange(1, len(words))]  # "Гомельский комбинат", "школа № Лида"
        return " ".join(words)
    longest = max(range(len(words)), key=lambda n: len(words[n]))
    cut = max(4, round(len(words[longest]) * rng.uniform(0.6, 0.85)))
    words[longest] = words[longest][:cut]  # the longest word cut short: "Белагромашсерв"
    return " ".join(words)


KIND_OF_QUERY: list[tuple[str, Callable[[Name, random.Random], str]]] = [
    ("exact", exact),
    ("misspelt", misspelt),
    ("partial", partial),
]


def measure(size: int, per_kind: int) -> dict[str, tuple[list[float], float]]:
    index, names, built = directory(size)
    rng = random.Random(size)
    print(
        f"{len(index):,} aliases ({names[-1].enterprise_id:,} enterprises),"
        f" index built from skeletons in {built:.2f} s"
    )
    results: dict[str, tuple[list[float], float]] = {}
    for label, make in KIND_OF_QUERY:
        timings: list[float] = []
        found = 0
        for name in rng.sample(names, per_kind):
            query = make(name, rng)
            started = time.perf_counter()
            lookup = index.lookup(query)
            timings.append(time.perf_counter() - started)
            if lookup.confidence is not Confidence.NONE and any(
                c.enterprise_id == name.enterprise_id for c in lookup.candidates
            ):
                found += 1
        results[label] = (timings, found / per_kind)
    every = [t for timings, _ in results.values() for t in timings]
    for label, (timings, share) in [*results.items(), ("all", (every, -1.0))]:
        print(
            f"  {label:>8}: p50 {quantile(timings, 0.5) * 1000:6.2f} ms,"
            f" p99 {quantile(timings, 0.99) * 1000:6.2f} ms,"
            f" max {max(timings) * 1000:6.2f} ms" + (f", found {share:.0%}" if share >= 0 else "")
        )
    return results


def main(per_kind: int, sizes: list[int]) -> None:
    results: dict[str, tuple[list[float], float]] = {}
    for size in sizes:
        results = measure(size, per_kind)
    every = [t for timings, _ in results.values() for t in timings]
    p99 = quantile(every, 0.99) * 1000
    if sizes[-1] >= TARGET_ALIASES:
        verdict = "met" if p99 < TARGET_MS else "not met"
        print(
            f"target p99 < {TARGET_MS} ms at {TARGET_ALIASES:,} aliases: {verdict}"
            f" (p99 {p99:.1f} ms over {len(every):,} queries)"
        )
    else:
        print(f"(the target, p99 < {TARGET_MS} ms, is at {TARGET_ALIASES:,} aliases)")


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:]]
    main(numbers[0] if numbers else 300, numbers[1:] or [1_000, 10_000, 100_000])
