"""Prefect tasks of the childcare-support process: thin wrappers over the pipeline.

One task per batch, never per field or per document (a task run costs ~9 ms).
Results are persisted and cached per flow run (the default cache policy includes
the run id and the inputs) so that a flow resumed after a suspend, which starts
again from the top, reuses what it already did instead of redoing it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task

from civicflow import models
from civicflow.childcare import pipeline
from civicflow.quarantine import record_quarantine
from civicflow.settings import get_settings
from civicflow.sources.base import SourceListing, make_source
from tasks.common import current_flow_run_id, retry_on_transient

IO_RETRY_DELAYS: list[float] = [2, 10, 30]  # seconds; bounded: three more tries, then the run fails


@task(
    name="list-e-applications",
    persist_result=True,
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_transient,
)
def list_new_applications() -> SourceListing:
    """一覧取得: ask the e-application source what is waiting."""
    return pipeline.list_applications(make_source(get_settings()))


@task(name="quarantine-listing-problems", persist_result=True)
def record_listing_problems(listing: SourceListing) -> int:
    """Record the listing's broken inputs (bad manifest rows, orphan PDFs); returns the new ones."""
    return record_quarantine(get_settings(), listing.quarantined, current_flow_run_id())


@task(
    name="download-e-applications",
    persist_result=True,
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_transient,
)
def download_applications(refs: list[models.SubmissionRef]) -> pipeline.DownloadReport:
    """申請データ取得: download one batch; already stored ones are never fetched again."""
    settings = get_settings()
    return pipeline.download_batch(make_source(settings), refs, settings, current_flow_run_id())


@task(name="resume-unfinished", persist_result=True)
def check_unfinished() -> pipeline.BatchReport:
    """Check applications an interrupted run stored but never checked."""
    settings = get_settings()
    return pipeline.process_batch(
        pipeline.unfinished_downloads(settings), settings, current_flow_run_id()
    )


@task(name="check-and-enter", persist_result=True)
def check_and_enter(receipt_nos: list[str]) -> pipeline.BatchReport:
    """本人確認・事業者確認・登録: verify one batch, enter clean ones, queue the rest."""
    return pipeline.process_batch(receipt_nos, get_settings(), current_flow_run_id())


@task(name="issue-documents", persist_result=True)
def issue_documents(today: dt.date, stage: str = "intake") -> list[Path]:
    """依頼書・実績管理: letters for cases without one, then the ledger.

    ``stage`` only tells the cache apart: documents are issued again after review.
    """
    return pipeline.issue_documents(get_settings(), today, current_flow_run_id())


@task(name="apply-review-decisions")
def apply_review(
    decisions: list[pipeline.ReviewDecision], reviewer: str, seconds_spent: float
) -> pipeline.ReviewReport:
    """Apply the reviewer's answers (audited under the reviewer's name)."""
    return pipeline.apply_review_decisions(
        get_settings(),
        decisions,
        reviewer=reviewer,
        seconds_spent=seconds_spent,
        flow_run_id=current_flow_run_id(),
    )
