"""Review decisions applied without Prefect, and no personal data in logs or the summary."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from civicflow.childcare.pipeline import ReviewDecision, apply_review_decisions, run_plain
from civicflow.reporting import summary_markdown
from civicflow.samples.childcare import generate_childcare
from civicflow.samples.loading import load_masters_into_store
from civicflow.settings import Settings
from civicflow.sources.export_folder import ExportFolderSource
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import AuditLogRow, ResidentRow, ReviewItemRow

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("review-samples")
    generate_childcare(out, seed=13, n=70, reference_date=TODAY)
    return out


def _run(settings: Settings, samples: Path) -> None:
    load_masters_into_store(settings, samples)
    source = ExportFolderSource(samples / "childcare" / "export", settings.max_attachment_bytes)
    run_plain(source, settings, today=TODAY)


def _pending(settings: Settings, code: str) -> ReviewItemRow:
    with session_scope(settings.db_url) as s:
        for item in repo.pending_reviews(s, "childcare_support", 1000):
            if any(r.get("code") == code for r in item.reasons):
                return item
    raise AssertionError(f"no pending item with {code}")


def test_a_correction_is_entered_and_audited_with_before_and_after(
    settings: Settings, samples: Path
) -> None:
    _run(settings, samples)
    item = _pending(settings, "kana_mismatch")
    resident_id = str(item.proposed["resident_id"])
    with session_scope(settings.db_url) as s:
        resident = s.get(ResidentRow, resident_id)
        assert resident is not None
        registry_kana = resident.name_kana
    report = apply_review_decisions(
        settings,
        [
            ReviewDecision(
                item_id=item.id,
                decision="correct",
                resident_id=resident_id,
                corrections={"applicant_kana": registry_kana},
            )
        ],
        reviewer="tanaka",
        seconds_spent=40,
        flow_run_id=None,
    )
    assert report.entered == 1 and report.corrected == 1 and report.problems == []
    with session_scope(settings.db_url) as s:
        decided = s.get(ReviewItemRow, item.id)
        assert decided is not None and decided.decision == "correct"
        assert decided.reviewer == "tanaka" and decided.seconds_spent == 40
        audit = s.scalars(
            select(AuditLogRow).where(
                AuditLogRow.entity == "review_item", AuditLogRow.entity_id == item.item_ref
            )
        ).one()
        assert audit.after is not None
        assert audit.after["corrections"] == {"applicant_kana": registry_kana}
        assert repo.get_application(s, item.item_ref).status == "entered"  # type: ignore[union-attr]


def test_later_and_unresolvable_approvals_stay_pending(settings: Settings, samples: Path) -> None:
    _run(settings, samples)
    unknown = _pending(settings, "resident_not_found")
    other = _pending(settings, "provider_area")
    report = apply_review_decisions(
        settings,
        [
            ReviewDecision(item_id=unknown.id, decision="approve"),  # nobody to enter it for
            ReviewDecision(item_id=other.id, decision="later"),
        ],
        reviewer="tanaka",
        seconds_spent=10,
        flow_run_id=None,
    )
    assert report.entered == 0 and report.still_pending == 2
    assert report.problems and unknown.item_ref in report.problems[0]
    with session_scope(settings.db_url) as s:
        pending = {i.id for i in repo.pending_reviews(s, "childcare_support", 1000)}
    assert {unknown.id, other.id} <= pending


def test_no_personal_data_in_logs_or_the_summary(
    settings: Settings, samples: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load_masters_into_store(settings, samples)
    source = ExportFolderSource(samples / "childcare" / "export", settings.max_attachment_bytes)
    with caplog.at_level(logging.INFO):  # DEBUG would capture pdfminer's parser trace
        summary = run_plain(source, settings, today=TODAY)
    text = caplog.text + summary_markdown(summary, title="t") + summary.model_dump_json()
    with session_scope(settings.db_url) as s:
        residents = list(s.scalars(select(ResidentRow)))
    leaks = [
        value
        for r in residents
        for value in (r.name, r.name_kana, r.address, r.phone, r.birth_date.isoformat())
        if value and value in text
    ]
    assert leaks == []
