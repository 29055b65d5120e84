"""Overtime-notice documents: 通知文書 PDFs, the 宛名シール sheet and the チェックリスト.

* :func:`write_notices`: one A4 notice per recipient (``overtime_notice.html.j2``).
* :func:`write_label_sheet`: one address label per recipient on an A4 label sheet
  (``address_labels.html.j2``), layout from :class:`~civicflow.overtime.models.LabelLayout`.
* :func:`write_checklist`: the workbook the person who double-checks ticks, one row per
  notice, plus the staff rows and the problems to review.

The recipient is the legitimate reader of a notice, so it prints full names; the check
list carries the recipient's name (it goes with the envelope) and staff IDs only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict

from civicflow.documents.excel import BODY_FONT, CellValue, save_workbook, write_table
from civicflow.documents.pdf import render_pdf
from civicflow.japanese import to_wareki, wareki_year_month
from civicflow.overtime.models import (
    LABEL_12UP,
    Cap,
    LabelLayout,
    Notice,
    NoticeBatch,
    OvertimeLimits,
    OvertimeResult,
    Recipient,
    StaffOvertime,
    format_minutes,
)

log = logging.getLogger(__name__)

NOTICE_TEMPLATE = "overtime_notice.html.j2"
LABEL_TEMPLATE = "address_labels.html.j2"
NOTICE_SUBJECT = "超過勤務命令の上限を超えた職員について（通知）"
DOC_NUMBER_FORMAT = "港総人第{number}号"
CHECK_VALUES: Final = ("済", "要修正")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]")


class NoticeSender(BaseModel):
    """Who issues the notice and whom to call (差出人と担当). Minato's defaults."""

    model_config = ConfigDict(frozen=True)

    issuer: str = "総務部人事課長"
    seal_note: str = "（公印省略）"
    department: str = "総務部 人事課 人事係"
    contact_name: str = ""
    phone: str = "03-3578-2111（代表）"
    email: str = ""


@dataclass(frozen=True)
class IssuedNotice:
    """A notice written to a file, with its document number."""

    doc_number: str
    path: Path
    notice: Notice


@dataclass(frozen=True)
class NoticeRow:
    """One table row of a notice, as printed."""

    staff: StaffOvertime
    month: str
    fiscal_year: str
    averages: list[tuple[str, bool]]  # (h:mm, over the cap) per window
    months_over: str
    month_over: bool
    fiscal_year_over: bool
    months_over_over: bool
    caps: list[str]


def notice_file_name(recipient_id: str, year: int, month: int, doc_number: int) -> str:
    """``notice_<YYYYMM>_<document number>_<recipient ID>.pdf`` (ASCII on purpose)."""
    safe_id = _UNSAFE_IN_FILE_NAME.sub("_", recipient_id)
    return f"notice_{year:04d}{month:02d}_{doc_number}_{safe_id}.pdf"


def _rows(notice: Notice, limits: OvertimeLimits) -> list[NoticeRow]:
    """The notice's table rows, with the figures over a cap marked."""
    windows = sorted(limits.rolling_windows)
    rows: list[NoticeRow] = []
    for entry in notice.entries:
        staff = entry.staff
        caps = {b.cap: b for b in staff.breaches}
        rolling = caps.get(Cap.ROLLING_AVERAGE)
        averages = [
            (
                format_minutes(staff.rolling_average_minutes.get(n, 0.0)),
                rolling is not None
                and staff.other_directed
                and staff.rolling_average_minutes.get(n, 0.0)
                > OvertimeLimits.to_minutes(limits.rolling_average_hours),
            )
            for n in windows
        ]
        rows.append(
            NoticeRow(
                staff=staff,
                month=staff.month_text,
                fiscal_year=staff.fiscal_year_text,
                averages=averages,
                months_over=f"{staff.months_over_monthly}",
                month_over=Cap.MONTHLY in caps or Cap.SINGLE_MONTH in caps,
                fiscal_year_over=Cap.ANNUAL in caps,
                months_over_over=Cap.MONTHS_OVER in caps,
                caps=[b.label_ja for c in staff.caps for b in [caps[c]]],
            )
        )
    return rows


def _indirect_routes(notice: Notice) -> list[str]:
    """Routes that reached the recipient past a vacancy or 事務取扱 (why they receive it)."""
    found = [
        route.description_ja
        for entry in notice.entries
        for route in entry.routes
        if len(route.post_path) > 1
    ]
    return list(dict.fromkeys(found))


