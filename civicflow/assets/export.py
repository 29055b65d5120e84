"""Turn departments' property ledgers into the public-accounting import file (公会計 CSV).

:func:`build_export` reads every workbook, checks every asset row and collects what cannot
be exported; :func:`write_export` writes

* ``asset_import_FY<year>.csv``: CP932, CRLF, the columns of ``data/asset_export/columns.yaml``
  in their order, through :func:`civicflow.documents.csvfile.write_cp932_csv` (a character
  CP932 cannot hold becomes 〓 and is reported, never dropped);
* ``asset_rejects_FY<year>.xlsx``: for the departments, a 概要 sheet, one sheet per 所管課 with
  its rejected rows (the row as written, where it is, why in Japanese), the files set aside
  and the characters the CSV could not hold.

Bad input never stops the run: a broken workbook, a CSV, a sheet without a ledger header or
without a required column is quarantined with its reason and the other files go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from civicflow.assets.ledger import (
    LedgerRow,
    LedgerSheet,
    LedgerWorkbook,
    gc_paused,
    read_ledger,
)
from civicflow.assets.models import (
    AssetExportConfig,
    AssetExportResult,
    AssetRecord,
    ExportLayout,
    LedgerValue,
    RejectedRow,
    SheetSummary,
    UnencodableCell,
    UsefulLifeTable,
)
from civicflow.assets.validate import RuleContext, check_row, reason
from civicflow.documents.csvfile import ENCODING as CP932
from civicflow.documents.csvfile import GETA, to_cp932_text, write_cp932_csv
from civicflow.documents.excel import CellValue, save_workbook, write_table
from civicflow.errors import PermanentError
from civicflow.japanese import to_wareki
from civicflow.models import Reason

SUMMARY_SHEET = "概要"
QUARANTINE_SHEET = "取込不可ファイル"
UNENCODABLE_SHEET = "CP932外の文字"
_REASON_FILL = PatternFill(fill_type="solid", start_color="FFF2CC", end_color="FFF2CC")
_TITLE_FONT = Font(name="游ゴシック", bold=True, size=13)
_INVALID_SHEET_CHARS = str.maketrans({c: "＿" for c in "[]:*?/\\"})


# --------------------------------------------------------------------------------------------
# Configuration files
# --------------------------------------------------------------------------------------------
def _load_yaml(path: Path, what_ja: str, what_en: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PermanentError(
            f"{what_ja}のファイルがありません: {path}。設定（columns_path / useful_life_path）を確認してください。",
            f"The {what_en} file is missing: {path}. Check columns_path / useful_life_path.",
            code="asset-config-missing",
        ) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PermanentError(
            f"{what_ja}のファイルを読めません: {path}（{exc}）。YAML の書式を確認してください。",
            f"Cannot read the {what_en} file {path} ({exc}). Check its YAML syntax.",
            code="asset-config-invalid",
        ) from exc


def load_layout(path: Path) -> ExportLayout:
    """Load the import layout (columns.yaml).

    Raises:
        PermanentError: The file is missing, not YAML, or names an unknown key or a type
            that does not fit its key; the message says which.
    """
    data = _load_yaml(path, "取込レイアウト", "import layout")
    try:
        layout = ExportLayout.model_validate(data)
    except ValidationError as exc:
        raise PermanentError(
            f"取込レイアウト {path} の内容に誤りがあります: {exc.errors()[0]['msg']}",
            f"The import layout {path} is invalid: {exc}",
            code="asset-config-invalid",
        ) from exc
    for column in layout.columns:
        if to_cp932_text(column.name)[1]:
            raise PermanentError(
                f"取込レイアウトの列名「{column.name}」に Shift_JIS で書けない文字があります。",
                f"Column name {column.name!r} has characters CP932 cannot hold.",
                code="asset-config-invalid",
            )
    return layout


def load_useful_life(path: Path) -> UsefulLifeTable:
    """Load the 耐用年数 table (useful_life.yaml).

    Raises:
        PermanentError: The file is missing, not YAML, or inconsistent.
    """
    data = _load_yaml(path, "耐用年数表", "useful-life table")
    try:
        return UsefulLifeTable.model_validate(data)
    except ValidationError as exc:
        raise PermanentError(
            f"耐用年数表 {path} の内容に誤りがあります: {exc.errors()[0]['msg']}",
            f"The useful-life table {path} is invalid: {exc}",
            code="asset-config-invalid",
        ) from exc


# --------------------------------------------------------------------------------------------
# Building the export
# --------------------------------------------------------------------------------------------
@gc_paused
def build_export(
    workbooks: Sequence[Path], fiscal_year: int, config: AssetExportConfig | None = None
) -> AssetExportResult:
    """Read the departments' ledgers and check every row for the import file.

    Args:
        workbooks: The ledger workbooks (``.xlsx``), one per 部; anything else given here
            (a CSV, a broken file) is quarantined with its reason.
        fiscal_year: 会計年度: figures are as of 31 March of ``fiscal_year + 1``.
        config: Settings; the defaults read the layout and table from ``data/asset_export``.

    Returns:
        The rows to export, rejected rows with reasons, quarantined files and sheets, and
        the characters CP932 cannot hold.

    Raises:
        PermanentError: The layout or the useful-life table cannot be loaded (bad input
            files never raise).
    """
    config = config or AssetExportConfig()
    ledgers = [read_ledger(path, config) for path in workbooks]
    return build_export_from_ledgers(ledgers, fiscal_year, config)


def _row_values(sheet: LedgerSheet, row: LedgerRow) -> dict[str, LedgerValue]:
    """The row as read, under the sheet's own header labels (column letters where none)."""
    labels = sheet.header.labels
    values: dict[str, LedgerValue] = {}
    for col in range(max(len(labels), len(row.cells))):
        label = labels[col] if col < len(labels) and labels[col] else _column_letter(col)
        value = row.cells[col] if col < len(row.cells) else None
        if label in values and value is None:
            continue
        values[label] = str(value) if isinstance(value, bool) else value
    return values


