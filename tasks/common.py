"""What every task shares: the retry rule and the run's identity."""

from __future__ import annotations

from typing import Any

from prefect.runtime import flow_run

from civicflow.errors import TransientError


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
