"""The human-review checkpoint shared by every process (人による確認).

Under a deployment the run is *suspended*: the worker's process exits and the run
holds no machine while it waits; on resume Prefect starts the flow again from the
top and ``suspend_flow_run`` hands back the submitted input (the tasks before it are
cached). Run outside a deployment (tests, a local call) it *pauses* in-process.
Either way a timeout leaves the items pending in the store for the next run.
"""

from __future__ import annotations

from typing import TypeVar

from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment

InputT = TypeVar("InputT", bound=RunInput)


def wait_for_review(form: type[InputT], timeout_s: int, key: str) -> InputT:
    """Show ``form`` in the Prefect UI and wait for a reviewer's answer.

    Args:
        form: a RunInput subclass, usually ``MyInput.with_initial_data(...)``.
        timeout_s: how long to wait before the run gives up (items stay pending).
        key: a stable key, so that a resumed run receives the answer instead of asking again.

    Returns:
        The validated answer.
    """
    if deployment.get_id():
        return suspend_flow_run(wait_for_input=form, timeout=timeout_s, key=key)
    return pause_flow_run(wait_for_input=form, timeout=timeout_s, poll_interval=2, key=key)