def _column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}列"


@gc_paused
def build_export_from_ledgers(
    ledgers: Sequence[LedgerWorkbook],
    fiscal_year: int,
    config: AssetExportConfig | None = None,
) -> AssetExportResult:
    """Check the rows of workbooks already read (:func:`~civicflow.assets.ledger.read_ledger`).

    Args:
        ledgers: Parsed workbooks, in the order the export should list them.
        fiscal_year: 会計年度.
        config: Settings.

    Returns:
        The export result (see :func:`build_export`).
    """
    config = config or AssetExportConfig()
    layout = load_layout(config.columns_path)
    ctx = RuleContext(fiscal_year, layout, load_useful_life(config.useful_life_path), config)

    outcomes: list[tuple[LedgerSheet, LedgerRow, AssetRecord | list[Reason]]] = []
    places: dict[str, list[tuple[LedgerSheet, LedgerRow]]] = {}
    for ledger in ledgers:
        for sheet in ledger.sheets:
            for row in sheet.rows:
                outcomes.append((sheet, row, check_row(row, sheet, ctx)))
                if row.asset_no:
                    places.setdefault(row.asset_no, []).append((sheet, row))

    records: list[AssetRecord] = []
    rejects: list[RejectedRow] = []
    counts: dict[int, list[int]] = {}  # id(sheet) → [exported, rejected]
    for sheet, row, outcome in outcomes:
        tally = counts.setdefault(id(sheet), [0, 0])
        others = places.get(row.asset_no, ()) if row.asset_no else ()
        duplicate = _duplicate_reason(sheet, row, others) if len(others) > 1 else None
        if isinstance(outcome, AssetRecord) and duplicate is None:
            records.append(outcome)
            tally[0] += 1
            continue
        reasons = [] if isinstance(outcome, AssetRecord) else list(outcome)
        if duplicate is not None:
            reasons.append(duplicate)
        rejects.append(
            RejectedRow(
                workbook=sheet.workbook,
                sheet=sheet.sheet,
                row=row.row,
                department=sheet.department,
                values=_row_values(sheet, row),
                reasons=tuple(reasons),
            )
        )
        tally[1] += 1

    sheets = [
        SheetSummary(
            workbook=sheet.workbook,
            sheet=sheet.sheet,
            department=sheet.department,
            header_row=sheet.header.last_row,
            amount_unit_yen=sheet.units["cost"],
            data_rows=len(sheet.rows),
            exported=counts.get(id(sheet), [0, 0])[0],
            rejected=counts.get(id(sheet), [0, 0])[1],
            skipped_blank=sheet.skipped_blank,
            skipped_subtotal=sheet.skipped_subtotal,
            skipped_note=sheet.skipped_note,
        )
        for ledger in ledgers
        for sheet in ledger.sheets
    ]
    return AssetExportResult(
        fiscal_year=fiscal_year,
        layout=layout,
        rows=records,
        rejects=rejects,
        quarantined=[q for ledger in ledgers for q in ledger.quarantined],
        unencodable=find_unencodable(records, layout),
        sheets=sheets,
        skipped_sheets=[s for ledger in ledgers for s in ledger.skipped],
        workbooks_read=sum(1 for ledger in ledgers if ledger.sheets),
    )


