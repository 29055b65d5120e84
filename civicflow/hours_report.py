"""Hours saved (年間削減時間), rolled up from every run's stored summary.

Municipalities report RPA results as staff hours saved per year; the year here is the
fiscal year (年度, April–March). Figures are net of reviewer time, as each RunSummary's
``hours_saved`` already is. Runs that did nothing on purpose (skipped) are not stored.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from civicflow.documents import atomic_write
from civicflow.models import RunSummary
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope

JST = ZoneInfo("Asia/Tokyo")
PROCESS_LABELS: dict[str, str] = {
    "childcare_support": "産前産後家事・育児支援",
    "overtime_notice": "超過勤務通知",
    "asset_ledger_export": "財産台帳→公会計CSV",
    "bus_pass": "コミュニティバス乗車券",
    "retention": "保守（保管・削除）",
}
COLUMNS = ["年度", "月", "業務", "process", "実行回数", "処理件数", "確認時間(h)", "削減時間(h)"]


def fiscal_year(day: dt.date) -> int:
    """年度 of a date (April–March)."""
    return day.year if day.month >= 4 else day.year - 1


def hours_table(summaries: list[RunSummary], year: int) -> pd.DataFrame:
    """One row per process and month of fiscal ``year``, plus nothing for empty months."""
    rows = []
    for s in summaries:
        day = s.started_at.astimezone(JST).date()
        if fiscal_year(day) != year:
            continue
        rows.append(
            {
                "年度": year,
                "月": f"{day:%Y-%m}",
                "業務": PROCESS_LABELS.get(s.process, s.process),
                "process": s.process,
                "実行回数": 1,
                "処理件数": s.cases_handled,
                "確認時間(h)": s.reviewer_seconds / 3600,
                "削減時間(h)": s.hours_saved,
            }
        )
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows)
    table = frame.groupby(["年度", "月", "業務", "process"], as_index=False).sum(numeric_only=True)
    return table[COLUMNS].round({"確認時間(h)": 2, "削減時間(h)": 2})


def hours_chart(table: pd.DataFrame, year: int) -> bytes:
    """A stacked bar chart of hours saved per month by process (PNG, Japanese labels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (sets IPAexGothic as matplotlib's font)

    months = [f"{year + (m < 4):04d}-{m:02d}" for m in (*range(4, 13), 1, 2, 3)]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    bottom = pd.Series(0.0, index=months)
    for label in sorted(table["業務"].unique()) if len(table) else []:
        part = table[table["業務"] == label].set_index("月")["削減時間(h)"]
        values = part.reindex(months, fill_value=0.0)
        ax.bar([m[5:] + "月" for m in months], values, bottom=bottom, label=label)
        bottom = bottom + values
    total = float(table["削減時間(h)"].sum()) if len(table) else 0.0
    ax.set_title(f"{year}年度 業務自動化による削減時間（確認時間控除後）合計 {total:.1f} 時間")
    ax.set_ylabel("削減時間（時間）")
    if len(table):
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def load_summaries(settings: Settings) -> list[RunSummary]:
    """Every stored run summary."""
    with session_scope(settings.db_url) as session:
        return repo.run_summaries(session)


def write_hours_report(settings: Settings, year: int, out_dir: Path) -> tuple[Path, Path]:
    """Write the fiscal year's table (CSV, UTF-8 with BOM for Excel) and chart (PNG)."""
    table = hours_table(load_summaries(settings), year)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"hours_saved_FY{year}.csv"
    png_path = out_dir / f"hours_saved_FY{year}.png"
    with atomic_write(csv_path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    with atomic_write(png_path) as tmp:
        tmp.write_bytes(hours_chart(table, year))
    return csv_path, png_path
