"""Rotating finished files into monthly zips: what moves, what never moves, crash safety."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from prefect.client.schemas.objects import StateType

from civicflow import models, retention
from civicflow.errors import TransientError
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import migrate, session_scope

NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)  # a Sunday night run
OLD = dt.datetime(2026, 10, 12, 12, 0, tzinfo=dt.UTC)  # 39 days before: goes to 2026-10.zip
RECENT = NOW - dt.timedelta(days=5)


def _write(path: Path, content: bytes, when: dt.datetime = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def _application(settings: Settings, receipt_no: str, status: str, when: dt.datetime = OLD) -> Path:
    """An application stored with ``status`` and its intake folder (PDF + fields)."""
    folder = settings.intake_dir / receipt_no
    pdf = _write(folder / "application.pdf", f"%PDF {receipt_no}".encode(), when)
    _write(folder / "fields.json", b'{"service": "x"}', when)
    app = models.DownloadedApplication(
        receipt_no=receipt_no,
        submitted_at=OLD,
        procedure_code=models.CHILDCARE_PROCEDURE_CODE,
        source="folder",
        fields={},
        pdf_path=pdf,
        pdf_sha256="0" * 64,
    )
    with session_scope(settings.db_url) as session:
        repo.record_received(session, app, process="childcare_support", flow_run_id=None)
        if status != "received":
            repo.set_application_outcome(
                session, receipt_no, status=status, reasons=[], actor="test", flow_run_id=None
            )
    return folder


def _quarantine(settings: Settings, process: str, item_ref: str, path: Path | None = None) -> None:
    reason = models.Reason(
        code="bad", severity=models.Severity.QUARANTINE, message_ja="不備", message_en="bad"
    )
    with session_scope(settings.db_url) as session:
        repo.quarantine(
            session,
            models.QuarantineRecord(process=process, item_ref=item_ref, reason=reason, path=path),
            flow_run_id=None,
        )


def _review(settings: Settings, process: str, item_ref: str) -> None:
    with session_scope(settings.db_url) as session:
        repo.queue_review(session, process=process, item_ref=item_ref, reasons=[], proposed={})


def _entries(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert len(names) == len(set(names)), "an entry was written twice"
        assert zf.testzip() is None
        return {name: zf.read(name) for name in names}


@pytest.fixture
def store(settings: Settings) -> Settings:
    migrate(settings.db_url)
    return settings


@pytest.fixture
def office(store: Settings) -> Settings:
    """A var/ folder as it looks after a few months of work."""
    s = store
    _application(s, "R0001", "entered")
    _application(s, "R0002", "rejected")
    _application(s, "R0003", "entered", when=RECENT)  # finished, but not old enough
    _application(s, "R0004", "review")  # a reviewer has it
    _review(s, "childcare_support", "R0004")
    _application(s, "R0005", "received")  # downloaded, not checked yet
    _application(s, "R0006", "entered")  # entered, but a re-sent file is in quarantine
    _quarantine(s, "childcare_support", "R0006")
    _write(s.intake_dir / ".R0007.x.partial" / "application.pdf", b"half")  # download in progress
    _write(s.output_dir / "childcare" / "letters" / "request_P001_0001.pdf", b"letter 1")
    _write(s.output_dir / "childcare" / "実績管理_childcare.xlsx", b"ledger")  # rebuilt each run
    _write(s.output_dir / "overtime" / "202609" / "issued" / "notices" / "n1.pdf", b"notice")
    _write(s.output_dir / "overtime" / "202609" / "draft" / "n1.pdf", b"draft")
    _write(s.output_dir / "overtime" / "202608" / "issued" / "n1.pdf", b"rechecked")
    _review(s, "overtime_notice", "202608")  # the month's check is open again
    _write(s.output_dir / "assets" / "202609" / "asset_import_FY2026.csv", b"csv")
    _write(s.output_dir / "assets" / "202611" / "asset_import_FY2026.csv", b"this month")
    processed = s.var_dir / "scans" / "processed" / "2026-10-01"
    _write(processed / "bus_pass-0001.png", b"scan 1")
    _write(processed / "bus_pass-0002.png", b"scan 2")
    _quarantine(s, "bus_pass", "bus_pass-0002-p1")  # page 1 unreadable, page 2 entered
    _write(processed / "bus_pass-0003.2.png", b"scan 3, a rescan under the same name")
    _review(s, "bus_pass", "bus_pass-0003-p2")  # page 2 waits for a reviewer
    _write(s.var_dir / "scans" / "quarantine" / "bus_pass-0009.png", b"broken")
    _write(s.var_dir / "scans" / "inbox" / "bus_pass-0010.png", b"new")
    _write(s.var_dir / "prefect" / "storage" / "result.json", b"{}")
    _write(s.quarantine_dir / "childcare_support" / "x.pdf", b"bad pdf")
    return s


def test_finished_old_files_move_into_a_zip_per_process_and_month(office: Settings) -> None:
    s = office

    report = retention.rotate_files(s, now=NOW)

    childcare = _entries(s.archive_dir / "childcare" / "2026-10.zip")
    assert childcare == {
        "intake/R0001/application.pdf": b"%PDF R0001",
        "intake/R0001/fields.json": b'{"service": "x"}',
        "intake/R0002/application.pdf": b"%PDF R0002",
        "intake/R0002/fields.json": b'{"service": "x"}',
        "output/childcare/letters/request_P001_0001.pdf": b"letter 1",
    }
    assert _entries(s.archive_dir / "overtime" / "2026-10.zip") == {
        "output/overtime/202609/issued/notices/n1.pdf": b"notice"
    }
    assert _entries(s.archive_dir / "assets" / "2026-10.zip") == {
        "output/assets/202609/asset_import_FY2026.csv": b"csv"
    }
    assert _entries(s.archive_dir / "bus_pass" / "2026-10.zip") == {
        "scans/processed/2026-10-01/bus_pass-0001.png": b"scan 1"
    }
    # Archived sources are gone (an empty 受付番号 folder too); issued/ marks the month issued.
    assert not (s.intake_dir / "R0001").exists() and not (s.intake_dir / "R0002").exists()
    assert not list((s.output_dir / "childcare" / "letters").iterdir())
    assert (s.output_dir / "overtime" / "202609" / "issued").is_dir()
    # Everything else is where it was.
    for kept in [
        s.intake_dir / "R0003" / "application.pdf",
        s.intake_dir / "R0004" / "application.pdf",
        s.intake_dir / "R0005" / "application.pdf",
        s.intake_dir / "R0006" / "application.pdf",
        s.intake_dir / ".R0007.x.partial" / "application.pdf",
        s.output_dir / "childcare" / "実績管理_childcare.xlsx",
        s.output_dir / "overtime" / "202609" / "draft" / "n1.pdf",
        s.output_dir / "overtime" / "202608" / "issued" / "n1.pdf",
        s.output_dir / "assets" / "202611" / "asset_import_FY2026.csv",
        s.var_dir / "scans" / "processed" / "2026-10-01" / "bus_pass-0002.png",
        s.var_dir / "scans" / "processed" / "2026-10-01" / "bus_pass-0003.2.png",
        s.var_dir / "scans" / "quarantine" / "bus_pass-0009.png",
        s.var_dir / "scans" / "inbox" / "bus_pass-0010.png",
        s.var_dir / "prefect" / "storage" / "result.json",
        s.quarantine_dir / "childcare_support" / "x.pdf",
    ]:
        assert kept.is_file(), kept
    assert Path(s.db_url.removeprefix("sqlite:///")).is_file()  # read, never archived

    assert report.files_archived == 8
    assert report.bytes_archived == sum(len(v) for v in childcare.values()) + 6 + 3 + 6
    # R0006 (2 files), 202608, bus_pass-0002 and -0003
    assert report.files_protected == 2 + 1 + 1 + 1
    assert report.files_unfinished == 4  # R0004 and R0005, two files each
    assert report.by_process == {"childcare": 5, "overtime": 1, "assets": 1, "bus_pass": 1}
    assert sorted(report.archives_written) == [
        "assets/2026-10.zip",
        "bus_pass/2026-10.zip",
        "childcare/2026-10.zip",
        "overtime/2026-10.zip",
    ]
    assert "R000" not in report.model_dump_json()  # counts and archive names only

    again = retention.rotate_files(s, now=NOW)
    assert again.files_archived == 0 and again.archives_written == []
    assert len(_entries(s.archive_dir / "childcare" / "2026-10.zip")) == 5


def test_a_protected_item_is_archived_once_its_review_is_decided(store: Settings) -> None:
    _application(store, "R0100", "entered")
    _review(store, "childcare_support", "R0100")
    assert retention.rotate_files(store, now=NOW).files_protected == 2
    with session_scope(store.db_url) as session:
        item = repo.pending_reviews(session, "childcare_support", 10)[0]
        repo.decide_review(
            session,
            item.id,
            decision="approve",
            reviewer="suzuki",
            corrections={},
            comment="",
            seconds_spent=30,
            flow_run_id=None,
        )
    assert retention.rotate_files(store, now=NOW).files_archived == 2


def _crops(settings: Settings, ref: str, when: dt.datetime) -> Path:
    folder = settings.bus_pass_crops_dir / ref
    _write(folder / "name.png", b"handwriting", when)
    os.utime(folder, (when.timestamp(), when.timestamp()))
    return folder


def test_review_crops_of_decided_forms_are_removed_and_waiting_ones_kept(store: Settings) -> None:
    waiting = _crops(store, "bus_pass-0003-p2", OLD)
    _review(store, "bus_pass", "bus_pass-0003-p2")
    quarantined = _crops(store, "bus_pass-0004-p1", OLD)
    _quarantine(store, "bus_pass", "bus_pass-0004-p1")
    left_by_a_crash = _crops(store, "bus_pass-0005-p1", OLD)
    being_written = _crops(store, "bus_pass-0006-p1", NOW - dt.timedelta(hours=2))

    dry = retention.rotate_files(store, now=NOW, dry_run=True)
    assert dry.review_crops_removed == 1 and left_by_a_crash.is_dir()

    report = retention.rotate_files(store, now=NOW)

    assert report.review_crops_removed == 1
    assert not left_by_a_crash.exists()
    assert waiting.is_dir() and quarantined.is_dir() and being_written.is_dir()
    assert not any(report.archives_written), "crops are deleted, never archived"


def test_old_prefect_result_files_are_deleted_and_recent_ones_kept(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    old = _write(storage / "3f2a9c", b'{"result": "old"}', OLD)
    old_nested = _write(storage / "locks" / "a.lock", b"x", OLD)
    recent = _write(storage / "9b1d07", b'{"result": "recent"}', RECENT)
    outside = _write(tmp_path / "elsewhere" / "keep.json", b"{}", OLD)
    (storage / "link").symlink_to(outside.parent, target_is_directory=True)
    before = NOW - dt.timedelta(days=30)

    dry = retention.trim_prefect_results(storage, before, dry_run=True)
    assert (dry.files_deleted, dry.bytes_deleted) == (2, 18) and old.exists()

    report = retention.trim_prefect_results(storage, before)

    assert report.files_deleted == 2
    assert not old.exists() and not old_nested.exists()
    assert recent.exists() and outside.exists(), "links are not followed"
    assert retention.trim_prefect_results(tmp_path / "missing", before).files_deleted == 0


def test_dry_run_counts_and_changes_nothing(office: Settings) -> None:
    before = sorted(p for p in office.var_dir.rglob("*") if p.is_file())

    report = retention.rotate_files(office, now=NOW, dry_run=True)

    assert report.dry_run and report.files_archived == 8
    assert len(report.archives_written) == 4
    assert not office.archive_dir.exists()
    assert sorted(p for p in office.var_dir.rglob("*") if p.is_file()) == before


def test_thresholds_can_be_overridden(office: Settings) -> None:
    report = retention.rotate_files(office, now=NOW, archive_after_days=60, dry_run=True)
    assert report.files_archived == 0  # everything is at most 39 days old
    report = retention.rotate_files(office, now=NOW, archive_after_days=1, dry_run=True)
    assert report.files_archived == 10  # R0003's two recent files too


def test_rerun_after_a_crash_between_zip_and_delete_neither_loses_nor_duplicates(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 5):
        _application(store, f"R020{n}", "entered")
    original_unlink = Path.unlink
    doomed = store.intake_dir / "R0203" / "application.pdf"

    def crash_on(self: Path, missing_ok: bool = False) -> None:
        if self == doomed:
            raise KeyboardInterrupt("power cut")
        original_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", crash_on)
    with pytest.raises(KeyboardInterrupt):
        retention.rotate_files(store, now=NOW)
    monkeypatch.setattr(Path, "unlink", original_unlink)
    zip_path = store.archive_dir / "childcare" / "2026-10.zip"
    assert len(_entries(zip_path)) == 8  # the zip was complete before any source was deleted
    assert doomed.exists()

    report = retention.rotate_files(store, now=NOW)

    assert report.files_archived == 0
    assert report.files_already_archived == 4  # R0203's and R0204's, two files each
    entries = _entries(zip_path)
    assert sorted(entries) == sorted(
        f"intake/R020{n}/{name}" for n in range(1, 5) for name in ("application.pdf", "fields.json")
    )
    assert entries["intake/R0203/application.pdf"] == b"%PDF R0203"
    assert not list(store.intake_dir.iterdir())


def test_a_crash_while_writing_the_zip_leaves_the_archive_and_the_sources_intact(
    store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _application(store, "R0301", "entered")
    retention.rotate_files(store, now=NOW)
    zip_path = store.archive_dir / "childcare" / "2026-10.zip"
    before = _entries(zip_path)
    _application(store, "R0302", "entered")
    _application(store, "R0303", "rejected")
    original_write = zipfile.ZipFile.write
    calls = []

    def write_then_crash(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise OSError("disk full")
        original_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "write", write_then_crash)
    with pytest.raises(OSError, match="disk full"):
        retention.rotate_files(store, now=NOW)
    monkeypatch.setattr(zipfile.ZipFile, "write", original_write)

    assert _entries(zip_path) == before  # the archive in place was never written to
    assert (store.intake_dir / "R0302" / "application.pdf").exists()
    assert (store.intake_dir / "R0303" / "fields.json").exists()

    report = retention.rotate_files(store, now=NOW)

    assert report.stale_temp_files_removed == 1
    assert report.files_archived == 4
    assert len(_entries(zip_path)) == 6
    assert not list(zip_path.parent.glob("*.tmp"))


def test_a_new_file_under_an_archived_name_is_added_beside_it(store: Settings) -> None:
    letter = store.output_dir / "childcare" / "letters" / "request_P001_0001.pdf"
    _write(letter, b"first")
    retention.rotate_files(store, now=NOW)
    _write(letter, b"second, re-issued")  # same name, other content, same month

    retention.rotate_files(store, now=NOW)

    assert _entries(store.archive_dir / "childcare" / "2026-10.zip") == {
        "output/childcare/letters/request_P001_0001.pdf": b"first",
        "output/childcare/letters/request_P001_0001~2.pdf": b"second, re-issued",
    }


def test_files_go_to_the_month_of_their_modification_time_in_japan(store: Settings) -> None:
    # 2026-09-30 16:00 UTC is 2026-10-01 01:00 JST.
    _write(
        store.output_dir / "childcare" / "letters" / "a.pdf",
        b"a",
        dt.datetime(2026, 9, 30, 16, 0, tzinfo=dt.UTC),
    )
    _write(
        store.output_dir / "childcare" / "letters" / "b.pdf",
        b"b",
        dt.datetime(2026, 9, 30, 14, 0, tzinfo=dt.UTC),
    )

    retention.rotate_files(store, now=NOW)

    assert list(_entries(store.archive_dir / "childcare" / "2026-10.zip")) == [
        "output/childcare/letters/a.pdf"
    ]
    assert list(_entries(store.archive_dir / "childcare" / "2026-09.zip")) == [
        "output/childcare/letters/b.pdf"
    ]


@pytest.mark.parametrize(
    ("name", "keep_days", "deleted"),
    [
        ("2020-01.zip", 5 * 366, True),  # month ended 2020-01-31: 6 years ago
        ("2025-12.zip", 5 * 366, False),
        ("2026-10.zip", 19, True),  # ended 2026-10-31, 20 days before NOW
        ("2026-10.zip", 20, False),  # exactly the keeping period: kept
        ("2026-13.zip", 1, False),  # not a month: not ours, left alone
        ("notes.zip", 1, False),
    ],
)
def test_archives_past_the_keeping_period_are_deleted_by_their_month(
    store: Settings, name: str, keep_days: int, deleted: bool
) -> None:
    path = store.archive_dir / "childcare" / name
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("intake/R1/application.pdf", b"x")

    report = retention.rotate_files(store, now=NOW, keep_days=keep_days)

    assert path.exists() is not deleted
    assert report.archives_deleted == ([f"childcare/{name}"] if deleted else [])


def test_a_second_run_while_one_holds_the_archive_retries_later(office: Settings) -> None:
    office.archive_dir.mkdir(parents=True)
    with (office.archive_dir / retention.LOCK_NAME).open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(TransientError):
            retention.rotate_files(office, now=NOW)
    assert (office.intake_dir / "R0001").is_dir()


def test_an_empty_var_folder_is_fine(store: Settings) -> None:
    report = retention.rotate_files(store, now=NOW)
    assert report.files_archived == 0 and report.archives_written == []


# --- Prefect's history, paging and bounds (a fake API; the flow test uses the real one) ------
class _FakeResponse:
    def __init__(self, data: list[dict[str, object]]) -> None:
        self._data = data

    def json(self) -> list[dict[str, object]]:
        return self._data


class _FakePrefect:
    """Just the part of the Prefect API that housekeeping uses, with the server's paging."""

    def __init__(self, runs: list[SimpleNamespace], artifacts: list[dict[str, object]]) -> None:
        self.runs = runs
        self.artifacts = artifacts
        self.deleted_runs: list[UUID] = []
        self.deleted_artifacts: list[UUID] = []

    def read_flow_runs(
        self, *, flow_run_filter: Any, sort: Any, limit: int, offset: int = 0
    ) -> list[SimpleNamespace]:
        assert sort is not None and limit <= retention.PAGE_SIZE
        if flow_run_filter.id is not None and flow_run_filter.id.any_:
            return []  # the runs behind artifacts: none unfinished here
        before = flow_run_filter.end_time.before_
        states = set(flow_run_filter.state.type.any_)
        found = [
            r for r in self.runs if r.state_type in states and r.end_time and r.end_time <= before
        ]
        return found[offset : offset + limit]

    def delete_flow_run(self, run_id: UUID) -> None:
        self.runs = [r for r in self.runs if r.id != run_id]
        self.deleted_runs.append(run_id)

    def request(self, method: str, route: str, json: dict[str, Any]) -> _FakeResponse:
        assert method == "POST" and json["limit"] == retention.PAGE_SIZE
        if route == "/artifacts/latest/filter":
            return _FakeResponse([])
        page = sorted(self.artifacts, key=lambda a: str(a["created"]), reverse=True)
        return _FakeResponse(page[json["offset"] : json["offset"] + json["limit"]])

    def delete_artifact(self, artifact_id: UUID) -> None:
        self.artifacts = [a for a in self.artifacts if a["id"] != str(artifact_id)]
        self.deleted_artifacts.append(artifact_id)


