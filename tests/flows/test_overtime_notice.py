"""The overtime-notice flow under the Prefect harness: run day, double check, issue."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from civicflow.samples.overtime import generate_overtime
from civicflow.settings import Settings, get_settings
from civicflow.store.db import migrate, session_scope
from civicflow.store.schema import AuditLogRow, ReviewItemRow
from flows.overtime_notice import overtime_notice

pytestmark = pytest.mark.usefixtures("prefect_harness")
RUN_DAY = dt.date(2026, 11, 2)  # Nov 1 is a Sunday: the 2nd is the first business day


@pytest.fixture
def overtime_settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, int]:
    sample = generate_overtime(tmp_path / "ot", seed=3, n_staff=120, year=2026, month=10)
    monkeypatch.setenv("CIVICFLOW_OVERTIME_INPUT_DIR", str(tmp_path / "ot"))
    get_settings.cache_clear()
    migrate(get_settings().db_url)  # the test watches the review queue from the start
    return get_settings(), sample.truth.notices


def test_not_the_first_business_day_does_nothing(overtime_settings: tuple[Settings, int]) -> None:
    summary = overtime_notice(today=dt.date(2026, 11, 4))
    assert summary.skipped_reason and summary.received == 0 and summary.hours_saved == 0


def _paused_check(settings: Settings, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(settings.db_url) as s:
            run_id = s.scalar(
                select(ReviewItemRow.last_offered_run).where(
                    ReviewItemRow.process == "overtime_notice"
                )
            )
        if run_id:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(run_id).state  # type: ignore[arg-type]
            if state is not None and state.is_paused():
                return str(run_id)
        time.sleep(0.5)
    raise AssertionError("the overtime flow never paused for the double check")


def test_double_check_issues_the_notices_and_the_month_is_not_issued_twice(
    overtime_settings: tuple[Settings, int],
) -> None:
    settings, expected_notices = overtime_settings
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.update(summary=overtime_notice(today=RUN_DAY)))
    worker.start()
    run_id = _paused_check(settings)
    drafts = settings.output_dir / "overtime" / "202610" / "draft"
    assert len(list((drafts / "notices").glob("*.pdf"))) == expected_notices
    resume_flow_run(
        run_id,  # type: ignore[arg-type]
        run_input={"reviewer": "kato", "decision": "issue", "minutes_spent": 15},
    )
    worker.join(timeout=180)
    summary = result["summary"]
    issued = settings.output_dir / "overtime" / "202610" / "issued"
    assert len(list((issued / "notices").glob("*.pdf"))) == expected_notices
    assert (issued / "labels_202610.pdf").exists() and (issued / "checklist_202610.xlsx").exists()
    assert not drafts.exists()
    assert summary.entered == expected_notices  # type: ignore[attr-defined]
    # 120 minutes by hand, 15 minutes of checking: 1.75 hours saved
    assert summary.hours_saved == 1.75  # type: ignore[attr-defined]
    with session_scope(settings.db_url) as s:
        audit = s.scalars(select(AuditLogRow).where(AuditLogRow.process == "overtime_notice")).one()
        assert (
            audit.actor == "kato" and audit.after is not None and audit.after["decision"] == "issue"
        )

    again = overtime_notice(today=RUN_DAY)
    assert "already issued" in again.skipped_reason
