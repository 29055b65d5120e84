"""The store: migrations match the schema, writes are idempotent and audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from civicflow import models
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import get_engine, migrate, session_scope
from civicflow.store.schema import AuditLogRow, Base, ChildcareCaseRow

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _application(receipt_no: str = "1000000000000001") -> models.NormalizedApplication:
    return models.NormalizedApplication(
        receipt_no=receipt_no,
        submitted_at=NOW,
        applicant_name="山田 花子",
        applicant_kana="ヤマダ ハナコ",
        applicant_birth_date=dt.date(1992, 5, 1),
        postal_code="105-0023",
        address="東京都港区芝浦1-1-1",
        phone="03-1234-5678",
        pregnancy_status="妊娠中",
        due_date=dt.date(2027, 3, 1),
        child_birth_date=None,
        child_name="",
        birth_type="単胎",
        boshi_techo_date=dt.date(2026, 9, 1),
        tax_status="課税",
        service="家事支援",
        provider_id="P001",
        start_date=dt.date(2026, 12, 1),
    )


def _downloaded(tmp_path: Path, receipt_no: str) -> models.DownloadedApplication:
    return models.DownloadedApplication(
        receipt_no=receipt_no,
        submitted_at=NOW,
        procedure_code=models.CHILDCARE_PROCEDURE_CODE,
        source="folder",
        fields={"applicant_name": "山田 花子"},
        pdf_path=tmp_path / f"{receipt_no}.pdf",
        pdf_sha256="0" * 64,
    )


def test_migrations_match_the_schema(settings: Settings) -> None:
    migrate(settings.db_url)
    migrate(settings.db_url)  # idempotent
    with get_engine(settings.db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"schema and migrations differ; add a migration: {diff}"


def test_receive_is_once_per_receipt_no_unless_quarantined(
    settings: Settings, tmp_path: Path
) -> None:
    migrate(settings.db_url)
    app = _downloaded(tmp_path, "1000000000000001")
    with session_scope(settings.db_url) as s:
        assert repo.record_received(s, app, process="childcare_support", flow_run_id="r1")
    with session_scope(settings.db_url) as s:
        assert not repo.record_received(s, app, process="childcare_support", flow_run_id="r2")
        repo.set_application_outcome(
            s, app.receipt_no, status="quarantined", reasons=[], actor="t", flow_run_id="r2"
        )
    with session_scope(settings.db_url) as s:  # fixed by the operator: taken again
        assert repo.record_received(s, app, process="childcare_support", flow_run_id="r3")
        assert repo.application_statuses(s, [app.receipt_no]) == {app.receipt_no: "received"}


def test_enter_case_is_idempotent_and_audited(settings: Settings, tmp_path: Path) -> None:
    migrate(settings.db_url)
    with session_scope(settings.db_url) as s:
        repo.record_received(
            s,
            _downloaded(tmp_path, "1000000000000001"),
            process="childcare_support",
            flow_run_id=None,
        )
    for _ in range(2):
        with session_scope(settings.db_url) as s:
            case, _created = repo.enter_childcare_case(
                s,
                _application(),
                resident_id="R1",
                provider_id="P001",
                hours_cap=128,
                fee_per_hour=750,
                actor="civicflow",
                flow_run_id=None,
            )
            assert case.registration_no == "03000001"
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(ChildcareCaseRow)) == 1
        audits = s.scalars(select(AuditLogRow).where(AuditLogRow.action == "enter")).all()
        assert len(audits) == 1
        assert audits[0].before is None and audits[0].after["registration_no"] == "03000001"


def test_review_queue_keeps_one_pending_entry_and_audits_the_decision(settings: Settings) -> None:
    migrate(settings.db_url)
    reason = models.Reason(
        code="kana_mismatch",
        severity=models.Severity.REVIEW,
        message_ja="フリガナ",
        message_en="kana",
    )
    with session_scope(settings.db_url) as s:
        first = repo.queue_review(s, process="p", item_ref="A", reasons=[reason], proposed={})
        second = repo.queue_review(
            s, process="p", item_ref="A", reasons=[reason], proposed={"x": 1}
        )
        assert first.id == second.id
        assert repo.count_pending_reviews(s, "p") == 1
    with session_scope(settings.db_url) as s:
        row = repo.decide_review(
            s,
            first.id,
            decision="approve",
            reviewer="suzuki",
            corrections={},
            comment="",
            seconds_spent=12.0,
            flow_run_id=None,
        )
        assert row is not None and row.decided_at is not None
        again = repo.decide_review(
            s,
            first.id,
            decision="reject",
            reviewer="sato",
            corrections={},
            comment="",
            seconds_spent=1.0,
            flow_run_id=None,
        )
        assert again is None  # decided once, never overwritten
        audit = s.scalars(select(AuditLogRow).where(AuditLogRow.entity == "review_item")).one()
        assert audit.actor == "suzuki" and audit.after["decision"] == "approve"


def test_quarantine_is_recorded_once_and_resolved(settings: Settings) -> None:
    migrate(settings.db_url)
    reason = models.Reason(
        code="pdf_corrupt",
        severity=models.Severity.QUARANTINE,
        message_ja="壊れ",
        message_en="corrupt",
    )
    record = models.QuarantineRecord(process="p", item_ref="X", reason=reason)
    with session_scope(settings.db_url) as s:
        assert repo.quarantine(s, record, flow_run_id=None)
    with session_scope(settings.db_url) as s:
        assert not repo.quarantine(s, record, flow_run_id=None)
        assert len(repo.open_quarantine(s, "p")) == 1
        assert repo.resolve_quarantine(s, "p", "X") == 1
    with session_scope(settings.db_url) as s:
        assert repo.open_quarantine(s, "p") == []


def test_run_summary_round_trip_and_hours_saved(settings: Settings) -> None:
    migrate(settings.db_url)
    summary = models.RunSummary(
        process="childcare_support",
        flow_run_id="run-1",
        started_at=NOW,
        entered=10,
        rejected=2,
        reviewer_seconds=600,
        baseline_minutes=10,
    )
    # (10 min × 12 cases − 10 min of review) / 60 = 1.833 h
    assert summary.hours_saved == 1.833
    with session_scope(settings.db_url) as s:
        repo.save_run_summary(s, summary)
        repo.save_run_summary(s, summary.model_copy(update={"entered": 11}))
    with session_scope(settings.db_url) as s:
        stored = repo.run_summaries(s, "childcare_support")
    assert len(stored) == 1 and stored[0].entered == 11
