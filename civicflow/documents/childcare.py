"""Childcare-support documents: the request letters (依頼書) and the ledger (実績管理).

産前産後家事・育児支援サービス: after a case is entered, the ward asks the contracted
provider to serve it with a letter (one per provider per batch), and counts the cases
month by month in an Excel ledger the staff keep on the file share.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter, defaultdict
from pathlib import Path

from openpyxl.styles import Font
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict

from civicflow.documents.excel import (
    BODY_FONT,
    CellValue,
    open_workbook,
    print_setup_landscape,
    save_workbook,
    write_table,
)
from civicflow.documents.pdf import GETA, missing_glyphs, render_pdf
from civicflow.errors import InputError
from civicflow.japanese import to_wareki, wareki_year_month
from civicflow.models import CaseRow, Provider, mask_name

log = logging.getLogger(__name__)

LETTER_TEMPLATE = "childcare_request_letter.html.j2"
LETTER_SUBJECT = "産前産後家事・育児支援サービスの提供について（依頼）"
DOC_NUMBER_FORMAT = "港子第{number}号"
#: The office's clock: 和暦 months and dates on documents are Japan Standard Time.
JST = dt.timezone(dt.timedelta(hours=9), name="JST")
SUMMARY_SHEET = "集計"
_MONTH_SHEET = re.compile(r"^(明治|大正|昭和|平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月$")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]")


class LetterSender(BaseModel):
    """Who signs the 依頼書 and whom the provider calls back (差出人と担当).

    The defaults are Minato's; another ward passes its own.
    """

    model_config = ConfigDict(frozen=True)

    issuer: str = "港区長"
    seal_note: str = "（公印省略）"
    department: str = "みなと保健所 健康推進課 地域保健係"
    contact_name: str = ""
    phone: str = "03-3578-2111（代表）"
    email: str = ""


# --- 依頼書 -----------------------------------------------------------------------------------
def letter_file_name(provider_id: str, issued_on: dt.date, doc_number: int) -> str:
    """``request_<provider_id>_<YYYYMMDD>_<document number>.pdf``.

    ASCII on purpose: Japanese file names get garbled on some Windows shares, in zip
    files and in mail attachments. The document number makes the name unique per
    letter, so a re-run with the same numbers replaces its own files, nothing else.
    """
    safe_id = _UNSAFE_IN_FILE_NAME.sub("_", provider_id)
    return f"request_{safe_id}_{issued_on:%Y%m%d}_{doc_number}.pdf"


def write_request_letters(
    cases: list[CaseRow],
    providers: dict[str, Provider],
    out_dir: Path,
    issued_on: dt.date,
    doc_number_start: int,
    *,
    sender: LetterSender | None = None,
    doc_number_format: str = DOC_NUMBER_FORMAT,
    font_path: Path | None = None,
) -> list[Path]:
    """Write one 依頼書 PDF per provider that has cases.

    Providers are taken in ``provider_id`` order and numbered from
    ``doc_number_start`` (港子第1201号, 第1202号 …); each letter lists its cases in
    登録番号 order, with full names: the provider is the legitimate recipient.
    File names: :func:`letter_file_name`. A character the font cannot draw (𠮷)
    prints as 〓 and is logged with the case's 受付番号, so staff can write it in
    by hand before the letter goes out.

    Args:
        cases: The cases to request (typically those without a letter yet).
        providers: The contract list, by ``provider_id``.
        out_dir: Folder for the PDFs (created if missing).
        issued_on: The letter's date (施行日), printed in 和暦.
        doc_number_start: The first document number (文書番号) of this batch.
        sender: Issuer and contact block; ``None`` uses :class:`LetterSender`'s defaults.
        doc_number_format: How a number prints, with ``{number}``.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.

    Returns:
        The written PDFs, in provider order (empty when ``cases`` is empty).

    Raises:
        InputError: A case names a provider missing from ``providers``; nothing is
            written (the error lists the 受付番号 to set aside).
        PermanentError: The font or the template is missing, or ``out_dir`` is not
            writable.
        TransientError: Writing a file failed for another I/O reason.
    """
    unknown = sorted(c.receipt_no for c in cases if c.provider_id not in providers)
    if unknown:
        missing = sorted({c.provider_id for c in cases if c.provider_id not in providers})
        raise InputError(
            f"契約事業者の一覧にない事業者番号 {', '.join(missing)} の案件があります"
            f"（受付番号 {', '.join(unknown)}）。事業者マスタを確認してください。",
            f"Cases name provider(s) {', '.join(missing)} that are not in the contract "
            f"list (receipt numbers {', '.join(unknown)}). Check the provider master.",
            code="provider-unknown",
        )
    by_provider: dict[str, list[CaseRow]] = defaultdict(list)
    for case in cases:
        by_provider[case.provider_id].append(case)
    signer = sender or LetterSender()
    written: list[Path] = []
    for offset, provider_id in enumerate(sorted(by_provider)):
        number = doc_number_start + offset
        context: dict[str, object] = {
            "doc_number": doc_number_format.format(number=number),
            "issued_on": issued_on,
            "provider": providers[provider_id],
            "sender": signer,
            "subject": LETTER_SUBJECT,
            "cases": sorted(by_provider[provider_id], key=lambda c: c.registration_no),
        }
        _warn_missing_glyphs(by_provider[provider_id], font_path)
        out_path = out_dir / letter_file_name(provider_id, issued_on, number)
        written.append(render_pdf(LETTER_TEMPLATE, context, out_path, font_path=font_path))
    return written


def _warn_missing_glyphs(cases: list[CaseRow], font_path: Path | None) -> None:
    """Log (受付番号 and code points, no names) the cases whose text the font lacks."""
    for case in cases:
        text = "".join((case.applicant_name, case.applicant_kana, case.address, case.phone))
        missing = missing_glyphs(text, font_path)
        if missing:
            log.warning(
                "依頼書: receipt %s has %d character(s) the font lacks, printed as %s: %s",
                case.receipt_no,
                len(missing),
                GETA,
                ", ".join(f"U+{ord(ch):04X}" for ch in missing),
            )


# --- 実績管理 ledger -----------------------------------------------------------------------------
LEDGER_HEADER: list[str] = [
    "No.",
    "登録番号",
    "受付番号",
    "利用者",
    "サービス",
    "事業者番号",
    "事業者",
    "利用開始希望日",
    "上限時間",
    "負担額/時間（円）",
    "登録日",
]
SUMMARY_HEADER: list[str] = ["年月", "事業者番号", "事業者", "件数", "上限時間合計"]


def entered_on(case: CaseRow) -> dt.date:
    """The day (JST) a case was entered: it decides the ledger month.

    An aware ``entered_at`` is converted to JST; a naive one is taken as UTC, which
    is what the store holds (SQLite returns its UTC timestamps without the offset).
    """
    at = case.entered_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(JST).date()


def is_month_sheet(name: str) -> bool:
    """Whether a sheet name is a ledger month (令和6年4月): such sheets are rebuilt."""
    return _MONTH_SHEET.match(name) is not None


def update_performance_ledger(path: Path, cases: list[CaseRow], *, today: dt.date) -> Path:
    """Rebuild the 実績管理 workbook from the full case list, keeping staff's own sheets.

    One sheet per month of entry (「令和6年4月」, JST), rows = the cases entered that
    month with the applicant's name masked (the ledger is for counting); a 集計 sheet
    with the number of cases and the total hour caps per month and provider. Month
    sheets and 集計 are deleted and written again from ``cases`` each time, so a
    re-run gives the same workbook and a month stays as long as the store holds its
    cases: pass ALL cases, not this run's. Any other sheet (added by hand) is kept
    as it is, after the ledger's sheets. Order: 集計, months oldest first, others.

    Args:
        path: The ``.xlsx`` ledger (created if missing).
        cases: Every entered case.
        today: The update date printed on 集計.

    Returns:
        ``path``.

    Raises:
        PermanentError: The existing file is not a readable workbook, or the folder
            is not writable (or the file is open in Excel on Windows).
        TransientError: Writing the file failed for another I/O reason.
    """
    wb = open_workbook(path)
    kept = [ws for ws in wb.worksheets if not _is_ledger_sheet(ws.title)]
    for ws in list(wb.worksheets):
        if _is_ledger_sheet(ws.title):
            wb.remove(ws)

    by_month: dict[tuple[int, int], list[CaseRow]] = defaultdict(list)
    for case in cases:
        day = entered_on(case)
        by_month[(day.year, day.month)].append(case)

    summary = wb.create_sheet(SUMMARY_SHEET)
    month_sheets = []
    for year, month in sorted(by_month):
        month_cases = sorted(
            by_month[(year, month)], key=lambda c: (entered_on(c), c.registration_no)
        )
        ws = wb.create_sheet(wareki_year_month(dt.date(year, month, 1)))
        _write_month_sheet(ws, month_cases)
        month_sheets.append(ws)
    _write_summary_sheet(summary, by_month, today=today)

    _reorder(wb, [summary, *month_sheets, *kept])
    return save_workbook(wb, path)


def _is_ledger_sheet(name: str) -> bool:
    """Sheets this module owns (rebuilt each time)."""
    return name == SUMMARY_SHEET or is_month_sheet(name)


def _write_month_sheet(ws: Worksheet, cases: list[CaseRow]) -> None:
    """One month's cases, masked, as a filterable table."""
    rows: list[list[CellValue]] = [
        [
            index,
            case.registration_no,
            case.receipt_no,
            mask_name(case.applicant_name),
            case.service,
            case.provider_id,
            case.provider_name,
            case.start_date,
            case.hours_cap,
            case.fee_per_hour,
            entered_on(case),
        ]
        for index, case in enumerate(cases, start=1)
    ]
    write_table(ws, LEDGER_HEADER, rows)
    print_setup_landscape(ws, title_rows="1:1")


