"""Housekeeping (保守): rotate finished files into monthly zips and trim Prefect's history.

Two kinds of work, both safe to run again at any time:

* :func:`rotate_files` moves files the office is finished with (downloaded applications
  that were entered or rejected, issued 依頼書 and 超過勤務通知, past months' asset exports,
  processed bus-pass scans) into one zip per process and month under
  ``Settings.archive_dir`` once they are older than ``retention_archive_after_days``, and
  deletes zips whose month is older than ``retention_archive_keep_days`` (文書保存年限).
  Each file is written to the zip, checked (CRC) and only then deleted, and the zip is
  replaced atomically: a run killed at any point neither loses nor duplicates a file.
  Files of items still waiting for a reviewer or in quarantine are never touched, nor the
  store's database, Prefect's home, the quarantine folders or the scanner's inbox.
* :func:`trim_prefect_results` deletes the result files Prefect persisted for runs that
  can no longer resume (it never deletes them itself).
* :func:`purge_prefect_history` deletes finished flow runs (their task runs, states and
  inputs go with them server-side, logs shortly after) and artifacts older than
  ``retention_prefect_days`` through the Prefect API, in bounded batches.

Only counts, byte totals and archive names (``childcare/2026-10.zip``) leave this module:
no file contents and no personal data.
"""

from __future__ import annotations

import calendar
import datetime as dt
import fcntl
import logging
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from civicflow.errors import PermanentError, TransientError
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

log = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")
#: Application statuses after which the downloaded files are no longer read.
FINISHED_APPLICATION_STATUSES = frozenset({"entered", "rejected"})
#: Flow-run state types that never change again (a paused or suspended run is PAUSED).
TERMINAL_STATE_TYPES = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
#: The Prefect API's page size (its default limit).
PAGE_SIZE = 200
LOCK_NAME = ".retention.lock"
_ARCHIVE_NAME = re.compile(r"^(\d{4})-(\d{2})\.zip$")
_MONTH_DIR = re.compile(r"^\d{6}$")  # output/overtime/YYYYMM, output/assets/YYYYMM
_PAGE_SUFFIX = re.compile(r"-p\d+$")  # bus-pass form ID: <scan file stem>-p<page>
_COPY_SUFFIX = re.compile(r"\.\d+$")  # name.2.png: a second file of the same name
_CHUNK = 1 << 20


class RotationReport(BaseModel):
    """What :func:`rotate_files` did (or would do, on a dry run). Counts and names only."""

    dry_run: bool = False
    files_archived: int = 0  # written to a zip, verified, source deleted
    bytes_archived: int = 0
    files_already_archived: int = 0  # found intact in a zip after an interrupted run
    files_protected: int = 0  # in review or quarantine: left where they are
    files_unfinished: int = 0  # the application is not entered or rejected yet
    archives_written: list[str] = Field(default_factory=list)  # e.g. "childcare/2026-10.zip"
    archives_deleted: list[str] = Field(default_factory=list)  # past the keeping period
    stale_temp_files_removed: int = 0  # leftovers of a run killed while writing a zip
    review_crops_removed: int = 0  # crop folders of bus-pass forms no longer in review
    by_process: dict[str, int] = Field(default_factory=dict)  # files archived per process


class ResultTrimReport(BaseModel):
    """What :func:`trim_prefect_results` deleted (or would delete, on a dry run)."""

    before: dt.datetime
    dry_run: bool = False
    files_deleted: int = 0
    bytes_deleted: int = 0


class PrefectPurgeReport(BaseModel):
    """What :func:`purge_prefect_history` deleted (or would delete, on a dry run)."""

    cutoff: dt.datetime
    dry_run: bool = False
    flow_runs_deleted: int = 0  # their task runs, states and logs go with them
    artifacts_deleted: int = 0
    artifacts_kept: int = 0  # old but the latest of their key, or of a run not finished
    complete: bool = True  # False: the batch bound was reached; the next run goes on


@dataclass(frozen=True)
class _Candidate:
    """A file that may go to the archive, with what it belongs to."""

    process: str  # archive folder: childcare, overtime, assets, bus_pass
    path: Path
    item_ref: str  # business key it belongs to (受付番号, YYYYMM, scan ID)
    prune_below: Path | None  # empty folders under this one are removed after the move