def _fake_history(n_old: int, n_recent: int) -> _FakePrefect:
    old, recent = NOW - dt.timedelta(days=100), NOW - dt.timedelta(days=1)
    runs = [
        SimpleNamespace(id=uuid4(), state_type=StateType.COMPLETED, end_time=when)
        for when in [old] * n_old + [recent] * n_recent
    ]
    runs.append(SimpleNamespace(id=uuid4(), state_type=StateType.PAUSED, end_time=None))
    artifacts: list[dict[str, object]] = [
        {"id": str(uuid4()), "created": (when + dt.timedelta(seconds=i)).isoformat(), "data": "n"}
        for i, when in enumerate([old] * n_old + [recent] * n_recent)
    ]
    return _FakePrefect(runs, artifacts)


def test_history_is_deleted_in_bounded_batches_and_the_next_run_goes_on() -> None:
    fake = _fake_history(n_old=450, n_recent=30)
    cutoff = NOW - dt.timedelta(days=90)

    first = retention.purge_prefect_history(cutoff, max_batches=2, client=fake)  # type: ignore[arg-type]

    assert first.flow_runs_deleted == 400 and not first.complete
    assert first.artifacts_deleted == 170 + 200  # newest first: the first page holds 30 recent
    second = retention.purge_prefect_history(cutoff, max_batches=2, client=fake)  # type: ignore[arg-type]
    assert second.flow_runs_deleted == 50 and second.artifacts_deleted == 80 and second.complete
    assert len(set(fake.deleted_runs)) == 450 and len(set(fake.deleted_artifacts)) == 450
    assert len(fake.runs) == 31 and len(fake.artifacts) == 30  # the recent ones and the paused


def test_a_dry_run_pages_through_everything_and_deletes_nothing() -> None:
    fake = _fake_history(n_old=450, n_recent=30)

    report = retention.purge_prefect_history(
        NOW - dt.timedelta(days=90),
        dry_run=True,
        client=fake,  # type: ignore[arg-type]
    )

    assert report.flow_runs_deleted == 450 and report.artifacts_deleted == 450
    assert report.complete and not fake.deleted_runs and not fake.deleted_artifacts


def test_an_unreachable_prefect_api_is_a_transient_error() -> None:
    class Down(_FakePrefect):
        def read_flow_runs(self, **kwargs: Any) -> list[SimpleNamespace]:
            raise httpx.ConnectError("connection refused")

    with pytest.raises(TransientError):
        retention.purge_prefect_history(NOW, client=Down([], []))  # type: ignore[arg-type]
