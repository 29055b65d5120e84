"""Row rules and straight-line depreciation: one tiny case per rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from civicflow.assets.export import load_layout, load_useful_life
from civicflow.assets.ledger import CellProblem, HeaderLayout, LedgerRow, LedgerSheet
from civicflow.assets.models import AssetExportConfig, AssetRecord
from civicflow.assets.validate import RuleContext, check_row, rate_permille, straight_line

FY = 2024
CONFIG = AssetExportConfig()
CTX = RuleContext(
    FY, load_layout(CONFIG.columns_path), load_useful_life(CONFIG.useful_life_path), CONFIG
)
HEADER = HeaderLayout(1, 1, 1, {}, [], {})


def sheet(unit: int = 1) -> LedgerSheet:
    units = dict.fromkeys(("cost", "accumulated_depreciation", "book_value"), unit)
    return LedgerSheet("総務部.xlsx", "施設課", "施設課", HEADER, units, [])


def row(**changes: Any) -> LedgerRow:
    base = LedgerRow(
        row=12,
        cells=[],
        asset_no="B-000001",
        name="港区役所 本庁舎",
        location="東京都港区芝公園1-5-25",
        account="建物",
        use="鉄筋コンクリート造 事務所",
        note="",
        acquired_on=dt.date(2000, 4, 1),
        acquired_on_assumed=False,
        cost=1_000_000_000,
        useful_life=None,
        accumulated_depreciation=None,
        book_value=None,
        problems=[],
    )
    return replace(base, **changes)


# --- depreciation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("years", "permille"),
    [
        (50, 20),
        (47, 22),
        (38, 27),
        (24, 42),
        (22, 46),
        (15, 67),
        (10, 100),
        (6, 167),
        (4, 250),
        (3, 334),
    ],
)
def test_rate_is_one_over_years_rounded_up(years: int, permille: int) -> None:
    assert rate_permille(years) == permille


@pytest.mark.parametrize(
    ("cost", "years", "acquired", "start", "expected"),
    [
        # 20,000,000 a year, 24 whole years FY2000 → FY2024 (none in the year of acquisition)
        (
            1_000_000_000,
            50,
            dt.date(2000, 4, 1),
            "next_fiscal_year",
            (480_000_000, 520_000_000, 20_000_000),
        ),
        (
            1_000_000_000,
            50,
            dt.date(2000, 4, 1),
            "acquisition_fiscal_year",
            (500_000_000, 500_000_000, 20_000_000),
        ),
        (
            1_000_000_000,
            50,
            dt.date(2001, 3, 31),
            "next_fiscal_year",
            (480_000_000, 520_000_000, 20_000_000),
        ),
        (1_000_000_000, 50, dt.date(2024, 4, 1), "next_fiscal_year", (0, 1_000_000_000, 0)),
        (
            1_000_000_000,
            50,
            dt.date(2025, 3, 31),
            "acquisition_fiscal_year",
            (20_000_000, 980_000_000, 20_000_000),
        ),
        (
            1_000_000_000,
            50,
            dt.date(2024, 3, 31),
            "next_fiscal_year",
            (20_000_000, 980_000_000, 20_000_000),
        ),
        # fully depreciated: carried at ¥1 (備忘価額), nothing more this year
        (600_000, 6, dt.date(2010, 4, 1), "next_fiscal_year", (599_999, 1, 0)),
        # the year it reaches ¥1 the charge is what was left: 599,999 − 5 × 100,200
        (600_000, 6, dt.date(2018, 4, 1), "next_fiscal_year", (599_999, 1, 98_999)),
        (
            333_333,
            6,
            dt.date(2023, 4, 1),
            "next_fiscal_year",
            (55_666, 277_667, 55_666),
        ),  # 1円未満切捨て
        (1, 60, dt.date(1990, 4, 1), "next_fiscal_year", (0, 1, 0)),  # 道路敷地 at ¥1
    ],
)
def test_straight_line(
    cost: int, years: int, acquired: dt.date, start: str, expected: tuple[int, int, int]
) -> None:
    figures = straight_line(cost, years, acquired, FY, start=start)
    assert (figures.accumulated, figures.book_value, figures.for_year) == expected
    assert figures.accumulated + figures.book_value == cost


def test_land_is_not_depreciated() -> None:
    figures = straight_line(5_000_000_000, None, dt.date(1970, 4, 1), FY)
    assert (figures.accumulated, figures.book_value, figures.for_year) == (0, 5_000_000_000, 0)


# --- rules -------------------------------------------------------------------------------------------
def test_clean_row_takes_useful_life_and_use_name_from_the_table() -> None:
    record = check_row(row(use="ＲＣ造・庁舎"), sheet(), CTX)
    assert isinstance(record, AssetRecord)
    assert (record.useful_life, record.use, record.account) == (
        50,
        "鉄筋コンクリート造 事務所",
        "建物",
    )
    assert (record.accumulated_depreciation, record.book_value) == (480_000_000, 520_000_000)
    assert (record.source.workbook, record.source.sheet, record.source.row) == (
        "総務部.xlsx",
        "施設課",
        12,
    )


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({"acquired_on": None}, ["missing_value"]),
        ({"asset_no": ""}, ["missing_value"]),
        ({"name": ""}, ["missing_value"]),
        ({"cost": None}, ["missing_value"]),
        ({"account": ""}, ["missing_value"]),
        ({"location": ""}, ["missing_value"]),  # 建物 needs 所在地
        (
            {
                "acquired_on": None,
                "problems": [CellProblem("acquired_on", "invalid_date", "令和3年2月30日")],
            },
            ["invalid_date"],
        ),
        ({"acquired_on": dt.date(2025, 4, 1)}, ["acquired_after_year_end"]),
        ({"cost": -1_200_000}, ["negative_amount"]),
        ({"accumulated_depreciation": -5}, ["negative_amount"]),
        (
            {"cost": None, "problems": [CellProblem("cost", "invalid_amount", "不明")]},
            ["invalid_amount"],
        ),
        ({"account": "無形固定資産"}, ["unknown_account"]),
        ({"account": "物品", "use": "ドローン", "location": ""}, ["unknown_useful_life"]),
        (
            {"problems": [CellProblem("useful_life", "invalid_useful_life", "六年")]},
            ["invalid_useful_life"],
        ),
        ({"account": "土地", "use": "", "accumulated_depreciation": 100}, ["land_depreciated"]),
        ({"accumulated_depreciation": 480_002_000}, ["depreciation_mismatch"]),
        ({"book_value": 519_998_999}, ["book_value_mismatch"]),
        (
            {"accumulated_depreciation": 400_000_000, "book_value": 600_000_000},
            ["depreciation_mismatch", "book_value_mismatch"],
        ),
        ({"useful_life": 38, "accumulated_depreciation": 480_000_000}, ["depreciation_mismatch"]),
        (
            {"account": "物品", "use": "複合機", "location": "", "cost": 499_999},
            ["below_capitalisation_threshold"],
        ),
        (
            {"account": "車両", "use": "公用車", "location": "", "cost": 300_000},
            ["below_capitalisation_threshold"],
        ),
        ({"name": "庁" * 101}, ["too_long"]),
    ],
)
def test_rule(changes: dict[str, Any], codes: list[str]) -> None:
    reasons = check_row(row(**changes), sheet(), CTX)
    assert isinstance(reasons, list)
    assert [r.code for r in reasons] == codes
    for reason in reasons:
        assert reason.message_ja.startswith("「施設課」シート12行目: ")
        assert reason.message_en.startswith("Sheet '施設課', row 12: ")
        assert reason.severity == "reject"


@pytest.mark.parametrize(
    "changes",
    [
        {"account": "物品", "use": "ドローン", "location": "", "cost": 900_000, "useful_life": 5},
        {"account": "物品", "use": "複合機", "location": "", "cost": 500_000},  # at the threshold
        {"account": "構築物", "use": "遊具"},  # an account alias
        {"accumulated_depreciation": 480_001_000, "book_value": 519_999_000},  # within ¥1,000
        {"account": "土地", "use": "", "useful_life": 50, "accumulated_depreciation": 0},
        {"account": "物品", "use": "エアコン", "location": "", "cost": 600_000,
         "acquired_on": dt.date(2010, 4, 1), "accumulated_depreciation": 600_000, "book_value": 0},
    ],
)  # fmt: skip
def test_accepted(changes: dict[str, Any]) -> None:
    assert isinstance(check_row(row(**changes), sheet(), CTX), AssetRecord)


def test_fully_depreciated_asset_is_exported_at_one_yen() -> None:
    record = check_row(
        row(
            account="物品",
            use="エアコン",
            location="",
            cost=600_000,
            acquired_on=dt.date(2010, 4, 1),
        ),
        sheet(),
        CTX,
    )
    assert isinstance(record, AssetRecord)
    assert (record.accumulated_depreciation, record.book_value, record.useful_life) == (
        599_999,
        1,
        6,
    )


def test_land_ignores_a_useful_life_written_by_mistake() -> None:
    record = check_row(row(account="用地", use="", useful_life=50), sheet(), CTX)
    assert isinstance(record, AssetRecord)
    assert (record.account, record.useful_life, record.book_value) == ("土地", None, 1_000_000_000)


def test_thousand_yen_ledger_is_allowed_its_rounding() -> None:
    strict = RuleContext(
        FY, CTX.layout, CTX.table, CONFIG.model_copy(update={"depreciation_tolerance_yen": 0})
    )
    off_by_rounding = row(accumulated_depreciation=480_000_600)
    assert isinstance(check_row(off_by_rounding, sheet(unit=1000), strict), AssetRecord)
    assert [r.code for r in check_row(off_by_rounding, sheet(unit=1), strict)] == [  # type: ignore[union-attr]
        "depreciation_mismatch"
    ]


def test_capitalisation_threshold_is_a_setting() -> None:
    config = CONFIG.model_copy(update={"capitalisation_thresholds_yen": {"物品": 1_000_000}})
    ctx = RuleContext(FY, CTX.layout, CTX.table, config)
    reasons = check_row(row(account="物品", use="複合機", location="", cost=800_000), sheet(), ctx)
    assert [r.code for r in reasons] == ["below_capitalisation_threshold"]  # type: ignore[union-attr]
    assert "1,000,000円" in reasons[0].message_ja  # type: ignore[index]
