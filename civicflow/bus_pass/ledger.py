"""受付簿: the receipt ledger of the paper applications, as .xlsx (fiscal year) and PDF (day).

Every form the process handled is a row: 交付 (a pass was issued), 確認中 (waiting for a
reviewer) or 不交付 (a reviewer refused it). Both files are rebuilt from the store on every
run, so a re-run or a late review answer simply gives the complete ledger again.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel
from sqlalchemy import select

from civicflow.bus_pass.pipeline import PROCESS
from civicflow.documents.excel import print_setup_landscape, save_workbook, write_table
from civicflow.documents.pdf import render_pdf
from civicflow.forms.definition import load_form
from civicflow.hours_report import fiscal_year
from civicflow.japanese import jst_date, try_parse_date
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ReviewItemRow

TITLE = "コミュニティバス無料乗車券 受付簿"
AUTO = "（自動）"  # entered without a person: every field was certain or confirmed by the registry
HEADER = [
    "No.",
    "処理日",
    "帳票ID",
    "氏名",
    "フリガナ",
    "生年月日",
    "住所",
    "対象要件",
    "状態",
    "乗車券番号",
    "有効期限",
    "確認者",
]


class LedgerRow(BaseModel):
    """One form in the ledger (personal data: the ledger is an official record)."""

    day: dt.date
    form_ref: str
    name: str = ""
    kana: str = ""
    birth_date: dt.date | None = None
    address: str = ""
    eligibility: str = ""
    status: str
    pass_no: str = ""
    valid_until: dt.date | None = None
    reviewed_by: str = ""


def _labels(codes: Any, options: dict[str, str]) -> str:
    if not isinstance(codes, list):
        return ""
    return "・".join(options.get(str(c), str(c)) for c in codes)


def _row(
    day: dt.date,
    ref: str,
    values: dict[str, Any],
    status: str,
    options: dict[str, str],
    **extra: Any,
) -> LedgerRow:
    address = str(values.get("address") or "")
    return LedgerRow(
        day=day,
        form_ref=ref,
        name=str(values.get("name") or ""),
        kana=str(values.get("furigana") or ""),
        birth_date=try_parse_date(str(values.get("birth_date") or "")),
        address=f"東京都港区{address}" if address and not address.startswith("東京都") else address,
        eligibility=_labels(values.get("eligibility"), options),
        status=status,
        **extra,
    )


def ledger_rows(settings: Settings) -> list[LedgerRow]:
    """Every handled form: issued passes, forms in review and refused ones, by day and ID."""
    form = load_form(settings.bus_pass_form)
    options = {o.value: o.label for f in form.fields for o in f.options}
    rows: list[LedgerRow] = []
    with session_scope(settings.db_url) as session:
        for p in repo.bus_passes(session):
            rows.append(
                _row(
                    jst_date(p.issued_at),
                    p.form_id,
                    dict(p.fields),
                    "交付",
                    options,
                    pass_no=p.pass_no or "",
                    valid_until=p.valid_until,
                    reviewed_by="・".join(str(r) for r in p.reviewed_by) or AUTO,
                )
            )
        items = session.scalars(
            select(ReviewItemRow).where(
                ReviewItemRow.process == PROCESS,
                (ReviewItemRow.status == "pending") | (ReviewItemRow.decision == "reject"),
            )
        )
        for item in items:
            values = dict(item.proposed.get("values", {}))
            if item.status == "pending":
                rows.append(
                    _row(jst_date(item.created_at), item.item_ref, values, "確認中", options)
                )
            else:
                day = jst_date(item.decided_at or item.created_at)
                rows.append(
                    _row(
                        day,
                        item.item_ref,
                        values,
                        "不交付",
                        options,
                        reviewed_by=item.reviewer or "",
                    )
                )
    return sorted(rows, key=lambda r: (r.day, r.form_ref))


def write_ledger(settings: Settings, today: dt.date) -> list[Path]:
    """Write the fiscal year's 受付簿 (.xlsx) and the day's (PDF); returns the paths."""
    rows = ledger_rows(settings)
    year = fiscal_year(today)
    out = settings.output_dir / "bus_pass"
    out.mkdir(parents=True, exist_ok=True)
    in_year = [r for r in rows if fiscal_year(r.day) == year]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{year}年度"
    write_table(
        ws,
        HEADER,
        [
            [
                i,
                r.day,
                r.form_ref,
                r.name,
                r.kana,
                r.birth_date,
                r.address,
                r.eligibility,
                r.status,
                r.pass_no,
                r.valid_until,
                r.reviewed_by,
            ]
            for i, r in enumerate(in_year, start=1)
        ],
    )
    print_setup_landscape(ws, title_rows="1:1")
    xlsx = save_workbook(wb, out / f"受付簿_{year}年度.xlsx")
    day_rows = [r for r in rows if r.day == today]
    pdf = render_pdf(
        "bus_pass_ledger.html.j2",
        {
            "title": TITLE,
            "day": today,
            "rows": day_rows,
            "counts": dict(Counter(r.status for r in day_rows)),
        },
        out / f"受付簿_{today.isoformat()}.pdf",
    )
    return [xlsx, pdf]