def _duplicate_reason(
    sheet: LedgerSheet, row: LedgerRow, places: Sequence[tuple[LedgerSheet, LedgerRow]]
) -> Reason:
    elsewhere = [(s, r) for s, r in places if not (s is sheet and r.row == row.row)][:3]
    where_ja = "、".join(f"{s.workbook}「{s.sheet}」{r.row}行目" for s, r in elsewhere)
    where_en = ", ".join(f"{s.workbook} sheet {s.sheet!r} row {r.row}" for s, r in elsewhere)
    return reason(
        "duplicate_asset_no",
        sheet,
        row.row,
        f"資産番号「{row.asset_no}」が {where_ja} と重複しています。"
        "どちらも取り込みません。重複を解消してください。",
        f"資産番号 {row.asset_no!r} also appears in {where_en}. Neither row is exported; "
        "give each asset its own number.",
        "asset_no",
    )


def find_unencodable(records: Sequence[AssetRecord], layout: ExportLayout) -> list[UnencodableCell]:
    """Every character of the exported text columns that CP932 cannot hold.

    Args:
        records: The rows to export.
        layout: The import layout (only its string columns can hold such characters).

    Returns:
        One entry per character, with the ledger's workbook, sheet and row and the import
        column's name, in file order.
    """
    columns = [
        (c.name, c.key) for c in layout.columns if c.type == "string" and c.key != "source_ref"
    ]
    keys = [key for _, key in columns]
    found: list[UnencodableCell] = []
    for record in records:
        try:  # the common case: one encode per row
            "\t".join([getattr(record, key) for key in keys]).encode(CP932)
            continue
        except UnicodeEncodeError:
            pass
        for name, key in columns:
            value = getattr(record, key)
            _, lost = to_cp932_text(value)
            for problem in lost:
                found.append(
                    UnencodableCell(
                        workbook=record.source.workbook,
                        sheet=record.source.sheet,
                        row=record.source.row,
                        column=name,
                        char=problem.char,
                        codepoint=problem.codepoint,
                    )
                )
    return found


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------
def export_file_name(fiscal_year: int) -> str:
    """The import CSV's file name, e.g. ``asset_import_FY2024.csv``."""
    return f"asset_import_FY{fiscal_year}.csv"


def rejects_file_name(fiscal_year: int) -> str:
    """The rejects workbook's file name, e.g. ``asset_rejects_FY2024.xlsx``."""
    return f"asset_rejects_FY{fiscal_year}.xlsx"


