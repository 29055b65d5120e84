"""年間削減時間: roll up every process's run summaries by month for a fiscal year.

Publishes the table and the chart (Japanese labels) as artifacts and writes the same as
CSV and PNG under ``output/reports`` (``civicflow report hours --year Y`` does it by hand).
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from civicflow import hours_report
from civicflow.japanese import jst_date
from civicflow.settings import get_settings


@task(name="write-hours-report")
def write_report(year: int) -> tuple[Path, Path]:
    """Write the CSV and PNG of the fiscal year's hours saved."""
    settings = get_settings()
    return hours_report.write_hours_report(settings, year, settings.output_dir / "reports")


@flow(name="hours-saved-report", log_prints=False)
def hours_saved_report(year: int | None = None) -> float:
    """Report the hours saved in fiscal ``year`` (default: the current 年度).

    Args:
        year: 年度 (April–March).

    Returns:
        The year's total hours saved, net of reviewer time.
    """
    year = year if year is not None else hours_report.fiscal_year(jst_date(dt.datetime.now(dt.UTC)))
    csv_path, png_path = write_report(year)
    table = hours_report.hours_table(hours_report.load_summaries(get_settings()), year)
    total = float(table["削減時間(h)"].sum()) if len(table) else 0.0
    create_table_artifact(
        key="hours-saved-table",
        table={str(col): table[col].tolist() for col in table.columns},
        description=f"{year}年度 業務別・月別の削減時間 / hours saved by process and month",
    )
    image = base64.b64encode(png_path.read_bytes()).decode()
    create_markdown_artifact(
        key="hours-saved-chart",
        markdown=(
            f"# {year}年度 削減時間 / hours saved: {total:.1f} h\n\n"
            f"![削減時間](data:image/png;base64,{image})\n\nCSV: `{csv_path}`"
        ),
        description="削減時間のグラフ / chart",
    )
    return total