def write_notices(
    batch: NoticeBatch,
    out_dir: Path,
    issued_on: dt.date,
    *,
    doc_number_start: int = 1,
    doc_number_format: str = DOC_NUMBER_FORMAT,
    sender: NoticeSender | None = None,
    limits: OvertimeLimits | None = None,
    font_path: Path | None = None,
) -> list[IssuedNotice]:
    """Write one 通知文書 PDF per notice, numbered in batch order.

    Args:
        batch: The month's notices (recipient order).
        out_dir: Folder for the PDFs (created if missing).
        issued_on: The notice's date (施行日), printed in 和暦.
        doc_number_start: The first document number (港総人第N号).
        doc_number_format: How a number prints, with ``{number}``.
        sender: Issuer and contact; ``None`` uses :class:`NoticeSender`'s defaults.
        limits: The caps as applied (printed in the notice); ``None`` uses the defaults.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.

    Returns:
        The written notices with their document numbers, in batch order.

    Raises:
        PermanentError: The font or the template is missing, or the folder is not writable.
        TransientError: Writing a file failed for another I/O reason.
    """
    applied = limits or OvertimeLimits()
    signer = sender or NoticeSender()
    issued: list[IssuedNotice] = []
    for offset, notice in enumerate(batch.notices):
        number = doc_number_start + offset
        doc_number = doc_number_format.format(number=number)
        context: dict[str, object] = {
            "doc_number": doc_number,
            "issued_on": issued_on,
            "target": batch.target,
            "recipient": notice.recipient,
            "sender": signer,
            "subject": NOTICE_SUBJECT,
            "rows": _rows(notice, applied),
            "indirect_routes": _indirect_routes(notice),
            "windows": sorted(applied.rolling_windows),
            "limits": applied,
        }
        path = out_dir / notice_file_name(
            notice.recipient.staff_id, batch.year, batch.month, number
        )
        render_pdf(NOTICE_TEMPLATE, context, path, font_path=font_path)
        log.info(
            "notice %s to staff %s: %d staff listed",
            doc_number,
            notice.recipient.staff_id,
            len(notice.entries),
        )
        issued.append(IssuedNotice(doc_number=doc_number, path=path, notice=notice))
    return issued


@dataclass(frozen=True)
class LabelView:
    """One label as printed, with its place on the sheet (mm)."""

    recipient: Recipient
    x_mm: float
    y_mm: float
    place: str  # 庁舎 階


def write_label_sheet(
    recipients: list[Recipient],
    out_path: Path,
    *,
    layout: LabelLayout | None = None,
    font_path: Path | None = None,
) -> Path:
    """Write the 宛名シール: one label per recipient, filling sheets row by row.

    Each label: 〒 postal code, the building's address, 庁舎 and 階, 部 課, the title and
    the name with 様.

    Args:
        recipients: In notice order (so the envelopes match the notices).
        out_path: The PDF to write.
        layout: Sheet layout; ``None`` is the 12-up A4 sheet.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.

    Returns:
        ``out_path``.

    Raises:
        PermanentError: The font or the template is missing, or the folder is not writable.
        TransientError: Writing the file failed for another I/O reason.
    """
    sheet = layout or LABEL_12UP
    labels = [
        LabelView(
            recipient=r,
            x_mm=sheet.position_mm(i)[0],
            y_mm=sheet.position_mm(i)[1],
            place=" ".join(p for p in (r.building, r.floor) if p),
        )
        for i, r in enumerate(recipients)
    ]
    pages = [labels[i : i + sheet.per_page] for i in range(0, len(labels), sheet.per_page)]
    context: dict[str, object] = {"layout": sheet, "pages": pages}
    render_pdf(LABEL_TEMPLATE, context, out_path, font_path=font_path)
    log.info("labels: %d on %d sheet(s) (%s)", len(labels), len(pages), sheet.name)
    return out_path


# --- check list ------------------------------------------------------------------------------
CHECKLIST_SHEET = "チェックリスト"
STAFF_SHEET = "対象職員"
REVIEW_SHEET = "要確認"
CHECKLIST_HEADER: Final = [
    "No",
    "文書番号",
    "宛先職員番号",
    "宛先",
    "対象職員数",
    "対象職員番号",
    "当月時間外",
    "該当する上限",
    "通知の経路",
    "確認",
    "確認者",
    "備考",
]
STAFF_HEADER: Final = [
    "文書番号",
    "宛先職員番号",
    "職員番号",
    "所属",
    "他律的",
    "当月",
    "年度累計",
    "最大平均",
    "45時間超の月数",
    "該当する上限",
    "確認",
]
REVIEW_HEADER: Final = [
    "No",
    "区分",
    "重要度",
    "コード",
    "職員番号",
    "ファイル",
    "行",
    "内容",
    "対応",
]


