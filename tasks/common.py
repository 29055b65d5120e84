"""What every task shares: the retry rule and the run's identity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from civicflow import models
from civicflow.errors import TransientError
from civicflow.reporting import summary_markdown
from civicflow.settings import get_settings
from civicflow.store import repositories as repo
from civicflow.store.db import migrate, session_scope


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when the failure was a ``TransientError`` (a 503, a timeout).

    Bad input is quarantined inside the task and a permanent failure needs the
    operator, so neither is worth another try.
    """
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


def current_flow_run_id() -> str | None:
    """The id of the flow run we are in, or None outside Prefect."""
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


@task(name="note-time", persist_result=True)
def noted_time(what: str) -> dt.datetime:
    """Now, noted once per run and ``what`` (``run-start``, a review screen's key).

    Cached: a run resumed after a suspend starts again from the top and gets the first
    moment back, so its start and its reviewers' time stay right.
    """
    return dt.datetime.now(dt.UTC)


@task(name="prepare-store")
def prepare_store() -> None:
    """Bring the store's schema up to date (idempotent)."""
    migrate(get_settings().db_url)


@task(name="save-run-summary")
def save_summary(summary: models.RunSummary, final: bool = False) -> None:
    """Store the run's summary (実行実績) for the hours-saved report.

    Saved once before a review checkpoint and again (``final``) at the end; the
    second save replaces the first.
    """
    with session_scope(get_settings().db_url) as session:
        repo.save_run_summary(session, summary)


def publish_summary(
    summary: models.RunSummary, *, key: str, title: str, description: str
) -> models.RunSummary:
    """Store the final summary and publish it as the run's one artifact (no personal data)."""
    save_summary(summary, final=True)
    create_markdown_artifact(
        key=key, markdown=summary_markdown(summary, title=title), description=description
    )
    return summary
