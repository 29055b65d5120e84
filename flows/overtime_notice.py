"""超過勤務通知: the monthly overtime notice, as the procedure manual reads.

1. 実施日の確認 — run on the first business day of the month (the schedule fires on days
   1–7; the other days end at once, marked as skipped). ``force`` runs any day.
2. 対象者の抽出 — read the roster and the attendance exports; find the staff over a cap.
3. 通知先の確認 — each one's line 課長 and any 担当課長, past vacancies and 事務取扱.
4. 下書き作成 — notices (one per recipient), the address-label sheet and the check list.
5. ダブルチェック — a person checks the drafts against the check list and issues or holds.
6. 発行・実行実績 — issued documents move to ``issued/``; the summary is stored and published.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from prefect import flow
from pydantic import Field

from civicflow import models
from civicflow.japanese import jst_date
from civicflow.overtime import PROCESS, operations
from civicflow.review import measured_review_seconds
from civicflow.settings import get_settings
from tasks.common import current_flow_run_id, prepare_store, publish_summary, save_summary
from tasks.overtime import issue, prepare_drafts, record_check
from tasks.review import ReviewerInput, wait_for_review


class OvertimeCheckInput(ReviewerInput):
    """The double check: issue the drafts or hold them, and who checked."""

    decision: Literal["issue", "hold"] = Field(
        default="hold", description="issue 発行 / hold 保留（次回再確認）"
    )
    comment: str = ""


@flow(name="overtime-notice", persist_result=True, log_prints=False)
def overtime_notice(
    year: int | None = None,
    month: int | None = None,
    force: bool = False,
    review: bool = True,
    today: dt.date | None = None,
) -> models.RunSummary:
    """Prepare, double-check and issue the month's overtime notices.

    Args:
        year: The month checked: year (default: last month).
        month: The month checked: month (default: last month).
        force: Run even if today is not the first business day or the month was issued.
        review: Wait for the double check; False leaves the drafts for a later run.
        today: The date of the notices (default: today in Japan).

    Returns:
        The run's summary (stored and published as an artifact).
    """
    settings = get_settings()
    today = today or jst_date(dt.datetime.now(dt.UTC))
    if year is None or month is None:
        year, month = operations.target_month(today)
    summary = models.RunSummary(
        process=PROCESS,
        flow_run_id=current_flow_run_id(),
        started_at=dt.datetime.now(dt.UTC),
        baseline_minutes=settings.overtime_baseline_minutes,
        batches_handled=0,
    )
    if not force and not operations.is_run_day(today):
        summary.skipped_reason = (
            f"{today} は月初の開庁日ではありません / not the first business day"
        )
    elif not force and operations.already_issued(settings, year, month):
        summary.skipped_reason = f"{year}-{month:02d} は発行済みです / already issued"
    if summary.skipped_reason:
        summary.finished_at = dt.datetime.now(dt.UTC)
        return summary

    prepare_store()
    draft = prepare_drafts(year, month, today)
    summary.received = draft.counts.get("staff_over", 0)
    summary.verified = len(draft.notices)
    summary.sent_to_review = len(draft.chain_problems) + len(draft.problems)
    summary.quarantined = len(draft.quarantined)
    summary.documents = draft.files
    save_summary(summary)

    if review:
        check_id = operations.open_check(settings, draft, summary.flow_run_id)
        form = OvertimeCheckInput.with_initial_data(description=operations.check_description(draft))
        answer = wait_for_review(form, settings.review_timeout_s, key="overtime-check")
        seconds = answer.minutes_spent * 60 or measured_review_seconds(settings, [check_id], 1)
        record_check(draft, answer.decision, answer.reviewer, answer.comment, seconds)
        summary.reviewer_seconds = seconds
        if answer.decision == "issue":
            summary.documents = [str(p) for p in issue(draft)]
            summary.entered = len(draft.notices)
            summary.batches_handled = 1
            summary.reviewed = 1
        else:
            summary.notes.append("保留: 下書きのまま / held: drafts kept for the next run")
    summary.review_pending = 0 if operations.pending_check(settings, year, month) is None else 1
    summary.finished_at = dt.datetime.now(dt.UTC)
    return publish_summary(
        summary,
        key="overtime-notice-summary",
        title=f"超過勤務通知 {year}年{month}月分 実行結果",
        description="通知件数と削減時間 / notices and hours saved",
    )