def _write_summary_sheet(
    ws: Worksheet, by_month: dict[tuple[int, int], list[CaseRow]], *, today: dt.date
) -> None:
    """Cases and total hour caps per month × provider, with a grand total."""
    ws["A1"] = "産前産後家事・育児支援サービス 実績集計"
    ws["A1"].font = Font(name=BODY_FONT.name, bold=True, size=14)
    ws["A2"] = f"更新日：{to_wareki(today)}"
    ws["A2"].font = BODY_FONT
    rows: list[list[CellValue]] = []
    for year, month in sorted(by_month):
        cases = by_month[(year, month)]
        counts = Counter(c.provider_id for c in cases)
        hours: Counter[str] = Counter()
        names: dict[str, str] = {}
        for case in cases:
            hours[case.provider_id] += case.hours_cap
            names[case.provider_id] = case.provider_name
        label = wareki_year_month(dt.date(year, month, 1))
        for provider_id in sorted(counts):
            rows.append(
                [label, provider_id, names[provider_id], counts[provider_id], hours[provider_id]]
            )
    header_row = 4
    write_table(ws, SUMMARY_HEADER, rows, header_row=header_row)
    total_row = header_row + len(rows) + 1
    total_cases = sum(len(cases) for cases in by_month.values())
    total_hours = sum(c.hours_cap for cases in by_month.values() for c in cases)
    for col, value in ((1, "合計"), (4, total_cases), (5, total_hours)):
        cell = ws.cell(row=total_row, column=col, value=value)
        cell.font = Font(name=BODY_FONT.name, bold=True)
        if isinstance(value, int):
            cell.number_format = "#,##0"
    print_setup_landscape(ws, title_rows=f"{header_row}:{header_row}")


def _reorder(wb: Workbook, order: list[Worksheet]) -> None:
    """Put the sheets in ``order``, open on the first, with only that tab selected.

    More than one selected tab makes Excel open the sheets grouped, and an edit
    then lands on all of them.
    """
    for index, ws in enumerate(order):
        wb.move_sheet(ws, offset=index - wb.index(ws))
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is order[0]
