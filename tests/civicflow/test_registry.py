"""ResidentIndex: 本人確認 by similarity over matching keys, from small candidate buckets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from civicflow.models import Resident
from civicflow.registry import ResidentIndex


def resident(
    resident_id: str, name: str, kana: str, birth: dt.date, address: str, **extra: str
) -> Resident:
    return Resident(
        resident_id=resident_id,
        name=name,
        name_kana=kana,
        birth_date=birth,
        gender="女",
        postal_code="108-0023",
        address=address,
        **extra,
    )


HANAKO = resident(
    "R0001",
    "髙橋 花子",
    "タカハシ ハナコ",
    dt.date(1990, 5, 1),
    "東京都港区芝浦三丁目1-2",
    previous_address="東京都港区三田一丁目4番5号",
)
SAKIKO = resident(
    "R0002", "山﨑 咲子", "ヤマザキ サキコ", dt.date(1985, 2, 28), "東京都港区六本木6-10-1"
)
TWIN_A = resident("R0010", "渡邉 優", "ワタナベ ユウ", dt.date(2000, 1, 1), "東京都港区三田2-3-4")
TWIN_B = resident("R0009", "渡邉 優", "ワタナベ ユウ", dt.date(2000, 1, 1), "東京都港区三田2-3-4")
RESIDENTS = [HANAKO, SAKIKO, TWIN_A, TWIN_B]


@pytest.fixture(scope="module")
def index() -> ResidentIndex:
    return ResidentIndex(RESIDENTS)


@pytest.mark.parametrize(
    ("name", "kana", "birth", "address"),
    [
        ("髙橋 花子", "タカハシ ハナコ", dt.date(1990, 5, 1), "東京都港区芝浦三丁目1-2"),
        ("高橋花子", "たかはし　はなこ", dt.date(1990, 5, 1), "港区芝浦３丁目１番２号"),
        ("高橋　花子", "ﾀｶﾊｼ ﾊﾅｺ", dt.date(1990, 5, 1), "東京都港区芝浦3-1-2"),
    ],
)
def test_variants_widths_and_notations_score_100(
    index: ResidentIndex, name: str, kana: str, birth: dt.date, address: str
) -> None:
    match = index.match(name, kana, birth, address)
    assert match is not None
    assert match.resident_id == "R0001"
    assert (match.score, match.name_score, match.kana_score, match.address_score) == (
        100,
        100,
        100,
        100,
    )
    assert match.birth_date_match


def test_variant_kanji_in_the_applicants_name(index: ResidentIndex) -> None:
    match = index.match(
        "山崎 咲子", "ヤマザキ サキコ", dt.date(1985, 2, 28), "港区六本木６－１０－１"
    )
    assert match is not None
    assert (match.resident_id, match.score) == ("R0002", 100.0)


@pytest.mark.parametrize(
    ("name", "kana", "birth", "address", "lower"),
    [
        ("高橋 華子", "タカハシ ハナコ", dt.date(1990, 5, 1), "港区芝浦3-1-2", "name_score"),
        ("高橋 花子", "タカハシ ハナ", dt.date(1990, 5, 1), "港区芝浦3-1-2", "kana_score"),
        ("高橋 花子", "タカハシ ハナコ", dt.date(1990, 5, 2), "港区芝浦3-1-2", "birth_date_match"),
        ("高橋 花子", "タカハシ ハナコ", None, "港区芝浦3-1-2", "birth_date_match"),
        ("高橋 花子", "タカハシ ハナコ", dt.date(1990, 5, 1), "港区芝浦3-1-9", "address_score"),
    ],
)
def test_one_differing_part_lowers_that_score_only(
    index: ResidentIndex, name: str, kana: str, birth: dt.date | None, address: str, lower: str
) -> None:
    match = index.match(name, kana, birth, address)
    assert match is not None
    assert match.resident_id == "R0001"
    assert 50 <= match.score < 100
    parts = {
        "name_score": match.name_score == 100,
        "kana_score": match.kana_score == 100,
        "birth_date_match": match.birth_date_match,
        "address_score": match.address_score == 100,
    }
    assert [part for part, full in parts.items() if not full] == [lower]


@pytest.mark.parametrize(
    ("name", "kana", "birth"),
    [
        ("高橋 花子", "ナニカ チガウ", None),  # found through the name key
        ("全然 別人", "タカハシ ハナコ", None),  # found through the furigana key
        ("全然 別人", "ゼンゼン ベツジン", dt.date(1990, 5, 1)),  # found through the birth date
    ],
)
def test_candidates_come_from_each_bucket(name: str, kana: str, birth: dt.date | None) -> None:
    index = ResidentIndex(RESIDENTS, min_score=0)
    match = index.match(name, kana, birth, "港区芝浦3-1-2")
    assert match is not None and match.resident_id == "R0001"


def test_no_candidate_gives_none(index: ResidentIndex) -> None:
    assert index.match("山田 太郎", "ヤマダ タロウ", dt.date(1970, 1, 1), "港区芝1-2-3") is None
    assert index.match("", "", None, "") is None


def test_a_weak_candidate_is_not_offered(index: ResidentIndex) -> None:
    # same birth date and nothing else: not the same person
    assert index.match("山田 太郎", "ヤマダ タロウ", dt.date(1990, 5, 1), "港区芝1-2-3") is None


def test_previous_address_is_reported_but_not_scored(index: ResidentIndex) -> None:
    found = index.match_detail("高橋 花子", "タカハシ ハナコ", dt.date(1990, 5, 1), "港区三田1-4-5")
    assert found is not None
    assert found.match.resident_id == "R0001"
    assert found.matched_previous_address
    assert found.previous_address_score == 100
    assert found.match.address_score < 100  # against the current address
    assert found.match.score < 100
    assert found.resident is HANAKO


def test_current_address_is_not_a_move(index: ResidentIndex) -> None:
    found = index.match_detail("高橋 花子", "タカハシ ハナコ", dt.date(1990, 5, 1), "港区芝浦3-1-2")
    assert found is not None and not found.matched_previous_address


def test_ties_go_to_the_lowest_resident_id(index: ResidentIndex) -> None:
    match = index.match("渡辺 優", "ワタナベ ユウ", dt.date(2000, 1, 1), "港区三田2-3-4")
    assert match is not None and match.resident_id == "R0009"


def test_get_and_len(index: ResidentIndex) -> None:
    assert len(index) == 4
    assert index.get("R0002") is SAKIKO
    assert index.get("R9999") is None


def test_lookups_score_only_bucket_members(monkeypatch: pytest.MonkeyPatch) -> None:
    # 10,000 residents; each lookup may score only those sharing a key, never all of them
    people = [
        resident(
            f"R{i:05d}",
            f"姓{i} 名",
            f"セイ{i} メイ",
            dt.date(1940, 1, 1) + dt.timedelta(days=i * 2),
            f"港区芝浦{i % 4 + 1}-{i % 17 + 1}-{i % 23 + 1}",
        )
        for i in range(10_000)
    ]
    index = ResidentIndex(people)
    sizes: list[int] = []
    original = ResidentIndex._candidates

    def spy(self: ResidentIndex, *args: Any) -> Any:
        found = original(self, *args)
        sizes.append(len(found))
        return found

    monkeypatch.setattr(ResidentIndex, "_candidates", spy)
    for person in people[::50]:
        match = index.match(person.name, person.name_kana, person.birth_date, person.address)
        assert match is not None and match.resident_id == person.resident_id
    assert sizes == [1] * 200  # each lookup scored only its own buckets
