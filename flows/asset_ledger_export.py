"""財産台帳 → 公会計 CSV: the monthly asset-ledger export, as the procedure manual reads.

1. 実施期間の確認 — run on the business days of the configured monthly window (the
   schedule fires daily in the first days of the month; other days end at once, skipped).
2. 台帳の読込 — read every department's ledger workbook (one sheet per 所管課); a broken
   or wrong file is quarantined with its reason and the others go on.
3. 検証 — required fields, dates, amounts, the straight-line depreciation cross-check.
4. 出力 — the public-accounting system's import CSV (CP932, CRLF, fixed column order) and a
   rejects workbook per 所管課 with the reason per row, for the departments to fix.
5. 実行実績 — the summary is stored and published.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow

from civicflow import models
from civicflow.assets import operations
from civicflow.japanese import jst_date
from civicflow.settings import get_settings
from tasks.assets import export_month
from tasks.common import current_flow_run_id, prepare_store, publish_summary


@flow(name="asset-ledger-export", log_prints=False)
def asset_ledger_export(
    fiscal_year: int | None = None, force: bool = False, today: dt.date | None = None
) -> models.RunSummary:
    """Export the departments' property ledgers to the public-accounting import CSV.

    Args:
        fiscal_year: 会計年度 of the figures (default: the year ``today`` falls in).
        force: Run outside the window, or again in a month already exported.
        today: The run date (default: today in Japan).

    Returns:
        The run's summary (stored and published as an artifact).
    """
    settings = get_settings()
    today = today or jst_date(dt.datetime.now(dt.UTC))
    year = fiscal_year if fiscal_year is not None else operations.fiscal_year_of(today)
    summary = models.RunSummary(
        process=operations.PROCESS,
        flow_run_id=current_flow_run_id(),
        started_at=dt.datetime.now(dt.UTC),
        baseline_minutes=settings.assets_baseline_minutes,
        batches_handled=0,
    )
    if not force and not operations.in_window(settings, today):
        summary.skipped_reason = f"{today} は出力期間外です / outside the export window"
    elif not force and operations.already_exported(settings, today):
        summary.skipped_reason = f"{today:%Y-%m} は出力済みです / already exported this month"
    if summary.skipped_reason:
        summary.finished_at = dt.datetime.now(dt.UTC)
        return summary

    prepare_store()
    outcome = export_month(year, today)
    summary.received = outcome.exported + outcome.rejected
    summary.verified = summary.received
    summary.entered = outcome.exported
    summary.rejected = outcome.rejected
    summary.quarantined = len(outcome.quarantined)
    summary.batches_handled = 1
    summary.documents = outcome.files
    summary.notes += [f"却下理由 {code}: {n} 行" for code, n in outcome.reject_counts.items()]
    if outcome.unencodable:
        summary.notes.append(
            f"CP932 にない文字 {outcome.unencodable} 件を〓で出力（却下ブック参照）"
            " / characters outside CP932 written as 〓 (see the rejects workbook)"
        )
    summary.finished_at = dt.datetime.now(dt.UTC)
    return publish_summary(
        summary,
        key="asset-ledger-export-summary",
        title=f"財産台帳 → 公会計 CSV（{year}年度）実行結果",
        description="出力行数・却下行数と削減時間 / rows exported, rejected, hours saved",
    )
