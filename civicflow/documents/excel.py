"""Excel workbooks the staff open by hand: styled tables, kept sheets, atomic saves.

openpyxl keeps a sheet's values, formulas, styles, merged cells and data validation
when a workbook is loaded and saved again; it does NOT keep drawings, charts, images
or pivot tables. Ledgers this module writes are therefore rebuilt from data each
time, and staff should keep charts in a workbook of their own.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from civicflow.documents import atomic_write
from civicflow.errors import PermanentError

#: A cell value this module writes.
CellValue = str | int | float | dt.date | dt.datetime | None

#: Dates shown in 和暦 while the cell keeps a real date (sorts and filters as a date).
#: ``[$-411]`` (the Japanese locale) is understood by every Excel and by LibreOffice;
#: it prints the first year of an era as 1年, not 元年 (``[$-ja-JP-x-gannen]`` would,
#: but only in recent Excel), which matters for 2019 dates only.
WAREKI_DATE_FORMAT = '[$-411]ggge"年"m"月"d"日"'
JAPANESE_FONT = "游ゴシック"  # Excel's default Japanese font on Windows 10+

_THIN = Side(style="thin", color="808080")
HEADER_FONT = Font(name=JAPANESE_FONT, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill(fill_type="solid", start_color="305496", end_color="305496")
HEADER_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
BODY_FONT = Font(name=JAPANESE_FONT)


def display_width(text: str) -> int:
    """Width of ``text`` in half-width columns: full-width (kanji, kana) counts 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _shown(value: CellValue) -> str:
    """Roughly how a value appears in a cell, for column widths."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return "令和00年00月00日"
    if isinstance(value, int | float):
        return f"{value:,}"
    return value


def write_table(
    ws: Worksheet,
    header: Sequence[str],
    rows: Sequence[Sequence[CellValue]],
    *,
    header_row: int = 1,
    min_width: int = 6,
    max_width: int = 50,
) -> None:
    """Write a header and rows as a styled, filterable table.

    The header is bold on a dark fill, frozen, and carries an autofilter over the
    data; columns are sized to their longest value (full-width characters count 2);
    dates and datetimes print in 和暦 but stay real dates.

    Args:
        ws: The sheet to write to (rows from ``header_row`` down are overwritten).
        header: Column titles.
        rows: Data rows, each as long as ``header``.
        header_row: The 1-based row of the header (rows above it stay free for a title).
        min_width: Narrowest column, in half-width characters.
        max_width: Widest column, in half-width characters.

    Raises:
        ValueError: A row's length differs from the header's.
    """
    for col, title in enumerate(header, start=1):
        cell = ws.cell(row=header_row, column=col, value=title)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [display_width(title) for title in header]
    for offset, values in enumerate(rows, start=1):
        if len(values) != len(header):
            raise ValueError(f"row {offset} has {len(values)} cells, header has {len(header)}")
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=header_row + offset, column=col, value=value)
            cell.font = BODY_FONT
            if isinstance(value, dt.date):
                cell.number_format = WAREKI_DATE_FORMAT
            elif isinstance(value, int):
                cell.number_format = "#,##0"
            widths[col - 1] = max(widths[col - 1], display_width(_shown(value)))
    for col, width in enumerate(widths, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = min(max(width + 2, min_width), max_width)
    last_col = get_column_letter(max(len(header), 1))
    ws.freeze_panes = f"A{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{last_col}{header_row + max(len(rows), 1)}"


def open_workbook(path: Path) -> Workbook:
    """Load ``path`` for update, or start an empty workbook (no sheets) if it does not exist.

    Args:
        path: The ``.xlsx`` file.

    Returns:
        The workbook; a new one has its default sheet removed.

    Raises:
        PermanentError: The file exists but is not a readable ``.xlsx`` workbook.
    """
    if not path.exists():
        wb = Workbook()
        wb.remove(wb.worksheets[0])  # the default 'Sheet'
        return wb
    try:
        return load_workbook(path)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise PermanentError(
            f"Excel ファイルを開けません: {path}（{exc}）。"
            "ファイルが壊れているか、.xlsx 形式ではありません。"
            "バックアップから戻すか、ファイルを移動すれば新しく作り直します。",
            f"Cannot open the Excel file {path} ({exc}): it is damaged or not .xlsx. "
            "Restore it from a backup, or move it away to have it rebuilt.",
            code="workbook-unreadable",
        ) from exc


def save_workbook(wb: Workbook, path: Path) -> Path:
    """Save a workbook atomically (temporary file, then rename).

    Args:
        wb: The workbook.
        path: Where to save it.

    Returns:
        ``path``.

    Raises:
        PermanentError: The folder is not writable or the file is open in Excel.
        TransientError: Another I/O failure.
    """
    with atomic_write(path) as tmp:
        wb.save(tmp)
    return path


def print_setup_landscape(ws: Worksheet, *, title_rows: str) -> None:
    """A4 landscape, one page wide, header repeated on every printed page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = title_rows
