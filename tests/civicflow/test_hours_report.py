"""Hours saved rolled up by fiscal year, month and process."""

from __future__ import annotations

import datetime as dt

from civicflow.hours_report import fiscal_year, hours_chart, hours_table, write_hours_report
from civicflow.models import RunSummary
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import migrate, session_scope

JST = dt.timezone(dt.timedelta(hours=9))


def _run(process: str, when: dt.datetime, entered: int, review_s: float, base: float) -> RunSummary:
    return RunSummary(
        process=process,
        flow_run_id=f"{process}-{when:%m%d%H}",
        started_at=when,
        entered=entered,
        reviewer_seconds=review_s,
        baseline_minutes=base,
    )


def test_fiscal_year_runs_april_to_march() -> None:
    assert fiscal_year(dt.date(2026, 3, 31)) == 2025
    assert fiscal_year(dt.date(2026, 4, 1)) == 2026


def test_table_sums_per_month_and_process_net_of_review_and_skips_other_years() -> None:
    runs = [
        _run("childcare_support", dt.datetime(2026, 4, 2, 2, tzinfo=JST), 12, 600, 10),  # 1.833 h
        _run("childcare_support", dt.datetime(2026, 4, 3, 2, tzinfo=JST), 6, 0, 10),  # 1.0 h
        _run("childcare_support", dt.datetime(2026, 3, 31, 23, tzinfo=JST), 60, 0, 10),  # FY2025
        # 00:30 JST on 1 May is still 30 April in UTC: the month follows Japan time
        _run("childcare_support", dt.datetime(2026, 5, 1, 0, 30, tzinfo=JST), 6, 0, 10),
    ]
    table = hours_table(runs, 2026)
    april = table[table["月"] == "2026-04"].iloc[0]
    assert april["実行回数"] == 2 and april["処理件数"] == 18
    assert round(float(april["削減時間(h)"]), 2) == 2.83
    assert set(table["月"]) == {"2026-04", "2026-05"}
    assert hours_chart(table, 2026).startswith(b"\x89PNG")


def test_report_files_from_the_store(settings: Settings) -> None:
    migrate(settings.db_url)
    with session_scope(settings.db_url) as s:
        repo.save_run_summary(
            s,
            _run("overtime_notice", dt.datetime(2026, 6, 1, 9, tzinfo=JST), 0, 900, 120).model_copy(
                update={"batches_handled": 1}
            ),
        )
    csv_path, png_path = write_hours_report(settings, 2026, settings.output_dir / "reports")
    text = csv_path.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("年度,月,業務")
    assert "超過勤務通知" in text and "1.75" in text  # 120 min − 15 min of checking
    assert png_path.read_bytes().startswith(b"\x89PNG")