# --- which files ------------------------------------------------------------------------------
def scans_processed_dir(settings: Settings) -> Path:
    """Where the bus-pass process moves the scans it has read (``processed/<YYYY-MM-DD>/``).

    Beside the inbox, as ``civicflow.bus_pass.pipeline.processed_dir`` has it (not imported:
    that module brings the OCR stack).
    """
    return settings.bus_pass_inbox.parent / "processed"


def _forbidden_roots(settings: Settings) -> list[Path]:
    """Folders housekeeping never reads into, whatever a walk or a link leads to."""
    return [
        (settings.var_dir / "prefect").resolve(),
        settings.archive_dir.resolve(),
        settings.quarantine_dir.resolve(),
        (settings.var_dir / "scans" / "quarantine").resolve(),
        settings.bus_pass_inbox.resolve(),
        (settings.bus_pass_inbox.parent / "quarantine").resolve(),
    ]


def _store_files(settings: Settings) -> set[Path]:
    """The store's SQLite file and its journal files (never archived)."""
    url = settings.db_url
    if not url.startswith("sqlite:///"):
        return set()
    db = Path(url.removeprefix("sqlite:///")).resolve()
    return {db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}


def _is_hidden(path: Path, root: Path) -> bool:
    """A dot-name below ``root``: a write in progress (``.partial``, ``.tmp``), not a document."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _files_under(folder: Path) -> Iterator[Path]:
    """Regular files below ``folder``, sorted; links and dot-names are left alone."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not _is_hidden(path, folder):
            yield path


def _item_dirs(folder: Path) -> list[Path]:
    """Visible sub-folders of ``folder``, sorted (e.g. one per 受付番号)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _month_dirs(folder: Path) -> list[Path]:
    """``YYYYMM`` sub-folders of ``folder``, oldest first."""
    return [p for p in _item_dirs(folder) if _MONTH_DIR.match(p.name)]


def _candidates(
    settings: Settings, statuses: dict[str, str], today: dt.date, report: RotationReport
) -> Iterator[_Candidate]:
    """Every file of a finished item, per process (age and protection are checked later)."""
    # 申請データ: var/intake/<受付番号>/, finished once the application is entered or rejected.
    for folder in _item_dirs(settings.intake_dir):
        files = list(_files_under(folder))
        if statuses.get(folder.name) not in FINISHED_APPLICATION_STATUSES:
            report.files_unfinished += len(files)
            continue
        for path in files:
            yield _Candidate("childcare", path, folder.name, settings.intake_dir)
    # 依頼書: issued once written (the ledger beside them is rebuilt every run: not archived).
    for path in _files_under(settings.output_dir / "childcare" / "letters"):
        yield _Candidate("childcare", path, path.stem, None)
    # 超過勤務通知: only issued/ (draft/ waits for the double check); issued/ itself stays,
    # it marks the month as issued.
    for month in _month_dirs(settings.output_dir / "overtime"):
        issued = month / "issued"
        for path in _files_under(issued):
            yield _Candidate("overtime", path, month.name, issued)
    # 公会計 CSV and rejects: past months only (this month's files say "already exported").
    this_month = f"{today.year:04d}{today.month:02d}"
    for month in _month_dirs(settings.output_dir / "assets"):
        if month.name < this_month:
            for path in _files_under(month):
                yield _Candidate("assets", path, month.name, None)
    # バス乗車券: scans the bus-pass process moved to processed/<YYYY-MM-DD>/.
    processed = scans_processed_dir(settings)
    for path in _files_under(processed):
        yield _Candidate("bus_pass", path, path.stem, processed)


def _protected_refs(settings: Settings) -> tuple[set[str], list[Path]]:
    """Item references and paths still in review or quarantine, across every process."""
    with session_scope(settings.db_url) as session:
        pending, quarantined = repo.unfinished_item_refs(session)
    refs = set(pending) | {r for r, _ in quarantined}
    # A bus-pass item is one page of a scan (``<file stem>-p<page>``): protect the whole file.
    refs |= {_PAGE_SUFFIX.sub("", r) for r in refs}
    paths = [Path(p).resolve() for _, p in quarantined if p]
    return {r for r in refs if r}, paths


def _stale_crop_dirs(settings: Settings, refs: set[str], before: float) -> list[Path]:
    """Crop folders of bus-pass forms that no longer wait for a person.

    The review crops are copies of handwriting (personal data) kept only for the review
    screen; the bus-pass flow deletes them when a form is decided, so only folders a crash
    left behind remain here. A folder younger than ``before`` (a timestamp) is kept: the
    nightly run may be writing it before its review item is committed.
    """
    return [
        folder
        for folder in _item_dirs(settings.bus_pass_crops_dir)
        if not folder.is_symlink() and folder.name not in refs and folder.stat().st_mtime < before
    ]


def _is_protected(candidate: _Candidate, var_dir: Path, refs: set[str], paths: list[Path]) -> bool:
    """Whether the file belongs to an item in review or quarantine (by key, name or path)."""
    path = candidate.path.resolve()
    if any(path == p or path.is_relative_to(p) for p in paths):
        return True
    try:
        parts = set(path.relative_to(var_dir).parts)
    except ValueError:
        parts = set(path.parts)
    # A rescan moved beside a file of the same name became ``name.2.ext``.
    names = {candidate.item_ref, path.name, path.stem, _COPY_SUFFIX.sub("", path.stem)} | parts
    return not refs.isdisjoint(names)


def _is_forbidden(path: Path, roots: list[Path], store_files: set[Path]) -> bool:
    resolved = path.resolve()
    return resolved in store_files or any(resolved.is_relative_to(r) for r in roots)


# --- the zip ----------------------------------------------------------------------------------
def _crc_and_size(path: Path) -> tuple[int, int]:
    crc, size = 0, 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return crc, size


def _arcname(path: Path, var_dir: Path) -> str:
    """The entry's name: the path under ``var/`` (a folder set elsewhere keeps its full path)."""
    try:
        return path.relative_to(var_dir).as_posix()
    except ValueError:  # e.g. CIVICFLOW_BUS_PASS_INBOX_DIR outside var/
        return "external/" + path.relative_to(path.anchor).as_posix()