def _formatter(
    key: str, kind: str, fmt: str | None, fiscal_year: int
) -> Callable[[AssetRecord], str]:
    if key == "fiscal_year":
        text = str(fiscal_year)
        return lambda _record: text
    if key == "source_ref":
        return lambda r: f"{r.source.workbook}/{r.source.sheet}/{r.source.row}"
    if kind == "date":
        pattern = fmt or "%Y/%m/%d"

        def date_cell(record: AssetRecord) -> str:
            value: dt.date = getattr(record, key)
            return value.strftime(pattern)

        return date_cell
    if kind == "integer":

        def int_cell(record: AssetRecord) -> str:
            value: int | None = getattr(record, key)
            return "" if value is None else str(value)

        return int_cell

    def str_cell(record: AssetRecord) -> str:
        value: str = getattr(record, key)
        return value

    return str_cell


def export_rows(result: AssetExportResult) -> list[list[str]]:
    """The CSV's data rows: each record's values as text, in the layout's column order."""
    cells = [_formatter(c.key, c.type, c.format, result.fiscal_year) for c in result.layout.columns]
    return [[cell(record) for cell in cells] for record in result.rows]


@gc_paused
def write_export(result: AssetExportResult, out_dir: Path) -> list[Path]:
    """Write the import CSV and the rejects workbook.

    Args:
        result: What :func:`build_export` found.
        out_dir: The folder to write into (created when missing); files are replaced
            atomically, so a re-run overwrites them.

    Returns:
        ``[csv, rejects workbook]``.

    Raises:
        PermanentError: The folder is not writable, or a column title cannot be written
            in CP932.
        TransientError: Another I/O failure.
    """
    csv_path = out_dir / export_file_name(result.fiscal_year)
    lost = write_cp932_csv(csv_path, result.layout.header_names, export_rows(result))
    if len(lost) != len(result.unencodable):  # both come from to_cp932_text on the same values
        raise PermanentError(
            "CSV に書けなかった文字の数が事前の確認と一致しません。開発担当に連絡してください。",
            f"{len(lost)} characters were replaced in the CSV but {len(result.unencodable)} "
            "were found beforehand: report this as a bug.",
            code="asset-unencodable-mismatch",
        )
    rejects_path = write_rejects_workbook(result, out_dir / rejects_file_name(result.fiscal_year))
    return [csv_path, rejects_path]


def _sheet_title(name: str, used: set[str]) -> str:
    base = name.translate(_INVALID_SHEET_CHARS).strip("'")[:31] or "シート"
    title, n = base, 2
    while title in used:
        suffix = f"({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _title(ws: Worksheet, text: str, note: str = "") -> None:
    ws.cell(row=1, column=1, value=text).font = _TITLE_FONT
    if note:
        ws.cell(row=2, column=1, value=note)


