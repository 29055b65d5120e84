"""Prefect tasks of the bus-pass process: thin wrappers over civicflow.bus_pass.

One task per few scanned files (a few hundred milliseconds of OCR each), never per field.
Results are persisted and cached per flow run, so a run resumed after a suspend (which
starts again from the top) gets its readings back instead of reading the scans again.
Results carry form IDs, counts and reason codes only (docs/decisions/004).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task
from prefect.cache_policies import INPUTS, TASK_SOURCE

from civicflow.bus_pass import ledger, pipeline
from civicflow.settings import get_settings
from tasks.common import current_flow_run_id


@task(name="list-scan-inbox", persist_result=True)
def list_inbox(limit: int | None = None) -> list[str]:
    """受付: the scanned files waiting in the inbox (paths)."""
    return [str(p) for p in pipeline.inbox_files(get_settings(), limit)]


@task(name="read-scanned-forms", persist_result=True, cache_policy=INPUTS + TASK_SOURCE)
def read_scans(
    paths: list[str], today: dt.date, run_key: str, then: str | None = None
) -> list[pipeline.DocumentReport]:
    """読取・交付: read a few files; enter, queue for review or quarantine each page.

    Runs wherever the task runner puts it (a Dask worker with CIVICFLOW_OCR_TASK_RUNNER=dask);
    the OCR engines load once per worker process. Each file is committed and moved on its
    own, so a retry after a crash skips what is done. ``run_key`` is the outer run's id: the
    reading subflow gets a new id when a suspended run resumes, the cache must not.
    ``then`` is the first file of the next task in this process, decoded ahead.
    """
    return pipeline.read_documents(
        [Path(p) for p in paths],
        get_settings(),
        today=today,
        flow_run_id=current_flow_run_id(),
        then=[Path(then)] if then else [],
    )


def _answer_key(context: object, parameters: dict[str, object]) -> str:
    return f"bus-pass-review:{parameters['answer_key']}"


@task(name="apply-bus-pass-review", persist_result=True, cache_key_fn=_answer_key)
def apply_review(
    answers: list[pipeline.ReviewAnswer],
    reviewer: str,
    seconds_spent: float,
    answer_key: str,
    today: dt.date,
) -> pipeline.ReviewOutcome:
    """Apply one review screen, audited under the reviewer.

    Cached on ``answer_key`` (run and round) alone: a resumed run re-applying an earlier
    screen gets the first outcome back, and the store refuses a second application anyway.
    """
    return pipeline.apply_answers(
        get_settings(),
        answers,
        reviewer=reviewer,
        seconds_spent=seconds_spent,
        answer_key=answer_key,
        today=today,
        flow_run_id=current_flow_run_id(),
    )


@task(name="write-receipt-ledger", persist_result=True)
def write_ledger(today: dt.date, stage: str = "intake") -> list[Path]:
    """受付簿: the fiscal year's .xlsx and the day's PDF (``stage`` tells the cache apart)."""
    return ledger.write_ledger(get_settings(), today)