def _archive_month(path: Path) -> str:
    """``YYYY-MM`` of the file's modification time in Japan: the zip it goes to."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, JST).strftime("%Y-%m")


def _entry_name(
    arcname: str, crc: int, size: int, existing: dict[str, tuple[int, int]]
) -> tuple[str, bool]:
    """The entry to use for a file and whether the zip already holds it intact.

    An entry of the same name with the same CRC and size is this file (archived by a run
    that stopped before deleting it). One with other content is never overwritten: the
    file goes in as ``name~2.ext`` (then ``~3`` …).
    """
    stem, dot, suffix = arcname.rpartition(".")
    if not dot or "/" in suffix:
        stem, dot, suffix = arcname, "", ""
    name, n = arcname, 1
    while name in existing:
        if existing[name] == (crc, size):
            return name, True
        n += 1
        name = f"{stem}~{n}{dot}{suffix}"
    return name, False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append_verified(zip_path: Path, entries: list[tuple[Path, str, int, int]]) -> None:
    """Add files to a copy of the zip, check every new entry, then swap the copy in.

    The zip in place is never written to: a crash leaves it as it was plus a ``.tmp``
    copy that the next run removes; the sources are deleted only after the swap.
    """
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    if zip_path.exists():
        shutil.copy2(zip_path, tmp)
    else:
        tmp.unlink(missing_ok=True)
    with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path, arcname, _, _ in entries:
            zf.write(path, arcname)
    with zipfile.ZipFile(tmp) as zf:
        for _path, arcname, crc, size in entries:
            info = zf.getinfo(arcname)
            if info.CRC != crc or info.file_size != size:
                raise PermanentError(
                    f"アーカイブへの書込み内容が元ファイルと一致しません（{zip_path.name}）。"
                    "元ファイルは削除していません。ディスクを確認して再実行してください。",
                    f"An archived entry does not match its source ({zip_path.name}); nothing "
                    "was deleted. Check the disk and run again.",
                    code="retention_verify_failed",
                )
            with zf.open(info) as fh:  # reading to the end checks the stored CRC
                while fh.read(_CHUNK):
                    pass
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, zip_path)
    _fsync_dir(zip_path.parent)


def _prune_empty_dirs(start: Path, stop: Path) -> None:
    """Remove ``start`` and its parents while empty, up to (not including) ``stop``."""
    folder = start
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@contextmanager
def _exclusive_lock(folder: Path) -> Iterator[None]:
    """One housekeeping run at a time (the lock goes with the process if it dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise TransientError(
                "別の保守処理（retention）が実行中です。終了後に再実行されます。",
                "Another retention run is archiving files; this one retries later.",
                code="retention_locked",
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def expired_archives(settings: Settings, today: dt.date, keep_days: int) -> list[Path]:
    """Zips whose month ended more than ``keep_days`` before ``today`` (文書保存年限)."""
    expired: list[Path] = []
    if not settings.archive_dir.is_dir():
        return expired
    for folder in sorted(p for p in settings.archive_dir.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.zip")):
            match = _ARCHIVE_NAME.match(path.name)
            if match and 1 <= int(match[2]) <= 12:
                end = _month_end(int(match[1]), int(match[2]))
                if (today - end).days > keep_days:
                    expired.append(path)
    return expired


def rotate_files(
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    archive_after_days: int | None = None,
    keep_days: int | None = None,
    dry_run: bool = False,
) -> RotationReport:
    """Archive finished files older than the threshold and delete expired archives.

    Args:
        settings: Where the runtime folders, the store and the archive are.
        now: The moment ages are measured from (default: now).
        archive_after_days: Files modified longer ago go to the archive (default:
            ``settings.retention_archive_after_days``).
        keep_days: Zips whose month ended longer ago are deleted (default:
            ``settings.retention_archive_keep_days``).
        dry_run: Count what would happen; write and delete nothing.

    Returns:
        Counts, bytes and the archives written and deleted (no file names of items).

    Raises:
        TransientError: another housekeeping run holds the archive.
        PermanentError: a written entry did not verify; its sources were kept.
    """
    now = now or dt.datetime.now(dt.UTC)
    after_days = archive_after_days or settings.retention_archive_after_days
    keep = keep_days or settings.retention_archive_keep_days
    today = now.astimezone(JST).date()
    cutoff = (now - dt.timedelta(days=after_days)).timestamp()
    report = RotationReport(dry_run=dry_run)
    archive_dir = settings.archive_dir
    var_dir = settings.var_dir.resolve()

    with session_scope(settings.db_url) as session:
        receipt_nos = [p.name for p in _item_dirs(settings.intake_dir)]
        statuses = repo.application_statuses(session, receipt_nos)
    refs, quarantined_paths = _protected_refs(settings)
    roots, store_files = _forbidden_roots(settings), _store_files(settings)
    stale_crops = _stale_crop_dirs(settings, refs, (now - dt.timedelta(days=1)).timestamp())
    report.review_crops_removed = len(stale_crops)

    groups: dict[tuple[str, str], list[_Candidate]] = defaultdict(list)
    for candidate in _candidates(settings, statuses, today, report):
        if _is_forbidden(candidate.path, roots, store_files):
            continue
        if _is_protected(candidate, var_dir, refs, quarantined_paths):
            report.files_protected += 1
            continue
        if candidate.path.stat().st_mtime >= cutoff:
            continue
        groups[(candidate.process, _archive_month(candidate.path))].append(candidate)

    expired = expired_archives(settings, today, keep)
    report.archives_deleted = [p.relative_to(archive_dir).as_posix() for p in expired]
    if dry_run:
        for (process, month), members in sorted(groups.items()):
            report.archives_written.append(f"{process}/{month}.zip")
            report.files_archived += len(members)
            report.bytes_archived += sum(c.path.stat().st_size for c in members)
            report.by_process[process] = report.by_process.get(process, 0) + len(members)
        return report

    with _exclusive_lock(archive_dir):
        for stale in sorted(archive_dir.glob("*/*.zip.tmp")):
            stale.unlink()
            report.stale_temp_files_removed += 1
        for path in expired:
            path.unlink()
            log.info("保存期間を過ぎたアーカイブを削除 / deleted expired archive %s", path.name)
        for folder in stale_crops:
            shutil.rmtree(folder)
        if stale_crops:
            log.info(
                "確認済みの切出し画像を削除 / removed %d review crop folder(s)", len(stale_crops)
            )
        per_process: Counter[str] = Counter()
        for (process, month), members in sorted(groups.items()):
            zip_path = archive_dir / process / f"{month}.zip"
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            existing: dict[str, tuple[int, int]] = {}  # entry name -> (CRC, size)
            if zip_path.exists():
                with zipfile.ZipFile(zip_path) as zf:
                    existing = {i.filename: (i.CRC, i.file_size) for i in zf.infolist()}
            to_write: list[tuple[Path, str, int, int]] = []
            already: list[_Candidate] = []
            for candidate in members:
                crc, size = _crc_and_size(candidate.path)
                arcname = _arcname(candidate.path.resolve(), var_dir)
                name, present = _entry_name(arcname, crc, size, existing)
                if present:
                    already.append(candidate)
                else:
                    to_write.append((candidate.path, name, crc, size))
                    existing[name] = (crc, size)  # taken: no second file under this name
            if to_write:
                _append_verified(zip_path, to_write)
                report.archives_written.append(f"{process}/{month}.zip")
            report.bytes_archived += sum(size for _, _, _, size in to_write)
            for candidate in members:
                candidate.path.unlink()
                if candidate.prune_below is not None:
                    _prune_empty_dirs(candidate.path.parent, candidate.prune_below)
            report.files_archived += len(to_write)
            report.files_already_archived += len(already)
            per_process[process] += len(to_write)
            log.info(
                "アーカイブ / archived %d file(s) to %s/%s.zip (%d already there)",
                len(to_write),
                process,
                month,
                len(already),
            )
        report.by_process = dict(per_process)
    return report


# --- Prefect's result files -------------------------------------------------------------------
def trim_prefect_results(
    storage: Path, before: dt.datetime, *, dry_run: bool = False
) -> ResultTrimReport:
    """Delete Prefect's persisted results (and cache records) written before ``before``.

    Every flow persists its tasks' results so that a run suspended for review can resume
    without redoing them; nothing else reads them, and Prefect never deletes them. The
    caller picks ``before`` older than any run that may still resume (see the retention
    flow). Only regular files are deleted; links are not followed and no folder is removed.

    Args:
        storage: Prefect's local result folder (``PREFECT_RESULTS_LOCAL_STORAGE_PATH``).
        before: Files last written before this moment go.
        dry_run: Count only.
    """
    report = ResultTrimReport(before=before, dry_run=dry_run)
    if not storage.is_dir() or storage.is_symlink():
        return report
    limit = before.timestamp()
    for folder, _, files in os.walk(storage):  # does not descend into linked folders
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= limit:
                continue
            if not dry_run:
                path.unlink()
            report.files_deleted += 1
            report.bytes_deleted += info.st_size
    return report


# --- Prefect's history ------------------------------------------------------------------------
def purge_prefect_history(
    cutoff: dt.datetime,
    *,
    current_flow_run_id: str | None = None,
    dry_run: bool = False,
    max_batches: int = 50,
    client: SyncPrefectClient | None = None,
) -> PrefectPurgeReport:
    """Delete finished flow runs that ended before ``cutoff``, and artifacts created before it.

    Only runs in a terminal state (COMPLETED, FAILED, CANCELLED, CRASHED) go; paused,
    suspended, running, pending and scheduled runs, and the current run, stay. Deleting a
    flow run deletes its task runs, states and inputs on the server (foreign keys with
    ``ON DELETE CASCADE``) and its logs right after (a background job). Artifacts are not
    tied to runs that way and are deleted by age, keeping the latest of each key (what the
    UI shows under Artifacts) and those of runs that are not finished.

    Args:
        cutoff: Runs that ended, and artifacts created, before this moment are deleted.
        current_flow_run_id: The calling run, never deleted.
        dry_run: Count only.
        max_batches: At most this many pages of ``PAGE_SIZE`` per kind; the rest waits for
            the next run (``complete`` is then False).
        client: A Prefect client (default: ``get_client(sync_client=True)``).

    Returns:
        How many flow runs and artifacts were (or would be) deleted.

    Raises:
        TransientError: the Prefect API did not answer or failed (retry later).
        PermanentError: the Prefect API refused a request (a version mismatch).
    """
    if client is None:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as own_client:
            return purge_prefect_history(
                cutoff,
                current_flow_run_id=current_flow_run_id,
                dry_run=dry_run,
                max_batches=max_batches,
                client=own_client,
            )
    import httpx

    report = PrefectPurgeReport(cutoff=cutoff, dry_run=dry_run)
    current = UUID(current_flow_run_id) if current_flow_run_id else None
    try:
        _purge_flow_runs(client, cutoff, current, dry_run, max_batches, report)
        _purge_artifacts(client, cutoff, current, dry_run, max_batches, report)
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        if status < 500:  # the request itself is wrong: retrying cannot help
            raise PermanentError(
                f"Prefect サーバーが要求を受け付けませんでした（HTTP {status}）。"
                "Prefect のバージョンを確認してください。",
                f"The Prefect API refused the request (HTTP {status}); check that the server "
                "and the client are both Prefect 3.8.8.",
                code="prefect_api_refused",
            ) from exc
        raise _prefect_unavailable(exc) from exc
    except httpx.TransportError as exc:
        raise _prefect_unavailable(exc) from exc
    return report


def _prefect_unavailable(exc: Exception) -> TransientError:
    return TransientError(
        "Prefect サーバーに接続できないか、エラーが返りました。再試行し、次回の実行でも続きを行います。",
        f"The Prefect API failed or could not be reached ({type(exc).__name__}); retried, "
        "and the next run goes on where this one stopped.",
        code="prefect_api_unavailable",
    )


def _purge_flow_runs(
    client: SyncPrefectClient,
    cutoff: dt.datetime,
    current: UUID | None,
    dry_run: bool,
    max_batches: int,
    report: PrefectPurgeReport,
) -> None:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    terminal = [StateType(t) for t in TERMINAL_STATE_TYPES]
    run_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=terminal)),
        end_time=FlowRunFilterEndTime(before_=cutoff),
        id=FlowRunFilterId(not_any_=[current]) if current else None,
    )
    offset = 0  # deleted runs leave the result set; only runs we pass over move the page
    for _ in range(max_batches):
        page = client.read_flow_runs(
            flow_run_filter=run_filter, sort=FlowRunSort.ID_DESC, limit=PAGE_SIZE, offset=offset
        )
        for run in page:
            # The filter says so already; checked again because a mistake here is final.
            finished = run.state_type in terminal and run.end_time is not None
            if not finished or run.id == current or (run.end_time and run.end_time >= cutoff):
                offset += 1
                continue
            if dry_run:
                offset += 1
            else:
                try:
                    client.delete_flow_run(run.id)
                except ObjectNotFound:
                    pass  # deleted meanwhile (another run, a person in the UI)
            report.flow_runs_deleted += 1
        if len(page) < PAGE_SIZE:
            return
    report.complete = False