def _print_setup(ws: Worksheet, header_row: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"


def _fiscal_label(fiscal_year: int) -> str:
    return f"{to_wareki(dt.date(fiscal_year, 4, 1)).split('年')[0]}年度（{fiscal_year}年度）"


def write_rejects_workbook(result: AssetExportResult, path: Path) -> Path:
    """Write the workbook the departments fix their ledgers from.

    Sheets: 概要 (per ledger sheet: rows read, exported, sent back, skipped); one sheet per
    所管課 with a rejected row (row number, reasons in Japanese, reason codes, file, then
    the row as written under the ledger's own headers); 取込不可ファイル (files and sheets
    set aside, with why); CP932外の文字 (characters written as 〓 in the CSV, with where).

    Args:
        result: The export result.
        path: The ``.xlsx`` to write (replaced atomically).

    Returns:
        ``path``.
    """
    wb = Workbook()
    used: set[str] = set()
    summary = wb.active
    assert summary is not None  # a new Workbook always has one sheet
    summary.title = _sheet_title(SUMMARY_SHEET, used)
    fiscal = _fiscal_label(result.fiscal_year)
    _title(
        summary,
        f"財産台帳 公会計取込結果 {fiscal}",
        f"取込 {len(result.rows):,}件 / 差戻し {len(result.rejects):,}件 / "
        f"取込不可 {len(result.quarantined)}件 / CP932外の文字 {len(result.unencodable)}件",
    )
    write_table(
        summary,
        [
            "ファイル",
            "シート（所管課）",
            "見出し行",
            "金額単位",
            "台帳の行",
            "取込",
            "差戻し",
            "空行",
            "小計・合計行",
            "注記行",
        ],
        [
            [
                s.workbook,
                s.sheet,
                s.header_row,
                "千円" if s.amount_unit_yen == 1000 else "円",
                s.data_rows,
                s.exported,
                s.rejected,
                s.skipped_blank,
                s.skipped_subtotal,
                s.skipped_note,
            ]
            for s in result.sheets
        ],
        header_row=4,
    )
    _print_setup(summary, 4)

    by_department: dict[str, list[RejectedRow]] = {}
    for reject in result.rejects:
        by_department.setdefault(reject.department, []).append(reject)
    for department, rejects in by_department.items():
        ws = wb.create_sheet(_sheet_title(department, used))
        _title(
            ws,
            f"{department} 財産台帳の差戻し {len(rejects):,}件（{fiscal}）",
            "「理由」を見て台帳を直し、もう一度提出してください。行番号は台帳の Excel の行です。",
        )
        labels: list[str] = []
        for reject in rejects:
            labels.extend(label for label in reject.values if label not in labels)
        header = ["行", "理由", "理由コード", "ファイル", *labels]
        rows: list[list[CellValue]] = [
            [
                reject.row,
                "\n".join(_strip_where(r.message_ja) for r in reject.reasons),
                ", ".join(reject.codes),
                reject.workbook,
                *(reject.values.get(label) for label in labels),
            ]
            for reject in rejects
        ]
        write_table(ws, header, rows, header_row=4)
        ws.column_dimensions["B"].width = 70
        for row_cells in ws.iter_rows(min_row=5, min_col=2, max_col=2):
            for cell in row_cells:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.fill = _REASON_FILL
        _print_setup(ws, 4)

    if result.quarantined:
        ws = wb.create_sheet(_sheet_title(QUARANTINE_SHEET, used))
        _title(
            ws, "取り込めなかったファイル・シート", "理由に従って直し、もう一度提出してください。"
        )
        write_table(
            ws,
            ["ファイル・シート", "理由コード", "理由", "Reason (English)"],
            [
                [q.item_ref, q.reason.code, q.reason.message_ja, q.reason.message_en]
                for q in result.quarantined
            ],
            header_row=4,
        )
        for col in ("C", "D"):
            ws.column_dimensions[col].width = 70
        for row_cells in ws.iter_rows(min_row=5, min_col=3, max_col=4):
            for cell in row_cells:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        _print_setup(ws, 4)

    if result.unencodable:
        ws = wb.create_sheet(_sheet_title(UNENCODABLE_SHEET, used))
        _title(
            ws,
            "取込ファイル（Shift_JIS）で表せない文字",
            f"CSV では {GETA} に置き換えています。公会計システムで正しい字に直してください。",
        )
        write_table(
            ws,
            ["ファイル", "シート（所管課）", "行", "列", "文字", "コード", "CSVでの表記"],
            [
                [u.workbook, u.sheet, u.row, u.column, u.char, u.codepoint, GETA]
                for u in result.unencodable
            ],
            header_row=4,
        )
        _print_setup(ws, 4)
    return save_workbook(wb, path)


def _strip_where(message: str) -> str:
    """A reason without its 「sheet」n行目: prefix: the rejects sheet shows the row already."""
    head, sep, rest = message.partition(": ")
    return rest if sep and "行目" in head else message
