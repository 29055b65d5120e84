"""実績管理 ledger: month sheets accumulate, 集計 counts, staff sheets survive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from civicflow.documents.childcare import (
    LEDGER_HEADER,
    SUMMARY_HEADER,
    entered_on,
    update_performance_ledger,
)
from civicflow.documents.excel import WAREKI_DATE_FORMAT
from civicflow.errors import PermanentError
from civicflow.models import CaseRow

CaseFactory = Callable[..., CaseRow]
APRIL = dt.datetime(2024, 4, 3, 1, 0, tzinfo=dt.UTC)
MAY = dt.datetime(2024, 5, 8, 1, 0, tzinfo=dt.UTC)
P2 = {"provider_id": "P002", "provider_name": "一般社団法人ドゥーラ協会東京"}


def sheet_values(path: Path, title: str) -> list[tuple[object, ...]]:
    """Every row of one sheet, as values."""
    wb = load_workbook(path)
    return [tuple(row) for row in wb[title].iter_rows(values_only=True)]


@pytest.fixture
def april(make_case: CaseFactory) -> list[CaseRow]:
    return [
        make_case(2, entered_at=APRIL),
        make_case(1, entered_at=APRIL),
        make_case(3, entered_at=APRIL, hours_cap=30, service="産後ドゥーラ", **P2),
    ]


@pytest.fixture
def may(make_case: CaseFactory) -> list[CaseRow]:
    return [make_case(4, entered_at=MAY), make_case(5, entered_at=MAY, **P2)]


def test_months_accumulate_and_april_stays_unchanged(
    tmp_path: Path, april: list[CaseRow], may: list[CaseRow]
) -> None:
    path = tmp_path / "実績管理.xlsx"
    update_performance_ledger(path, april, today=dt.date(2024, 4, 30))
    assert load_workbook(path).sheetnames == ["集計", "令和6年4月"]
    april_rows = sheet_values(path, "令和6年4月")

    update_performance_ledger(path, april + may, today=dt.date(2024, 5, 31))

    assert load_workbook(path).sheetnames == ["集計", "令和6年4月", "令和6年5月"]
    assert sheet_values(path, "令和6年4月") == april_rows
    may_rows = sheet_values(path, "令和6年5月")
    assert may_rows[0] == tuple(LEDGER_HEADER)
    assert [r[1] for r in may_rows[1:]] == ["03000004", "03000005"]


def test_month_sheet_rows_are_masked_and_typed(tmp_path: Path, april: list[CaseRow]) -> None:
    path = update_performance_ledger(tmp_path / "l.xlsx", april, today=dt.date(2024, 4, 30))
    rows = sheet_values(path, "令和6年4月")
    assert rows[1] == (
        1,
        "03000001",
        "R2024-00001",
        "試＊＊＊＊＊",
        "家事支援",
        "P001",
        "株式会社みなとケアサービス",
        dt.datetime(2024, 4, 15),
        128,
        750,
        dt.datetime(2024, 4, 3),
    )
    assert not any("花子" in str(v) for row in rows for v in row)
    ws = load_workbook(path)["令和6年4月"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:K4"
    assert ws["H2"].number_format == WAREKI_DATE_FORMAT
    assert ws["A1"].font.b
    assert ws.column_dimensions["G"].width > ws.column_dimensions["A"].width


def test_summary_counts_cases_and_hours_per_month_and_provider(
    tmp_path: Path, april: list[CaseRow], may: list[CaseRow]
) -> None:
    path = update_performance_ledger(tmp_path / "l.xlsx", april + may, today=dt.date(2024, 5, 31))
    rows = sheet_values(path, "集計")
    assert rows[1] == ("更新日：令和6年5月31日", None, None, None, None)
    header_at = rows.index(tuple(SUMMARY_HEADER))
    assert rows[header_at + 1 :] == [
        ("令和6年4月", "P001", "株式会社みなとケアサービス", 2, 256),
        ("令和6年4月", "P002", "一般社団法人ドゥーラ協会東京", 1, 30),
        ("令和6年5月", "P001", "株式会社みなとケアサービス", 1, 128),
        ("令和6年5月", "P002", "一般社団法人ドゥーラ協会東京", 1, 128),
        ("合計", None, None, 5, 542),
    ]


def test_hand_made_sheet_survives_and_rerun_is_idempotent(
    tmp_path: Path, april: list[CaseRow], may: list[CaseRow]
) -> None:
    path = tmp_path / "l.xlsx"
    update_performance_ledger(path, april, today=dt.date(2024, 4, 30))
    wb = load_workbook(path)
    memo = wb.create_sheet("メモ")
    memo["A1"] = "4月は窓口申請が多かった"
    memo["B2"] = "=COUNTA('令和6年4月'!A:A)-1"
    wb.save(path)

    update_performance_ledger(path, april + may, today=dt.date(2024, 5, 31))
    first = {t: sheet_values(path, t) for t in load_workbook(path).sheetnames}
    update_performance_ledger(path, april + may, today=dt.date(2024, 5, 31))
    second = {t: sheet_values(path, t) for t in load_workbook(path).sheetnames}

    assert list(first) == ["集計", "令和6年4月", "令和6年5月", "メモ"]
    assert first["メモ"][0][0] == "4月は窓口申請が多かった"
    assert first["メモ"][1][1] == "=COUNTA('令和6年4月'!A:A)-1"
    assert second == first
    wb = load_workbook(path)
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True, False, False, False]


def test_month_of_entry_is_japan_time(make_case: CaseFactory, tmp_path: Path) -> None:
    late_april_utc = dt.datetime(2024, 4, 30, 16, 0, tzinfo=dt.UTC)  # 5月1日 01:00 JST
    case = make_case(1, entered_at=late_april_utc)
    assert entered_on(case) == dt.date(2024, 5, 1)
    assert entered_on(make_case(2, entered_at=dt.datetime(2024, 4, 30, 16, 0))) == dt.date(
        2024, 5, 1
    )  # naive = UTC, as the store returns it
    path = update_performance_ledger(tmp_path / "l.xlsx", [case], today=dt.date(2024, 5, 1))
    assert load_workbook(path).sheetnames == ["集計", "令和6年5月"]


def test_unreadable_ledger_is_a_permanent_error(tmp_path: Path, april: list[CaseRow]) -> None:
    path = tmp_path / "l.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(PermanentError) as err:
        update_performance_ledger(path, april, today=dt.date(2024, 4, 30))
    assert err.value.code == "workbook-unreadable"
    assert path.read_bytes() == b"not a workbook"


def test_empty_case_list_gives_a_summary_only(tmp_path: Path) -> None:
    wb = Workbook()
    wb.worksheets[0].title = "Sheet1"
    wb.save(tmp_path / "l.xlsx")
    path = update_performance_ledger(tmp_path / "l.xlsx", [], today=dt.date(2024, 4, 30))
    assert load_workbook(path).sheetnames == ["集計", "Sheet1"]
