"""The bus-pass flow on a real (test) Prefect server, with the OCR reader faked.

The real reader is exercised end to end in tests/civicflow/bus_pass/test_real_batch.py.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from sqlalchemy import select

from civicflow.bus_pass import pipeline
from civicflow.errors import PermanentError
from civicflow.reporting import summary_markdown
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import BusPassRow, ReviewItemRow
from flows.bus_pass import bus_pass

pytestmark = pytest.mark.usefixtures("prefect_harness")
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    script: dict[str, Any] = {}

    def fake_read_form(source: Path, form: Any, **kwargs: Any) -> list[Any]:
        found = script[source.name]
        if isinstance(found, Exception):
            raise found
        return list(found)

    monkeypatch.setattr(pipeline, "read_form", fake_read_form)
    return script


def test_a_batch_enters_clean_forms_quarantines_bad_ones_and_counts_fields(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, Any]
) -> None:
    inbox = settings.bus_pass_inbox
    for name in ("0001.png", "0002.pdf", "0003.png"):
        bus_pass_fakes.drop(inbox, name)
    scripted["0001.png"] = [bus_pass_fakes.reading("0001.png")]
    scripted["0002.pdf"] = [
        bus_pass_fakes.reading("0002.pdf", 1, flagged={"phone": "format"}, resident_id=None),
        bus_pass_fakes.reading("0002.pdf", 2, quarantine="too_coarse"),
    ]
    scripted["0003.png"] = [bus_pass_fakes.reading("0003.png", quarantine="truncated")]

    summary = bus_pass(review=False, today=TODAY)

    assert (summary.received, summary.entered, summary.sent_to_review) == (4, 1, 1)
    assert (summary.quarantined, summary.quarantine_open, summary.review_pending) == (2, 2, 1)
    assert (summary.fields_read, summary.fields_auto_accepted) == (20, 19)
    assert summary.hours_saved == round(4.2 / 60, 3)
    assert sorted(Path(d).suffix for d in summary.documents) == [".pdf", ".xlsx"]
    assert not any(inbox.iterdir())
    # Nothing in the inbox: a second run reads nothing and enters nothing.
    again = bus_pass(review=False, today=TODAY)
    assert (again.received, again.entered) == (0, 0)


def test_a_missing_ocr_model_fails_the_run_and_leaves_the_file_in_the_inbox(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, Any]
) -> None:
    bus_pass_fakes.drop(settings.bus_pass_inbox, "0001.png")
    scripted["0001.png"] = PermanentError(
        "モデルがありません", "model missing", code="ocr_model_missing"
    )
    with pytest.raises(Exception, match="model missing"):
        bus_pass(review=False, today=TODAY)
    assert (settings.bus_pass_inbox / "0001.png").exists()


def _wait_until_paused(settings: Settings, seen: set[str], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(settings.db_url) as s:
            runs = {r for r in s.scalars(select(ReviewItemRow.last_offered_run)) if r}
        with get_client(sync_client=True) as client:
            for run_id in runs:
                run = client.read_flow_run(run_id)  # type: ignore[arg-type]
                if run.state is not None and run.state.is_paused() and run.state.id not in seen:
                    seen.add(str(run.state.id))
                    return run_id
        time.sleep(0.5)
    raise AssertionError("the flow never paused for review")


def test_review_in_two_rounds_enters_a_form_once_two_reviewers_agree(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, Any]
) -> None:
    bus_pass_fakes.drop(settings.bus_pass_inbox, "0001.png")
    scripted["0001.png"] = [
        bus_pass_fakes.reading(
            "0001.png",
            flagged={"birth_date": "always_review", "phone": "engine_disagreement"},
            values={"phone": "03-1234-5679"},
        )
    ]
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(summary=bus_pass(review=True, today=TODAY))
    )
    worker.start()
    seen: set[str] = set()
    run_id = _wait_until_paused(settings, seen)
    with session_scope(settings.db_url) as s:
        (item,) = repo.pending_reviews(s, pipeline.PROCESS, 10)
        item_id = item.id
    resume_flow_run(
        run_id,  # type: ignore[arg-type]
        run_input={
            "reviewer": "sato",
            "minutes_spent": 1,
            "forms": [
                {
                    "item_id": item_id,
                    "decision": "approve",
                    "fields": [
                        {"field_id": "birth_date", "value": "1950-04-03"},
                        {"field_id": "phone", "value": "03-1234-5678"},
                    ],
                }
            ],
        },
    )
    _wait_until_paused(settings, seen)  # the second screen: a different reviewer
    resume_flow_run(
        run_id,  # type: ignore[arg-type]
        run_input={
            "reviewer": "suzuki",
            "minutes_spent": 0.5,
            "forms": [
                {
                    "item_id": item_id,
                    "decision": "approve",
                    "fields": [{"field_id": "birth_date", "value": "昭和25年4月3日"}],
                }
            ],
        },
    )
    worker.join(timeout=120)
    summary = result["summary"]
    assert (summary.entered, summary.reviewed, summary.review_pending) == (1, 2, 0)
    assert (summary.fields_reviewed, summary.fields_corrected) == (3, 1)
    assert summary.reviewer_seconds == 90
    assert summary.hours_saved == round((4.2 - 1.5) / 60, 3)
    with session_scope(settings.db_url) as s:
        row = s.scalar(select(BusPassRow))
        assert row is not None and row.reviewed_by == ["sato", "suzuki"]
        assert row.fields["phone"] == "03-1234-5678"
    published = summary_markdown(summary, title="t") + summary.model_dump_json()
    for personal in ("山田", "ヤマダ", "1950", "03-1234", "芝公園"):
        assert personal not in published


class _BlankEngine:
    """An engine that never reads anything (a model returning empty strings)."""

    name = "blank"

    def recognize(
        self, images: list[Any], *, allowlist: str | None = None
    ) -> list[tuple[str, float]]:
        return [("", 0.0) for _ in images]


class _BrokenEngine:
    """An engine that fails on every call (a corrupt model file, a native crash)."""

    name = "broken"

    def recognize(
        self, images: list[Any], *, allowlist: str | None = None
    ) -> list[tuple[str, float]]:
        raise RuntimeError("onnxruntime: invalid model")


@pytest.mark.parametrize(
    ("engine", "expected"),
    [(_BlankEngine(), "review"), (_BrokenEngine(), "quarantine")],
)
def test_real_scans_with_fake_engines_never_crash_the_batch(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine: Any,
    expected: str,
) -> None:
    import shutil

    from civicflow.ocr import reader
    from civicflow.samples.registry import DEFAULT_REFERENCE_DATE, read_residents_csv
    from civicflow.samples.scans import generate_scans
    from civicflow.store.db import migrate

    sample = generate_scans(tmp_path / "gen", n=2, seed=5)
    assert sample.residents_csv is not None
    migrate(settings.db_url)
    with session_scope(settings.db_url) as s:
        repo.upsert_residents(s, read_residents_csv(sample.residents_csv))
    settings.bus_pass_inbox.mkdir(parents=True)
    for path in sample.files:
        shutil.copy2(path, settings.bus_pass_inbox / path.name)
    monkeypatch.setattr(reader, "default_engines", lambda **_: reader.ReaderEngines(engine, engine))

    summary = bus_pass(review=False, today=DEFAULT_REFERENCE_DATE)

    assert summary.received == 2
    if expected == "review":  # nothing read: every form waits for a person, none is entered
        assert (summary.sent_to_review, summary.entered, summary.quarantined) == (2, 0, 0)
        assert summary.fields_auto_accepted < summary.fields_read
    else:  # the engine fails: each page is set aside with a reason, the run completes
        assert (summary.quarantined, summary.entered) == (2, 0)
        with session_scope(settings.db_url) as s:
            codes = {q.reason_code for q in repo.open_quarantine(s, pipeline.PROCESS)}
        assert codes == {"read_failed"}


def test_reviewer_time_is_measured_per_screen_and_capped() -> None:
    from civicflow.review import seconds_since

    now = dt.datetime.now(dt.UTC)
    assert 99 <= seconds_since(now - dt.timedelta(seconds=100), 2, 300) <= 101
    assert seconds_since(now - dt.timedelta(hours=10), 2, 300) == 600  # left open overnight
    assert seconds_since(now - dt.timedelta(seconds=100), 0, 300) == 0  # nothing answered


def test_the_ocr_benchmark_prints_the_figures_the_issue_names(tmp_path: Path) -> None:
    """``civicflow bench ocr`` on three real scans: every figure there, and consistent."""
    from flows.benchmarks import bench_ocr

    result = bench_ocr(n=3, seed=5, work_dir=tmp_path)

    named = {
        "forms",
        "fields",
        "field_exact_raw",
        "auto_accept_rate",
        "auto_accepted_error_rate",
        "review_rate",
        "forms_per_s",
        "recognizer_s",
        "overhead_ratio",
    }
    assert named <= set(result)
    assert result["forms"] == 3 and result["fields"] == 30
    assert result["quarantined"] == result["bad_inputs_planted"]
    for key in ("field_exact_raw", "auto_accept_rate", "auto_accepted_error_rate"):
        assert 0.0 <= result[key] <= 1.0
    assert result["auto_accept_rate"] + result["review_rate"] == pytest.approx(1.0)
    assert 0 < result["recognizer_s"] < result["wall_s"]
    assert result["overhead_ratio"] == pytest.approx(
        result["wall_s"] / result["recognizer_s"], abs=0.002
    )
    assert result["forms_per_s"] == pytest.approx(3 / result["wall_s"], abs=0.002)
    assert result["startup_s"] > 0  # engines and PDF renderer loaded before the clock
    assert set(result["by_type"]) >= {"kanji_name", "postal_code", "date_comb"}
