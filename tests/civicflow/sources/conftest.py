"""Fixtures for the source tests: tiny export folders written by the tests themselves."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civicflow.models import CHILDCARE_FIELD_LABELS, CHILDCARE_PROCEDURE_CODE

#: A synthetic applicant (no real person): used to check that PII never reaches the logs.
APPLICANT_NAME = "髙橋 花子"
APPLICANT_PHONE = "090-1234-5678"

ExportFactory = Callable[..., Path]


def make_row(receipt_no: str, **overrides: str) -> dict[str, str]:
    """One manifest row (Japanese column names), valid unless overridden."""
    row = {
        "受付番号": receipt_no,
        "申請日時": "2024-04-01T09:30:00+09:00",
        "手続コード": CHILDCARE_PROCEDURE_CODE,
        "添付ファイル": f"{receipt_no}.pdf",
    }
    values = {
        "applicant_name": APPLICANT_NAME,
        "applicant_kana": "タカハシ ハナコ",
        "applicant_birth_date": "平成2年5月1日",
        "postal_code": "105-0014",
        "address": "東京都港区芝1-2-3",
        "phone": APPLICANT_PHONE,
        "pregnancy_status": "妊娠中",
        "due_date": "令和6年8月1日",
        "child_birth_date": "",
        "child_name": "",
        "birth_type": "単胎",
        "boshi_techo_date": "令和6年1月10日",
        "tax_status": "課税",
        "service": "家事支援",
        "provider_id": "P001",
        "provider_name": "みなと家事サポート",
        "start_date": "令和6年8月15日",
    }
    row |= {CHILDCARE_FIELD_LABELS[k]: v for k, v in values.items()}
    row |= overrides
    return row


@pytest.fixture
def row() -> Callable[..., dict[str, str]]:
    """The :func:`make_row` factory."""
    return make_row


@pytest.fixture
def make_export(tmp_path: Path) -> ExportFactory:
    """Write an export folder; returns its path.

    Call as ``make_export(rows, fmt="csv"|"json", encoding=..., pdfs={name: bytes}, header=...)``.
    By default every row's attachment is written as a small fake PDF.
    """
    counter = 0

    def factory(
        rows: list[dict[str, Any]],
        *,
        fmt: str = "csv",
        encoding: str = "utf-8-sig",
        pdfs: dict[str, bytes] | None = None,
        header: list[str] | None = None,
        raw_lines: list[list[str]] | None = None,
    ) -> Path:
        nonlocal counter
        counter += 1
        export = tmp_path / f"export{counter}"
        (export / "pdf").mkdir(parents=True)
        if pdfs is None:
            pdfs = {
                r["添付ファイル"]: b"%PDF-1.4 fake " + r["受付番号"].encode()
                for r in rows
                if r.get("添付ファイル")
            }
        for name, data in pdfs.items():
            (export / "pdf" / name).write_bytes(data)
        if fmt == "json":
            text = json.dumps(rows, ensure_ascii=False)
            (export / "manifest.json").write_bytes(text.encode(encoding))
            return export
        columns = header or (list(rows[0]) if rows else list(make_row("X")))
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([r.get(c, "") for c in columns])
        for line in raw_lines or []:
            writer.writerow(line)
        (export / "manifest.csv").write_bytes(buf.getvalue().encode(encoding))
        return export

    return factory


@pytest.fixture
def pii_values() -> list[str]:
    """Personal values written into every test row: none may appear in a log line."""
    return [APPLICANT_NAME, APPLICANT_PHONE, "芝1-2-3", "タカハシ"]
