"""Notices, label sheets and the check list, read back from the files written."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import load_workbook

from civicflow.overtime.documents import (
    CHECKLIST_SHEET,
    REVIEW_SHEET,
    STAFF_SHEET,
    write_label_sheet,
)
from civicflow.overtime.models import (
    LABEL_12UP,
    LABEL_44UP,
    LabelLayout,
    NoticeBatch,
    OvertimeResult,
    Recipient,
)
from civicflow.overtime.pipeline import write_outputs

ISSUED = dt.date(2025, 2, 5)
MM = 72 / 25.4  # PDF points per millimetre


def pdf_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def squash(text: str) -> str:
    """Text without any whitespace (pdfplumber and the full-width space disagree)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def small(result: OvertimeResult) -> OvertimeResult:
    """Three notices of the sample: the first two and the one to an acting head."""
    notices = result.batch.notices
    acting = next(n for n in notices if any("事務取扱" in r for r in n.recipient.roles))
    chosen = [*notices[:2], acting] if acting not in notices[:2] else notices[:3]
    return result.model_copy(
        update={"batch": NoticeBatch(year=result.year, month=result.month, notices=chosen)}
    )


@pytest.fixture(scope="module")
def written(small: OvertimeResult, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_outputs(
        small, tmp_path_factory.mktemp("overtime-out"), ISSUED, doc_number_start=201
    )


def test_files_written(written: list[Path], small: OvertimeResult) -> None:
    names = [p.name for p in written]
    ids = [n.recipient.staff_id for n in small.batch.notices]
    assert names == [
        f"notice_202501_{201 + i}_{recipient}.pdf" for i, recipient in enumerate(ids)
    ] + ["labels_202501.pdf", "checklist_202501.xlsx"]
    assert all(name.isascii() for name in names)


def test_notices_read_back(written: list[Path], small: OvertimeResult) -> None:
    for number, (path, notice) in enumerate(zip(written, small.batch.notices, strict=False), 201):
        pages = pdf_pages(path)
        text = squash("\n".join(pages))
        assert f"港総人第{number}号" in text
        assert "令和7年2月5日" in text  # issued on, 和暦
        assert "令和7年1月" in text  # the month checked
        assert "超過勤務命令の上限を超えた職員について（通知）" in text
        assert squash(notice.recipient.name) + "様" in text
        assert squash(notice.recipient.title) in text
        for entry in notice.entries:
            staff = entry.staff
            assert staff.staff_id in text
            assert squash(staff.name) in text
            assert staff.month_text in text
            assert staff.fiscal_year_text in text
            for breach in staff.breaches:
                assert squash(breach.label_ja) in text
        assert f"{len(notice.entries)}名" in text


def test_acting_head_notice_says_why(written: list[Path], small: OvertimeResult) -> None:
    index = next(
        i
        for i, n in enumerate(small.batch.notices)
        if any("事務取扱" in r for r in n.recipient.roles)
    )
    text = squash("\n".join(pdf_pages(written[index])))
    assert "事務取扱" in text
    assert "送付の理由" in text
    assert "（欠員）" in text


def test_labels_one_per_notice(written: list[Path], small: OvertimeResult) -> None:
    (text,) = pdf_pages(written[-2])
    assert text.count("様") == len(small.batch.notices)
    for notice in small.batch.notices:
        assert squash(notice.recipient.name) in squash(text)
        assert f"〒{notice.recipient.postal_code}" in squash(text)


def _labels_per_page(path: Path) -> list[list[tuple[float, float]]]:
    """Top-left of every 〒 on every page, in mm."""
    with pdfplumber.open(path) as pdf:
        return [
            [(c["x0"] / MM, c["top"] / MM) for c in page.chars if c["text"] == "〒"]
            for page in pdf.pages
        ]


@pytest.mark.parametrize("layout", [LABEL_12UP, LABEL_44UP], ids=lambda lay: lay.name)
def test_label_sheet_layout(layout: LabelLayout, small: OvertimeResult, tmp_path: Path) -> None:
    recipients: list[Recipient] = small.recipients * math.ceil(
        (layout.per_page + 1) / len(small.recipients)
    )
    recipients = recipients[: layout.per_page + 1]
    path = write_label_sheet(recipients, tmp_path / "labels.pdf", layout=layout)
    pages = _labels_per_page(path)
    assert [len(p) for p in pages] == [layout.per_page, 1]
    for index, (x, y) in enumerate(pages[0]):
        left, top = layout.position_mm(index)
        assert left <= x <= left + layout.label_width_mm / 3, (index, x, left)
        assert top <= y <= top + layout.label_height_mm / 2, (index, y, top)
    with pdfplumber.open(path) as pdf:
        width, height = pdf.pages[0].width / MM, pdf.pages[0].height / MM
    assert (round(width), round(height)) == (210, 297)


def test_label_layout_model() -> None:
    assert LABEL_12UP.per_page == 12
    assert LABEL_12UP.position_mm(0) == (18.6, 21.5)
    assert LABEL_12UP.position_mm(11) == (105.0, 233.0)
    assert LABEL_12UP.position_mm(12) == LABEL_12UP.position_mm(0)
    assert LABEL_44UP.per_page == 44
    assert LABEL_44UP.position_mm(43) == (153.3, 262.8)
    with pytest.raises(ValueError, match="larger than A4"):
        LabelLayout(
            name="too-big",
            columns=3,
            rows=6,
            label_width_mm=86.4,
            label_height_mm=42.3,
            margin_top_mm=21.5,
            margin_left_mm=18.6,
        )


def test_checklist_one_row_per_notice(written: list[Path], small: OvertimeResult) -> None:
    wb = load_workbook(written[-1])
    assert wb.sheetnames == [CHECKLIST_SHEET, STAFF_SHEET, REVIEW_SHEET]
    ws = wb[CHECKLIST_SHEET]
    header = [c.value for c in ws[4]]
    assert header[:6] == ["No", "文書番号", "宛先職員番号", "宛先", "対象職員数", "対象職員番号"]
    assert "確認" in header
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0] is not None]
    assert len(rows) == len(small.batch.notices)
    check = header.index("確認")
    for row, notice in zip(rows, small.batch.notices, strict=True):
        assert row[2] == notice.recipient.staff_id
        assert str(row[5]).split("\n") == notice.staff_ids
        assert str(row[6]).split("\n") == [e.staff.month_text for e in notice.entries]
        assert row[check] is None  # for the person who double-checks
    (validation,) = ws.data_validations.dataValidation
    assert "済" in str(validation.formula1)
    staff_rows = list(wb[STAFF_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(staff_rows) == sum(len(n.entries) for n in small.batch.notices)
    review = list(wb[REVIEW_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(review) == len(small.chain_problems) + len(small.problems)
    assert {r[3] for r in review} >= {"cycle", "missing-link", "attendance-bad-hours"}


def test_no_notice_no_labels(small: OvertimeResult, tmp_path: Path) -> None:
    empty = small.model_copy(update={"batch": NoticeBatch(year=2025, month=1)})
    written = write_outputs(empty, tmp_path, ISSUED)
    assert [p.name for p in written] == ["checklist_202501.xlsx"]