def write_checklist(
    result: OvertimeResult, issued: list[IssuedNotice], out_path: Path, created_on: dt.date
) -> Path:
    """Write the チェックリスト workbook for the double check.

    Sheets: チェックリスト (one row per notice: number, recipient, staff IDs and this
    month's hours, caps, route, and blank 確認/確認者/備考 columns with a 済/要修正 list),
    対象職員 (one row per staff member per notice) and 要確認 (chain problems, input
    problems and quarantined files).

    Args:
        result: The month's result.
        issued: The notices as written (for the document numbers).
        out_path: The ``.xlsx`` to write (replaced whole).
        created_on: Printed in the title block.

    Returns:
        ``out_path``.
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = CHECKLIST_SHEET
    month_label = wareki_year_month(dt.date(result.year, result.month, 1))
    _title(ws, f"超過勤務通知 チェックリスト（{month_label}分）", created_on, len(issued))
    rows: list[list[CellValue]] = []
    for index, item in enumerate(issued, start=1):
        notice = item.notice
        rows.append(
            [
                index,
                item.doc_number,
                notice.recipient.staff_id,
                f"{notice.recipient.addressee_title} {notice.recipient.name} 様",
                len(notice.entries),
                "\n".join(e.staff.staff_id for e in notice.entries),
                "\n".join(e.staff.month_text for e in notice.entries),
                "\n".join("・".join(_cap_labels(e.staff)) for e in notice.entries),
                "\n".join(e.route_text for e in notice.entries),
                None,
                None,
                None,
            ]
        )
    header_row = 4
    write_table(ws, CHECKLIST_HEADER, rows, header_row=header_row, max_width=40)
    _wrap(ws, header_row, len(rows), len(CHECKLIST_HEADER))
    _check_list(ws, "J", header_row, len(rows))

    staff_ws = wb.create_sheet(STAFF_SHEET)
    staff_rows: list[list[CellValue]] = []
    for item in issued:
        for entry in item.notice.entries:
            s = entry.staff
            staff_rows.append(
                [
                    item.doc_number,
                    item.notice.recipient.staff_id,
                    s.staff_id,
                    s.unit_code,
                    "○" if s.other_directed else "",
                    s.month_text,
                    s.fiscal_year_text,
                    format_minutes(max(s.rolling_average_minutes.values(), default=0.0)),
                    s.months_over_monthly,
                    "・".join(_cap_labels(s)),
                    None,
                ]
            )
    write_table(staff_ws, STAFF_HEADER, staff_rows)
    _check_list(staff_ws, "K", 1, len(staff_rows))

    review_ws = wb.create_sheet(REVIEW_SHEET)
    review_rows: list[list[CellValue]] = []
    for problem in result.chain_problems:
        review_rows.append(
            ["通知先", "review", problem.kind.value, problem.staff_id, "", None, problem.message_ja]
        )
    for record in result.quarantined:
        review_rows.append(
            [
                "隔離",
                record.reason.severity.value,
                record.reason.code,
                "",
                record.item_ref,
                None,
                record.reason.message_ja,
            ]
        )
    for p in result.problems:
        review_rows.append(
            ["入力", p.severity.value, p.code, p.staff_id or "", p.source, p.line, p.message_ja]
        )
    numbered = [[i, *row, None] for i, row in enumerate(review_rows, start=1)]
    write_table(review_ws, REVIEW_HEADER, numbered, max_width=80)
    _wrap(review_ws, 1, len(numbered), len(REVIEW_HEADER))
    return save_workbook(wb, out_path)


def _cap_labels(staff: StaffOvertime) -> list[str]:
    """The labels of the caps exceeded, most serious first."""
    by_cap = {b.cap: b for b in staff.breaches}
    return [by_cap[c].label_ja for c in staff.caps]


def _title(ws: Worksheet, title: str, created_on: dt.date, count: int) -> None:
    """The title block above the check list's table."""
    ws["A1"] = title
    ws["A1"].font = Font(name=BODY_FONT.name, bold=True, size=14)
    ws["A2"] = (
        f"作成日：{to_wareki(created_on)}　通知 {count} 件　確認欄に「済」または「要修正」を選んでください。"
    )
    ws["A2"].font = BODY_FONT


def _wrap(ws: Worksheet, header_row: int, count: int, width: int) -> None:
    """Wrap text in data cells (multi-line cells) and align them to the top."""
    for row in ws.iter_rows(
        min_row=header_row + 1, max_row=header_row + count, min_col=1, max_col=width
    ):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)


def _check_list(ws: Worksheet, column: str, header_row: int, count: int) -> None:
    """A drop-down of 済 / 要修正 in the 確認 column."""
    if count == 0:
        return
    validation = DataValidation(
        type="list", formula1='"' + ",".join(CHECK_VALUES) + '"', allow_blank=True
    )
    validation.add(f"{column}{header_row + 1}:{column}{header_row + count}")
    ws.add_data_validation(validation)
