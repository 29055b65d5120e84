"""The export end to end on a synthetic ledger folder: CSV bytes, rejects, quarantine, 𠮷."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from openpyxl import load_workbook

from civicflow.assets import AssetExportConfig, AssetExportResult, build_export, write_export
from civicflow.assets.baseline import baseline_export, read_frames
from civicflow.assets.export import export_rows, load_layout
from civicflow.assets.models import DATA_DIR
from civicflow.errors import PermanentError
from civicflow.samples.assets import AssetSampleSet

FISCAL_YEAR = 2024  # as in conftest.py


@pytest.fixture(scope="module")
def truth(sample: AssetSampleSet) -> dict[str, Any]:
    return json.loads(sample.truth_json.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def csv_bytes(written: list[Path]) -> bytes:
    return written[0].read_bytes()


# --- the CSV's bytes -----------------------------------------------------------------------------
def test_csv_is_cp932_with_crlf_line_ends(csv_bytes: bytes, result: AssetExportResult) -> None:
    text = csv_bytes.decode("cp932")  # raises if any byte is not CP932
    assert csv_bytes.endswith(b"\r\n")
    assert csv_bytes.count(b"\n") == csv_bytes.count(b"\r\n") == len(result.rows) + 1
    assert b"\r\r" not in csv_bytes
    assert "資産番号".encode("cp932") in csv_bytes  # really Shift_JIS, not UTF-8
    assert not text.startswith("\ufeff")


def test_csv_header_and_column_order_are_those_of_columns_yaml(csv_bytes: bytes) -> None:
    spec = yaml.safe_load((DATA_DIR / "columns.yaml").read_text(encoding="utf-8"))
    names = [column["name"] for column in spec["columns"]]
    assert names[:3] == ["資産番号", "名称", "所在地"]
    first_line = csv_bytes.split(b"\r\n", 1)[0].decode("cp932")
    assert first_line == ",".join(names)
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("cp932"), newline="")))
    assert all(len(row) == len(names) for row in rows)


def test_csv_values_are_formatted_as_the_layout_says(
    csv_bytes: bytes, result: AssetExportResult
) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("cp932"), newline="")))
    assert len(rows) == len(result.rows)
    for line, record in zip(rows[:50], result.rows[:50], strict=True):
        assert line["資産番号"] == record.asset_no
        assert line["取得年月日"] == record.acquired_on.strftime("%Y/%m/%d")
        assert line["取得価額"] == str(record.cost)
        assert line["期末簿価"] == str(record.book_value)
        assert line["所管課"] == record.source.sheet
    for line in rows:
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", line["取得年月日"])
        for column in ("取得価額", "減価償却累計額", "期末簿価"):
            assert re.fullmatch(r"\d+", line[column]), line
        assert int(line["取得価額"]) == int(line["減価償却累計額"]) + int(line["期末簿価"])
        assert "\n" not in line["名称"]
        assert re.fullmatch(r"[A-Z]-\d{6}", line["資産番号"]), line  # full-width typed → half


def test_reordered_layout_is_followed(sample: AssetSampleSet, tmp_path: Path) -> None:
    layout = tmp_path / "columns.yaml"
    layout.write_text(
        yaml.safe_dump(
            {
                "layout": "other-system",
                "version": 2,
                "columns": [
                    {"key": "department", "name": "所属", "type": "string", "required": True},
                    {"key": "asset_no", "name": "財産番号", "type": "string", "required": True},
                    {"key": "acquired_on", "name": "取得日", "type": "date", "format": "%Y%m%d"},
                    {"key": "book_value", "name": "簿価", "type": "integer"},
                    {"key": "fiscal_year", "name": "年度", "type": "integer"},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    config = AssetExportConfig(columns_path=layout)
    result = build_export(sample.good_workbooks[:1], FISCAL_YEAR, config)
    csv_path, _ = write_export(result, tmp_path / "out")
    lines = csv_path.read_bytes().decode("cp932").split("\r\n")
    assert lines[0] == "所属,財産番号,取得日,簿価,年度"
    first = lines[1].split(",")
    assert re.fullmatch(r"\d{8}", first[2]) and first[4] == str(FISCAL_YEAR)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"key": "price", "name": "価格", "type": "integer"}, "unknown key"),
        ({"key": "cost", "name": "取得価額", "type": "string"}, "type"),
        ({"key": "acquired_on", "name": "取得日", "type": "date", "format": "YYYY"}, "strftime"),
        ({"key": "name", "name": "名称𠮷", "type": "string"}, "CP932"),
    ],
)
def test_bad_layout_stops_with_a_permanent_error(
    tmp_path: Path, column: dict[str, str], message: str
) -> None:
    path = tmp_path / "columns.yaml"
    path.write_text(
        yaml.safe_dump({"layout": "x", "version": 1, "columns": [column]}, allow_unicode=True),
        encoding="utf-8",
    )
    with pytest.raises(PermanentError) as caught:
        load_layout(path)
    assert message in caught.value.message_en


def test_missing_layout_file(tmp_path: Path) -> None:
    with pytest.raises(PermanentError) as caught:
        load_layout(tmp_path / "none.yaml")
    assert caught.value.code == "asset-config-missing"


# --- what the truth says ---------------------------------------------------------------------------
def test_counts_match_the_generator(result: AssetExportResult, sample: AssetSampleSet) -> None:
    assert len(result.rows) == sample.expected_exported
    assert len(result.rejects) == sample.expected_rejected
    assert result.reject_counts() == sample.rejected_by_code
    assert set(sample.rejected_by_code) >= {
        "missing_value",
        "invalid_date",
        "negative_amount",
        "unknown_useful_life",
        "depreciation_mismatch",
        "below_capitalisation_threshold",
        "duplicate_asset_no",
    }
    assert result.workbooks_read == len(sample.good_workbooks)
    assert sum(s.data_rows for s in result.sheets) == sample.rows


def test_each_bad_row_is_rejected_with_its_reason(
    result: AssetExportResult, truth: dict[str, Any]
) -> None:
    got = {(r.workbook, r.sheet, r.row): r.codes for r in result.rejects}
    expected = {(b["workbook"], b["sheet"], b["row"]): b["codes"] for b in truth["bad_rows"]}
    assert got == expected


def test_broken_and_wrong_files_are_quarantined_while_the_others_export(
    result: AssetExportResult, truth: dict[str, Any]
) -> None:
    got = sorted((q.item_ref, q.reason.code) for q in result.quarantined)
    assert got == sorted((q["item_ref"], q["code"]) for q in truth["expected"]["quarantined"])
    assert {q["kind"] for q in truth["expected"]["quarantined"]} == {
        "wrong_sheet",
        "missing_column",
        "broken_xlsx",
        "csv_as_xlsx",
        "csv_file",
    }
    for record in result.quarantined:
        assert record.reason.severity == "quarantine"
        assert record.reason.message_ja and record.reason.message_en
        assert record.path is not None
    assert sorted(result.skipped_sheets) == sorted(truth["expected"]["skipped_sheets"])
    assert len(result.rows) > 0


def test_tsuchiyoshi_is_reported_with_sheet_row_and_column(
    result: AssetExportResult, truth: dict[str, Any], csv_bytes: bytes
) -> None:
    got = [(u.workbook, u.sheet, u.row, u.column, u.char, u.codepoint) for u in result.unencodable]
    expected = [
        (u["workbook"], u["sheet"], u["row"], u["column"], u["char"], "U+20BB7")
        for u in truth["expected"]["unencodable"]
    ]
    assert expected and got == expected
    text = csv_bytes.decode("cp932")
    assert text.count("〓") == len(expected)
    by_ref = {(r.source.workbook, r.source.sheet, r.source.row): r for r in result.rows}
    for workbook, sheet, row, column, _, _ in got:
        record = by_ref[(workbook, sheet, row)]
        kept = record.name if column == "名称" else record.location
        assert "𠮷" in kept  # the result keeps the real character; only the CSV has 〓
        assert kept.replace("𠮷", "〓") in text


# --- the rejects workbook -------------------------------------------------------------------------
def test_rejects_workbook_has_one_sheet_per_department(
    written: list[Path], result: AssetExportResult
) -> None:
    wb = load_workbook(written[1], read_only=True)
    departments = list(dict.fromkeys(r.department for r in result.rejects))
    assert wb.sheetnames == ["概要", *departments, "取込不可ファイル", "CP932外の文字"]
    first = result.rejects[0]
    ws = wb[first.department]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[3][:4] == ("行", "理由", "理由コード", "ファイル")
    labels = list(rows[3][4:])
    data = [r for r in rows[4:] if r[0] is not None]
    assert len(data) == sum(1 for r in result.rejects if r.department == first.department)
    line = data[0]
    assert line[0] == first.row and line[3] == first.workbook
    assert line[1] == "\n".join(m.message_ja.split(": ", 1)[1] for m in first.reasons)
    assert (
        "シート" not in str(line[1]).split("\n")[0][:12]
    )  # no 「sheet」row prefix: the row is shown
    assert line[2] == ", ".join(first.codes)
    shown = dict(zip(labels, line[4:], strict=True))
    for label, value in first.values.items():
        if value is not None and not hasattr(value, "year"):
            assert shown[label] == value


def test_rejects_workbook_lists_quarantine_and_unencodable(
    written: list[Path], result: AssetExportResult
) -> None:
    wb = load_workbook(written[1], read_only=True)
    quarantine = [r for r in wb["取込不可ファイル"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert sorted(str(r[0]) for r in quarantine) == sorted(q.item_ref for q in result.quarantined)
    geta = [r for r in wb["CP932外の文字"].iter_rows(min_row=5, values_only=True) if r[0]]
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in geta] == [
        (u.sheet, u.row, u.column, "𠮷", "〓") for u in result.unencodable
    ]
    summary = list(wb["概要"].iter_rows(min_row=5, values_only=True))
    assert sum(int(str(r[5])) for r in summary if r[0]) == len(result.rows)


def test_rewriting_gives_the_same_csv(result: AssetExportResult, written: list[Path]) -> None:
    again = write_export(result, written[0].parent)
    assert again[0].read_bytes() == written[0].read_bytes()


# --- the baseline computes the same rows ----------------------------------------------------------
def test_pandas_baseline_exports_the_same_rows(
    sample: AssetSampleSet, result: AssetExportResult
) -> None:
    frames = read_frames(sample.workbooks)
    baseline = baseline_export(frames, FISCAL_YEAR)
    assert list(baseline.columns) == result.layout.header_names
    ours = sorted(tuple(row) for row in export_rows(result))
    theirs = sorted(tuple(row) for row in baseline.astype(str).itertuples(index=False))
    assert theirs == ours