def _purge_artifacts(
    client: SyncPrefectClient,
    cutoff: dt.datetime,
    current: UUID | None,
    dry_run: bool,
    max_batches: int,
    report: PrefectPurgeReport,
) -> None:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import Artifact, ArtifactCollection, StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    def page_of(
        route: Literal["/artifacts/filter", "/artifacts/latest/filter"], sort: str, offset: int
    ) -> Any:
        # Asked directly: the 3.8.8 client's read_artifacts sends the filters it is not given
        # as null, which this server (FastAPI 0.154) rejects (422), and an empty filter
        # object instead would keep only artifacts whose flow and task run still exist.
        body = {"sort": sort, "limit": PAGE_SIZE, "offset": offset}
        return client.request("POST", route, json=body).json()

    latest: set[UUID] = set()
    offset = 0
    while True:  # one row per key: small, read whole
        collections = ArtifactCollection.model_validate_list(
            page_of("/artifacts/latest/filter", "ID_DESC", offset)
        )
        latest |= {c.latest_id for c in collections}
        offset += len(collections)
        if len(collections) < PAGE_SIZE:
            break

    terminal = [StateType(t) for t in TERMINAL_STATE_TYPES]
    offset = 0
    batches = 0
    while True:
        page = Artifact.model_validate_list(page_of("/artifacts/filter", "CREATED_DESC", offset))
        old = [a for a in page if a.created is not None and a.created < cutoff]
        run_ids = sorted({a.flow_run_id for a in old if a.flow_run_id}, key=str)
        unfinished: set[UUID] = {current} if current else set()
        if run_ids:
            active = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(any_=run_ids),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(not_any_=terminal)),
                ),
                sort=FlowRunSort.ID_DESC,
                limit=len(run_ids),
            )
            unfinished |= {r.id for r in active}
        deleted_here = 0
        for artifact in old:
            if artifact.id in latest or artifact.flow_run_id in unfinished:
                report.artifacts_kept += 1
                continue
            if not dry_run:
                try:
                    client.delete_artifact(artifact.id)
                except ObjectNotFound:
                    pass
                deleted_here += 1
            report.artifacts_deleted += 1
        offset += len(page) - deleted_here
        if old:
            batches += 1
        if len(page) < PAGE_SIZE:
            return
        if batches >= max_batches:
            report.complete = False
            return
