"""保守（retention）: weekly housekeeping of the runtime folders and Prefect's history.

1. 業務DBの準備 — bring the store's schema up to date (housekeeping reads review and
   quarantine state from it).
2. 処理済ファイルの保管 — files of finished items older than
   ``CIVICFLOW_RETENTION_ARCHIVE_AFTER_DAYS`` move into one zip per process and month under
   ``var/archive/``; zips past ``CIVICFLOW_RETENTION_ARCHIVE_KEEP_DAYS`` (文書保存年限) are
   deleted. Items still in review or quarantine are never touched.
3. 実行履歴の削除 — finished flow runs (with their task runs and logs) and artifacts older
   than ``CIVICFLOW_RETENTION_PREFECT_DAYS`` are deleted from the Prefect server, in bounded
   batches; paused, suspended, running and scheduled runs stay. Persisted result files as
   old go too (never younger than the longest a run may wait for review, plus a day).
4. 実行実績 — the counts are stored and published as the run's artifact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task

from civicflow import models, retention
from civicflow.settings import get_settings
from tasks.common import current_flow_run_id, prepare_store, publish_summary, retry_on_transient

PROCESS = "retention"
#: Minutes a person spends on one round of this by hand: finding finished folders, zipping
#: them by month, checking the zips, deleting sources, old archives and old runs in the UI.
BASELINE_MINUTES = 30.0
RETRY_DELAYS: list[float] = [10, 60, 300]  # a locked archive or a busy Prefect API


@task(
    name="rotate-processed-files",
    retries=len(RETRY_DELAYS),
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_on_transient,
)
def rotate_files(
    archive_after_days: int | None, keep_days: int | None, dry_run: bool
) -> retention.RotationReport:
    """Archive finished files by process and month; delete expired archives."""
    return retention.rotate_files(
        get_settings(),
        archive_after_days=archive_after_days,
        keep_days=keep_days,
        dry_run=dry_run,
    )


@task(
    name="purge-prefect-history",
    retries=len(RETRY_DELAYS),
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_on_transient,
)
def purge_history(cutoff: dt.datetime, dry_run: bool) -> retention.PrefectPurgeReport:
    """Delete finished flow runs and artifacts older than ``cutoff`` (never this run)."""
    return retention.purge_prefect_history(
        cutoff, current_flow_run_id=current_flow_run_id(), dry_run=dry_run
    )


@task(name="trim-prefect-results")
def trim_results(before: dt.datetime, dry_run: bool) -> retention.ResultTrimReport:
    """Delete persisted task and flow results written before ``before``."""
    from prefect.settings import get_current_settings

    storage = get_current_settings().results.local_storage_path
    return retention.trim_prefect_results(Path(storage), before, dry_run=dry_run)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


@flow(name="retention", log_prints=False)
def retention_flow(
    dry_run: bool = False,
    prefect_days: int | None = None,
    archive_after_days: int | None = None,
    archive_keep_days: int | None = None,
    prefect_before: dt.datetime | None = None,
) -> models.RunSummary:
    """Archive finished files and delete old Prefect history (保守).

    Args:
        dry_run: Count what would be archived and deleted; change nothing.
        prefect_days: Keep finished runs and artifacts this many days (default:
            ``CIVICFLOW_RETENTION_PREFECT_DAYS``).
        archive_after_days: Archive finished files older than this (default:
            ``CIVICFLOW_RETENTION_ARCHIVE_AFTER_DAYS``).
        archive_keep_days: Delete archives whose month ended longer ago (default:
            ``CIVICFLOW_RETENTION_ARCHIVE_KEEP_DAYS``).
        prefect_before: Delete Prefect history up to this moment instead of
            ``prefect_days`` (e.g. a one-off clean-up after an incident).

    Returns:
        The run's summary (stored and published as an artifact); counts are in ``notes``.
    """
    settings = get_settings()
    started = dt.datetime.now(dt.UTC)
    summary = models.RunSummary(
        process=PROCESS,
        flow_run_id=current_flow_run_id(),
        started_at=started,
        baseline_minutes=BASELINE_MINUTES,
        batches_handled=0,
    )
    days = prefect_days or settings.retention_prefect_days
    cutoff = prefect_before or started - dt.timedelta(days=days)

    prepare_store()
    files = rotate_files(archive_after_days, archive_keep_days, dry_run)
    history = purge_history(cutoff, dry_run)
    # A run suspended for review resumes from its persisted results: keep every file a run
    # still waiting (at most review_timeout_s) could need, with a day to spare.
    waiting_since = started - dt.timedelta(seconds=settings.review_timeout_s, days=1)
    results = trim_results(min(cutoff, waiting_since), dry_run)

    would = "（試行: 変更なし）/ dry run, nothing changed: " if dry_run else ""
    summary.notes += [
        f"{would}アーカイブ {files.files_archived} 件 ({_megabytes(files.bytes_archived)})"
        f" / files archived"
        + "".join(f"; {process} {n}" for process, n in sorted(files.by_process.items())),
        f"確認待ち・隔離中のため保留 {files.files_protected} 件、未処理 {files.files_unfinished} 件"
        f" / left alone: in review or quarantine {files.files_protected},"
        f" not finished {files.files_unfinished}",
        f"書込んだアーカイブ / archives written: {', '.join(files.archives_written) or '-'}",
        f"保存期間を過ぎて削除 / archives deleted: {', '.join(files.archives_deleted) or '-'}",
        f"{would}Prefect: フロー実行 {history.flow_runs_deleted} 件・成果物"
        f" {history.artifacts_deleted} 件を削除（{history.cutoff:%Y-%m-%d %H:%M} UTC 以前）"
        f" / flow runs, artifacts deleted; {history.artifacts_kept} old artifacts kept"
        " (latest of their key, or of a run not finished)",
        f"{would}Prefect 結果ファイル {results.files_deleted} 件"
        f" ({_megabytes(results.bytes_deleted)}) を削除 / persisted result files deleted",
    ]
    if files.review_crops_removed:
        summary.notes.append(
            f"{would}確認が済んだ申請書の切出し画像 {files.review_crops_removed} 件を削除"
            " / review crops of decided bus-pass forms removed"
        )
    if files.files_already_archived or files.stale_temp_files_removed:
        summary.notes.append(
            f"前回中断分の整理 / finished an interrupted run: {files.files_already_archived}"
            f" file(s) already archived, {files.stale_temp_files_removed} temp file(s) removed"
        )
    if not history.complete:
        summary.notes.append(
            "削除対象が上限を超えたため、残りは次回に削除します"
            " / more history than one run deletes: the next run goes on"
        )
    summary.batches_handled = 0 if dry_run else 1
    summary.finished_at = dt.datetime.now(dt.UTC)
    return publish_summary(
        summary,
        key="retention-summary",
        title="保守（保管・履歴削除）実行結果 / housekeeping",
        description="アーカイブ件数と削除件数 / files archived, history deleted",
    )
