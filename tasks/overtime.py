"""Prefect tasks of the overtime-notice process: thin wrappers over civicflow.overtime."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task

from civicflow.overtime import operations
from civicflow.quarantine import record_quarantine
from civicflow.settings import get_settings
from tasks.common import current_flow_run_id


@task(name="prepare-overtime-notices", persist_result=True)
def prepare_drafts(year: int, month: int, issued_on: dt.date) -> operations.OvertimeDraft:
    """Read the roster and attendance, find staff over a cap, write the drafts."""
    settings = get_settings()
    draft = operations.prepare_drafts(settings, year, month, issued_on)
    record_quarantine(settings, draft.quarantined, current_flow_run_id())
    return draft


@task(name="record-double-check")
def record_check(
    draft: operations.OvertimeDraft, decision: str, reviewer: str, comment: str, seconds: float
) -> None:
    """Store the double check's decision, audited under the reviewer's name."""
    operations.record_check(
        get_settings(),
        draft,
        decision=decision,
        reviewer=reviewer,
        comment=comment,
        seconds=seconds,
        flow_run_id=current_flow_run_id(),
    )


@task(name="issue-overtime-notices")
def issue(draft: operations.OvertimeDraft) -> list[Path]:
    """Move the checked drafts to issued/."""
    return operations.issue_drafts(get_settings(), draft)
