"""Reading ledgers: header spellings, two-row headers, cells (和暦, 千円, △), skipped rows, bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from civicflow.assets.ledger import (
    Cell,
    CellValueError,
    find_header,
    is_date_format,
    map_header,
    parse_amount,
    parse_ledger,
    parse_ledger_date,
    parse_useful_life,
    read_ledger,
    read_workbook,
)
from civicflow.assets.models import AssetExportConfig
from civicflow.errors import InputError
from civicflow.samples.assets import AssetSampleSet


# --- header spellings ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("資産番号", ("asset_no", None)),
        ("財産番号", ("asset_no", None)),
        ("台帳番号", ("asset_no", None)),
        ("名称", ("name", None)),
        ("件名", ("name", None)),
        ("財産の名称", ("name", None)),
        ("所在地", ("location", None)),
        ("設置場所・所在地", ("location", None)),
        ("取得年月日", ("acquired_on", None)),
        ("取得年月日（和暦）", ("acquired_on", None)),
        ("取得日", ("acquired_on", None)),
        ("取得価額", ("cost", None)),
        ("取得価額（千円）", ("cost", 1000)),
        ("取得価額\n(円)", ("cost", 1)),
        ("取得価格【千円】", ("cost", 1000)),
        ("取得価額千円", ("cost", 1000)),
        ("取得金額", ("cost", None)),
        ("耐用\n年数", ("useful_life", None)),
        ("耐用年数（年）", ("useful_life", None)),
        ("減価償却累計額（千円）", ("accumulated_depreciation", 1000)),
        ("償却累計額", ("accumulated_depreciation", None)),
        ("期末簿価", ("book_value", None)),
        ("帳簿価額", ("book_value", None)),
        ("勘定科目", ("account", None)),
        ("科目", ("account", None)),
        ("構造・用途", ("use", None)),
        ("種目", ("use", None)),
        ("備考", ("note", None)),
        ("　資産　番号　", ("asset_no", None)),  # spaces typed for alignment
        ("取得", None),  # a group label alone
        ("数量", None),
        ("", None),
    ],
)
def test_map_header(label: str, expected: tuple[str, int | None] | None) -> None:
    assert map_header(label) == expected


def _rows(*rows: list[Cell]) -> list[tuple[int, list[Cell]]]:
    return [(number, list(values)) for number, values in enumerate(rows, start=1)]


def test_header_below_a_title_in_one_row() -> None:
    rows = _rows(
        ["令和6年度 財産台帳（施設課）"],
        ["所管課：施設課", None, None, "（単位：千円）"],
        [],
        ["財産番号", "件名", "取得年月日", "取得価額", "勘定科目"],
        ["B-1", "庁舎", "R6.4.1", 100, "建物"],
    )
    header = find_header(rows)
    assert header is not None
    assert (header.first_row, header.last_row, header.data_index) == (4, 4, 4)
    assert header.columns == {
        "asset_no": 0,
        "name": 1,
        "acquired_on": 2,
        "cost": 3,
        "account": 4,
    }


@pytest.mark.parametrize("with_merges", [True, False])
def test_two_row_header_under_a_merged_group(with_merges: bool) -> None:
    rows = _rows(
        ["資産番号", "名称", "取得", None, "耐用年数", "勘定科目"],
        [None, None, "年月日", "価額（千円）", None, None],
        ["B-1", "庁舎", "R6.4.1", 100, 50, "建物"],
    )
    merges = [(1, 3, 1, 4), (1, 1, 2, 1), (1, 2, 2, 2)] if with_merges else []
    header = find_header(rows, merges=merges)
    assert header is not None
    assert (header.first_row, header.last_row, header.data_index) == (1, 2, 2)
    assert header.columns["acquired_on"] == 2
    assert header.columns["cost"] == 3
    assert header.units == {"cost": 1000}
    assert header.labels[:4] == ["資産番号", "名称", "取得年月日", "取得価額（千円）"]


def test_no_header_in_an_inventory_list() -> None:
    rows = _rows(["品名", "数量", "保管場所"], ["長机", 3, "本庁舎"])
    assert find_header(rows) is None


# --- cells -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2010, 4, 1), (dt.date(2010, 4, 1), False)),
        ("令和3年4月1日", (dt.date(2021, 4, 1), False)),
        ("令和３年４月１日", (dt.date(2021, 4, 1), False)),
        ("R3.4.1", (dt.date(2021, 4, 1), False)),
        ("H15/4/1", (dt.date(2003, 4, 1), False)),
        ("昭和58年3月31日", (dt.date(1983, 3, 31), False)),
        ("2010-04-01", (dt.date(2010, 4, 1), False)),
        ("2010/4/1", (dt.date(2010, 4, 1), False)),
        (40269, (dt.date(2010, 4, 1), False)),  # a date serial without a date format
        (40269.0, (dt.date(2010, 4, 1), False)),
        ("40269", (dt.date(2010, 4, 1), False)),
        (20100401, (dt.date(2010, 4, 1), False)),  # YYYYMMDD typed as a number
        ("昭和48年", (dt.date(1973, 3, 31), True)),  # only the year: 31 March of it
        ("S48", (dt.date(1973, 3, 31), True)),
        ("1973年", (dt.date(1973, 3, 31), True)),
        ("昭和48年度", (dt.date(1974, 3, 31), True)),  # a fiscal year: its last day
        ("令和元年度", (dt.date(2020, 3, 31), True)),
        (None, (None, False)),
        ("　", (None, False)),
        ("－", (None, False)),
    ],
)
def test_parse_ledger_date(value: Cell, expected: tuple[dt.date | None, bool]) -> None:
    assert parse_ledger_date(value) == expected


@pytest.mark.parametrize("value", ["令和3年2月30日", "平成31年5月1日", "不明", "R3.13.1", True, -5])
def test_parse_ledger_date_rejects(value: Cell) -> None:
    with pytest.raises(CellValueError):
        parse_ledger_date(value)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (12345, 1, 12345),
        (12345, 1000, 12_345_000),  # 千円
        (1234.5, 1000, 1_234_500),
        (0.1, 1000, 100),  # no binary-float drift
        (12345.0, 1, 12345),
        ("12,345", 1, 12345),
        ("１２，３４５", 1, 12345),  # full-width digits and comma
        ("１２，３４５", 1000, 12_345_000),
        ("△1,200", 1, -1200),
        ("▲1,200", 1000, -1_200_000),
        ("-1200", 1, -1200),
        ("(1,200)", 1, -1200),
        ("¥12,345", 1, 12345),
        ("12,345円", 1000, 12345),  # a unit written in the cell wins
        ("1,234千円", 1, 1_234_000),
        ("－", 1, None),
        ("", 1, None),
        (None, 1000, None),
    ],
)
def test_parse_amount(value: Cell, unit: int, expected: int | None) -> None:
    assert parse_amount(value, unit) == expected


@pytest.mark.parametrize("value", ["不明", "12,34a", "1e99", 1e300, float("nan"), True])
def test_parse_amount_rejects(value: Cell) -> None:
    with pytest.raises(CellValueError):
        parse_amount(value, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(50, 50), (50.0, 50), ("５０", 50), ("50年", 50), (" 6 ", 6), ("－", None), (None, None)],
)
def test_parse_useful_life(value: Cell, expected: int | None) -> None:
    assert parse_useful_life(value) == expected


@pytest.mark.parametrize("value", [0, 101, 6.5, "六年", True])
def test_parse_useful_life_rejects(value: Cell) -> None:
    with pytest.raises(CellValueError):
        parse_useful_life(value)


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("yyyy/m/d", True),
        ('[$-411]ggge"年"m"月"d"日"', True),
        ("[$-411]ge.m.d", True),
        ("h:mm", True),
        ("#,##0", False),
        ('#,##0"円"', False),  # a literal 円 has no date letters left
        ("0.00E+00", False),
        ("General", False),
        ("@", False),
        ('[Red]#,##0;"△"#,##0', False),
    ],
)
def test_is_date_format(code: str, is_date: bool) -> None:
    assert is_date_format(code) is is_date


# --- whole sheets --------------------------------------------------------------------------------
def _save(path: Path, sheets: dict[str, list[list[Cell]]], hidden: tuple[str, ...] = ()) -> Path:
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


LEDGER: list[list[Cell]] = [
    ["令和6年度 財産台帳"],
    [None, None, None, None, "（単位：千円）"],
    ["資産番号", "名称", "取得年月日", "勘定科目", "取得価額", "備考"],
    ["B-1", "本庁舎", dt.datetime(2000, 4, 1), "建物", 1234.5, None],
    [],
    ["※ 平成30年度に外壁改修", None, None, None, None, None],
    ["小　計", None, None, None, 1234.5, None],
    ["Ｂ－２", "区民\nセンター", "令和２年４月１日", "建物", "△10", "R2改修"],
    [None, "（以下余白）"],
    [None, "合計", None, None, 1224.5],
]


@pytest.mark.parametrize("reader", ["fast", "openpyxl"])
def test_parse_ledger_skips_what_is_not_an_asset(tmp_path: Path, reader: str) -> None:
    path = _save(
        tmp_path / "総務部.xlsx",
        {"説明": [["記入要領"]], "施設課": LEDGER, "記入例": LEDGER, "リスト": [["建物"]]},
        hidden=("リスト",),
    )
    ledger = read_ledger(path, AssetExportConfig.model_validate({"reader": reader}))
    assert ledger.quarantined == []
    assert ledger.skipped == [
        "総務部.xlsx「説明」",
        "総務部.xlsx「記入例」",
        "総務部.xlsx「リスト」",
    ]
    (sheet,) = ledger.sheets
    assert (sheet.department, sheet.header.last_row, sheet.units["cost"]) == ("施設課", 3, 1000)
    assert (sheet.skipped_blank, sheet.skipped_subtotal, sheet.skipped_note) == (1, 2, 2)
    first, second = sheet.rows
    assert (first.row, first.asset_no, first.cost, first.acquired_on) == (
        4,
        "B-1",
        1_234_500,
        dt.date(2000, 4, 1),
    )
    assert (second.row, second.asset_no, second.name, second.cost, second.note) == (
        8,
        "B-2",
        "区民 センター",
        -10_000,
        "R2改修",
    )


def test_a_sheet_without_a_required_column_is_set_aside_and_others_go_on(tmp_path: Path) -> None:
    no_cost = [[c for i, c in enumerate(row) if i != 4] for row in LEDGER]
    path = _save(tmp_path / "部.xlsx", {"施設課": LEDGER, "会計課": no_cost, "集計": [["合計", 1]]})
    ledger = read_ledger(path)
    assert [s.sheet for s in ledger.sheets] == ["施設課"]
    codes = {q.item_ref: q.reason.code for q in ledger.quarantined}
    assert codes == {"部.xlsx「会計課」": "missing_column", "部.xlsx「集計」": "no_ledger_header"}
    missing = next(q for q in ledger.quarantined if q.reason.code == "missing_column")
    assert "取得価額" in missing.reason.message_ja and "取得価額" in missing.reason.message_en


def test_fast_reader_reads_what_openpyxl_reads(sample: AssetSampleSet) -> None:
    for path in sample.good_workbooks:
        fast, reference = read_workbook(path), read_workbook(path, reader="openpyxl")
        assert [s.name for s in fast.sheets] == [s.name for s in reference.sheets]
        for ours, theirs in zip(fast.sheets, reference.sheets, strict=True):
            assert ours.hidden == theirs.hidden
            by_row = {n: v for n, v in theirs.rows if v}
            assert {n: v for n, v in ours.rows if v} == by_row


def test_fast_reader_keeps_merges_and_skips_furigana(tmp_path: Path) -> None:
    """Excel stores furigana (rPh) in shared strings: it must not join the text."""
    import zipfile

    path = _save(tmp_path / "x.xlsx", {"施設課": [["資産番号", "名称"], ["B-1", "x"]]})
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace(
        '<c r="B2" t="inlineStr"><is><t>x</t></is></c>', '<c r="B2" t="s"><v>0</v></c>'
    )
    sheet = sheet.replace(
        "</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
    )
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si>'
        '<r><t>芝浦</t></r><r><t>庁舎</t></r><rPh sb="0" eb="2"><t>シバウラ</t></rPh>'
        "</si></sst>"
    ).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    (sheet_raw,) = read_workbook(path).sheets
    assert sheet_raw.rows[1] == (2, ["B-1", "芝浦庁舎"])
    assert sheet_raw.merges == [(1, 1, 1, 2)]


# --- bad files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "code", "hint"),
    [
        (
            "a.csv",
            "資産番号,名称\r\nB-1,庁舎\r\n".encode("cp932"),
            "not_a_workbook_csv",
            "Shift_JIS",
        ),
        (
            "a.xlsx",
            "資産番号,名称\r\nB-1,庁舎\r\n".encode("cp932"),
            "not_a_workbook_csv",
            "Shift_JIS",
        ),
        ("a.xlsx", "資産番号,名称\nB-1,庁舎\n".encode(), "not_a_workbook_csv", "UTF-8"),
        ("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls_or_encrypted", ".xls"),
        ("a.xlsx", b"", "broken_workbook", "空"),
        ("a.xlsx", b"PK\x03\x04" + b"\x00" * 50, "broken_workbook", "壊れて"),
        ("a.pdf", b"%PDF-1.7\x00\x01", "unsupported_file", ".pdf"),
    ],
)
def test_bad_files_raise_input_errors_that_say_what_to_do(
    tmp_path: Path, name: str, data: bytes, code: str, hint: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_workbook(path)
    assert caught.value.code == code
    assert hint in caught.value.message_ja
    assert name in caught.value.message_en


def test_truncated_workbook_is_broken(tmp_path: Path) -> None:
    whole = _save(tmp_path / "whole.xlsx", {"施設課": LEDGER * 50}).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    ledger = read_ledger(path)
    assert ledger.sheets == []
    assert [q.reason.code for q in ledger.quarantined] == ["broken_workbook"]


def test_missing_file_is_quarantined_not_raised(tmp_path: Path) -> None:
    ledger = read_ledger(tmp_path / "nothing.xlsx")
    assert [q.reason.code for q in ledger.quarantined] == ["file_not_found"]


def test_workbook_with_only_instructions(tmp_path: Path) -> None:
    path = _save(tmp_path / "部.xlsx", {"説明": [["記入要領"]]})
    ledger = parse_ledger(read_workbook(path), AssetExportConfig())
    assert [q.reason.code for q in ledger.quarantined] == ["no_ledger_sheet"]
