"""The childcare-support flow under a real (temporary) Prefect server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from sqlalchemy import func, select

from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ApplicationRow, AuditLogRow, ChildcareCaseRow, ReviewItemRow
from flows.childcare_support import childcare_support
from tests.flows.conftest import TODAY, truth

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _case_count(settings: Settings) -> int:
    with session_scope(settings.db_url) as s:
        return int(s.scalar(select(func.count()).select_from(ChildcareCaseRow)) or 0)


def test_flow_enters_what_the_rules_accept_and_reruns_enter_nothing_twice(
    loaded: Settings, sample_dir: Path
) -> None:
    expected = truth(sample_dir)["counts"]
    summary = childcare_support(review=False, today=TODAY)

    assert summary.entered == expected["accept"]
    assert summary.sent_to_review == expected["review"]
    assert summary.rejected == expected["reject"]
    assert summary.quarantined == expected["quarantine"]
    assert summary.duplicates_skipped == expected["duplicate"]
    assert summary.review_pending == expected["review"]
    assert summary.hours_saved > 0
    letters = [p for p in summary.documents if p.endswith(".pdf")]
    assert letters and all(Path(p).exists() for p in summary.documents)
    with session_scope(loaded.db_url) as s:
        stored = repo.run_summaries(s, "childcare_support")
        assert stored[-1].flow_run_id == summary.flow_run_id
        assert stored[-1].entered == summary.entered

    again = childcare_support(review=False, today=TODAY)
    assert again.received == 0 and again.entered == 0 and again.quarantined == 0
    assert again.quarantine_open == expected["quarantine"]  # still waiting for a fix
    assert again.already_received == summary.received
    assert again.documents == [
        p for p in again.documents if not p.endswith(".pdf")
    ]  # no letter twice
    assert _case_count(loaded) == summary.entered


def _wait_for_paused_run(settings: Settings, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(settings.db_url) as s:
            run_ids = {r for r in s.scalars(select(ReviewItemRow.last_offered_run)) if r}
        for run_id in run_ids:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state  # type: ignore[arg-type]
            if state is not None and state.is_paused():
                return run_id
        time.sleep(0.5)
    raise AssertionError("the flow never paused for review")


def test_review_decisions_are_applied_and_audited(loaded: Settings) -> None:
    result: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: result.update(summary=childcare_support(review=True, today=TODAY))
    )
    worker.start()
    run_id = _wait_for_paused_run(loaded)

    with session_scope(loaded.db_url) as s:
        items = repo.pending_reviews(s, "childcare_support", 100)
        with_resident = [i for i in items if i.proposed.get("resident_id")]
        approve, reject = with_resident[0], items[-1]
        assert approve.id != reject.id
        before_cases = int(s.scalar(select(func.count()).select_from(ChildcareCaseRow)) or 0)
        pending_before = len(items)
    resume_flow_run(
        run_id,  # type: ignore[arg-type]
        run_input={
            "reviewer": "suzuki",
            "minutes_spent": 3,
            "decisions": [
                {
                    "item_id": approve.id,
                    "decision": "approve",
                    "resident_id": approve.proposed["resident_id"],
                },
                {"item_id": reject.id, "decision": "reject", "comment": "本人申請ではない"},
            ],
        },
    )
    worker.join(timeout=120)
    summary = result["summary"]
    assert summary.reviewed == 2  # type: ignore[attr-defined]
    assert summary.reviewer_seconds == 180  # type: ignore[attr-defined]
    assert summary.review_pending == pending_before - 2  # type: ignore[attr-defined]
    assert _case_count(loaded) == before_cases + 1
    with session_scope(loaded.db_url) as s:
        approved = s.scalar(
            select(ApplicationRow).where(ApplicationRow.receipt_no == approve.item_ref)
        )
        rejected = s.scalar(
            select(ApplicationRow).where(ApplicationRow.receipt_no == reject.item_ref)
        )
        assert approved is not None and approved.status == "entered"
        assert rejected is not None and rejected.status == "rejected"
        actors = set(
            s.scalars(select(AuditLogRow.actor).where(AuditLogRow.entity_id == approve.item_ref))
        )
        assert "suzuki" in actors


def test_review_with_no_reviewer_name_is_refused_by_the_server(loaded: Settings) -> None:
    worker = threading.Thread(target=lambda: childcare_support(review=True, today=TODAY))
    worker.start()
    run_id = _wait_for_paused_run(loaded)
    with pytest.raises(Exception, match=r"reviewer|at least 1"):
        resume_flow_run(run_id, run_input={"reviewer": "", "decisions": []})  # type: ignore[arg-type]
    resume_flow_run(run_id, run_input={"reviewer": "sato", "decisions": []})  # type: ignore[arg-type]
    worker.join(timeout=120)
    with session_scope(loaded.db_url) as s:  # nothing answered: everything stays pending
        assert repo.count_pending_reviews(s, "childcare_support") > 0
