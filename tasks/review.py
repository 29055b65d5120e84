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
from pydantic import Field

InputT = TypeVar("InputT", bound=RunInput)


class ReviewerInput(RunInput):
    """What every review form asks: who answered, and how long it took.

    Subclasses add the decisions. No top-level field may be named like a JSON-Schema
    keyword (``items``, ``type`` …): Prefect 3.8.8's V2 Resume dialog validates the answer
    as a schema and refuses it (tests/flows/test_review_inputs.py).
    """

    reviewer: str = Field(
        default="",
        min_length=1,
        description="確認者の氏名（職員番号）/ Reviewer's name or staff ID",
    )
    minutes_spent: float = Field(
        default=0.0,
        ge=0,
        description="確認に要した分数（0なら自動計測）/ Minutes spent (0: measured)",
    )


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
