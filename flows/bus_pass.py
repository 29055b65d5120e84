"""コミュニティバス無料乗車券: the nightly batch over the scan inbox.

1. 受付 — list the scanned files in the inbox folder.
2. 読取・交付 — read the files (one task per few files; on a Dask cluster by a setting); clean
   forms are entered as pass issuances, doubtful ones wait for review, unreadable
   pages are quarantined.
3. 受付簿 — write the receipt ledger.
4. 人による確認 — offer the waiting forms in the Prefect UI with the handwriting crops;
   then, for the critical fields, a second screen that a different reviewer answers.
   Unanswered forms stay in the queue for the next run; under a deployment the run is
   suspended and holds no process while it waits.
5. 実行実績 — store and publish the run summary (fields read, auto-accepted, reviewed,
   corrected, reviewer time, net hours saved).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, unmapped
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from civicflow import models
from civicflow.bus_pass import pipeline
from civicflow.bus_pass.review import FormAnswer, initial_answers, review_description
from civicflow.japanese import jst_date
from civicflow.review import seconds_since
from civicflow.settings import Settings, get_settings
from tasks.bus_pass import apply_review, list_inbox, read_scans, write_ledger
from tasks.common import (
    current_flow_run_id,
    noted_time,
    prepare_store,
    publish_summary,
    save_summary,
)
from tasks.review import ReviewerInput, wait_for_review

REVIEW_ROUNDS = 2  # a first screen, then one for the second entries of critical fields


class BusPassReviewInput(ReviewerInput):
    """The review form: per paper form a decision and the checked field values."""

    forms: list[FormAnswer] = Field(
        default_factory=list, description="帳票ごとの判断と項目 / One decision per paper form"
    )


def dask_worker_env(threads: int = 1) -> dict[str, str]:
    """Environment of a local Dask worker: each process keeps to ``threads`` cores.

    Several workers on one machine would otherwise each start a thread per core in ONNX
    Runtime, torch, OpenCV and the BLAS library, and fight over the same cores.
    """
    n = str(threads)
    return {
        "CIVICFLOW_OCR_THREADS": n,
        "OMP_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
    }


def ocr_task_runner(settings: Settings) -> Any:
    """The task runner of the reading subflow: a Dask cluster, or one thread.

    ``CIVICFLOW_OCR_TASK_RUNNER=dask`` with ``CIVICFLOW_DASK_ADDRESS=tcp://host:8786`` joins a
    running scheduler (other machines' workers included); without an address a local
    cluster of ``CIVICFLOW_DASK_WORKERS`` single-threaded processes is started for the run.
    """
    if settings.ocr_task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
                "env": dask_worker_env(settings.ocr_threads or 1),
            }
        )
    # One at a time: the engines use both cores for one crop already.
    return ThreadPoolTaskRunner(max_workers=1)


@flow(name="bus-pass-read-batch", persist_result=True)
def read_batch(paths: list[str], today: dt.date, run_key: str) -> list[pipeline.DocumentReport]:
    """Read the files on a Dask cluster (a subflow, so that the task runner can change)."""
    futures = read_scans.map(_chunks(paths), today=unmapped(today), run_key=unmapped(run_key))
    return [report for f in futures for report in f.result()]


def _chunks(paths: list[str]) -> list[list[str]]:
    size = get_settings().bus_pass_files_per_task
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def read_inbox(paths: list[str], today: dt.date, run_key: str) -> list[pipeline.DocumentReport]:
    """Read the files: here, one task after another, or on Dask (CIVICFLOW_OCR_TASK_RUNNER)."""
    settings = get_settings()
    if settings.ocr_task_runner == "dask":
        return read_batch.with_options(task_runner=ocr_task_runner(settings))(paths, today, run_key)
    # In this process the engines already use both cores for one crop: one file at a time,
    # the next task's first file decoded while this task's last one is read.
    chunks = _chunks(paths)
    reports: list[pipeline.DocumentReport] = []
    for k, chunk in enumerate(chunks):
        then = chunks[k + 1][0] if k + 1 < len(chunks) else None
        reports.extend(read_scans(chunk, today, run_key, then=then))
    return reports


@flow(name="bus-pass", persist_result=True, log_prints=False)
def bus_pass(
    review: bool = True, today: dt.date | None = None, max_files: int | None = None
) -> models.RunSummary:
    """Read every scanned application in the inbox, enter, review, and write the 受付簿.

    Args:
        review: offer the doubtful forms to reviewers and wait; False leaves them queued.
        today: the processing date (default: today in Japan).
        max_files: read at most this many files this run (the rest wait for the next).

    Returns:
        The run's summary, also stored and published as an artifact.
    """
    settings = get_settings()
    today = today or jst_date(dt.datetime.now(dt.UTC))
    summary = models.RunSummary(
        process=pipeline.PROCESS,
        flow_run_id=current_flow_run_id(),
        started_at=noted_time("run-start"),
        baseline_minutes=settings.bus_pass_baseline_minutes,
    )
    prepare_store()
    paths = list_inbox(max_files)
    for report in read_inbox(paths, today, summary.flow_run_id or "local"):
        pipeline.add_document(summary, report)
    summary.documents = [str(p) for p in write_ledger(today)]
    summary.review_pending = pipeline.pending_count(settings)
    save_summary(summary)  # visible while the run waits for a reviewer

    if review:
        reviewers: list[str] = []
        for round_no in range(1, REVIEW_ROUNDS + 1):
            cards, pending_total = pipeline.offer_review(
                settings,
                summary.flow_run_id,
                limit=settings.bus_pass_review_forms,
                only_second=round_no > 1,
            )
            if not cards:
                break
            form = BusPassReviewInput.with_initial_data(
                description=review_description(
                    cards, pending_total, round_no=round_no, not_reviewer=reviewers
                ),
                forms=initial_answers(cards),
            )
            key = f"bus-pass-review-{round_no}"
            offered = noted_time(key)
            answer = wait_for_review(form, settings.review_timeout_s, key=key)
            answers = [a.answer() for a in answer.forms]
            answered = sum(a.decision != "later" for a in answers)
            seconds = answer.minutes_spent * 60 or seconds_since(
                offered, answered, settings.review_seconds_cap_per_item
            )
            outcome = apply_review(
                answers, answer.reviewer, seconds, f"{summary.flow_run_id}:{key}", today
            )
            pipeline.add_review(summary, outcome)
            reviewers.append(answer.reviewer)
        summary.documents = [str(p) for p in write_ledger(today, stage="after-review")]

    pipeline.finish_summary(settings, summary)
    return publish_summary(
        summary,
        key="bus-pass-summary",
        title="コミュニティバス無料乗車券 実行結果",
        description="読取・自動確定・確認・交付の件数と削減時間 / counts and hours saved",
    )
