"""The childcare-support procedure as plain functions (業務手順).

Each step is one function over a batch; ``tasks/childcare.py`` wraps them as Prefect
tasks and ``flows/childcare_support.py`` sequences them. The benchmark calls the same
functions without Prefect, so both paths do exactly the same work.

Every write is idempotent on the 受付番号: a re-run after a crash downloads nothing
already stored, enters nothing twice and issues no letter twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicflow import models
from civicflow.childcare.form import parse_application_pdf
from civicflow.childcare.review import ReviewCard, build_cards
from civicflow.childcare.rules import (
    fee_per_hour,
    hours_cap,
    normalize_application,
    verify_application,
)
from civicflow.documents.childcare import update_performance_ledger, write_request_letters
from civicflow.errors import InputError
from civicflow.japanese import age_on, jst_date
from civicflow.quarantine import record_quarantine
from civicflow.registry import ResidentIndex
from civicflow.settings import Settings
from civicflow.sources.base import ApplicationSource, SourceListing
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ChildcareCaseRow, ResidentRow, ReviewItemRow

PROCESS = "childcare_support"
log = logging.getLogger(__name__)


class DownloadReport(BaseModel):
    """What one download batch did (受付番号 only: task results carry no personal data)."""

    downloaded: list[str] = Field(default_factory=list)
    already_received: int = 0
    quarantined: int = 0


class BatchReport(BaseModel):
    """What checking and entering one batch did."""

    verified: int = 0
    entered: int = 0
    sent_to_review: int = 0
    rejected: int = 0
    quarantined: int = 0
    reason_counts: dict[str, int] = Field(default_factory=dict)


class ReviewDecision(BaseModel):
    """A reviewer's answer on one item (承認 / 却下 / 修正して承認 / 保留)."""

    item_id: int
    receipt_no: str = ""  # shown to the reviewer; item_id is what counts
    decision: Literal["approve", "reject", "correct", "later"] = "later"
    resident_id: str = ""
    provider_id: str = ""
    corrections: dict[str, str] = Field(default_factory=dict)
    comment: str = ""


class ReviewReport(BaseModel):
    """What applying a set of review decisions did."""

    reviewed: int = 0
    entered: int = 0
    corrected: int = 0
    rejected: int = 0
    still_pending: int = 0
    problems: list[str] = Field(default_factory=list)


# --- step 1: list what the e-application system has for us ----------------------------------
def list_applications(source: ApplicationSource) -> SourceListing:
    """Ask the source which applications are waiting (一覧取得)."""
    return source.list_new()


# --- step 2: download (申請データの取得) -------------------------------------------------------
def download_batch(
    source: ApplicationSource,
    refs: list[models.SubmissionRef],
    settings: Settings,
    flow_run_id: str | None,
) -> DownloadReport:
    """Fetch each application not stored yet, save it and record it as received.

    A completed download is recorded before the next one starts, so a retry of the
    batch (after a transient failure) never fetches it again. ``TransientError``
    propagates for the task's retry; ``InputError`` quarantines the one item.
    """
    report = DownloadReport()
    with session_scope(settings.db_url) as session:
        known = repo.application_statuses(session, [r.receipt_no for r in refs])
        hashes = repo.quarantined_hashes(session, [r.receipt_no for r in refs])
    for ref in refs:
        if known.get(ref.receipt_no, "quarantined") != "quarantined":
            # Stored by an earlier run. The portal lists only unmarked ones, so a crash
            # between storing and marking left it unmarked: mark it now (idempotent).
            source.mark_received(ref.receipt_no)
            report.already_received += 1
            continue
        try:
            app = source.fetch(ref, settings.intake_dir)
        except InputError as exc:
            report.quarantined += _quarantine_item(
                settings, ref.receipt_no, exc, flow_run_id, status_known=False
            )
            continue
        if hashes.get(app.receipt_no) == app.pdf_sha256:
            report.already_received += 1  # quarantined and unchanged: nothing to retry yet
            continue
        with session_scope(settings.db_url) as session:
            created = repo.record_received(session, app, process=PROCESS, flow_run_id=flow_run_id)
            repo.resolve_quarantine(session, PROCESS, app.receipt_no)
        source.mark_received(app.receipt_no)
        if created:
            report.downloaded.append(app.receipt_no)
        else:
            report.already_received += 1
    return report


def _quarantine_item(
    settings: Settings,
    item_ref: str,
    exc: InputError,
    flow_run_id: str | None,
    *,
    status_known: bool,
    path: Path | None = None,
) -> bool:
    """Quarantine one item; True if this is a new quarantine record."""
    reason = models.Reason(
        code=exc.code,
        severity=models.Severity.QUARANTINE,
        message_ja=exc.message_ja,
        message_en=exc.message_en,
    )
    with session_scope(settings.db_url) as session:
        new = repo.quarantine(
            session,
            models.QuarantineRecord(process=PROCESS, item_ref=item_ref, reason=reason, path=path),
            flow_run_id=flow_run_id,
        )
        if status_known:
            repo.set_application_outcome(
                session,
                item_ref,
                status="quarantined",
                reasons=[reason],
                actor=repo.SYSTEM_ACTOR,
                flow_run_id=flow_run_id,
            )
    log.warning("隔離 quarantined %s: %s", item_ref, exc.code)
    return new


def unfinished_downloads(settings: Settings) -> list[str]:
    """受付番号 stored as received but never checked (a run crashed in between)."""
    with session_scope(settings.db_url) as session:
        return [a.receipt_no for a in repo.received_applications(session, PROCESS)]


# --- step 3: check and enter (確認・登録) ---------------------------------------------------------
@dataclass
class _IndexCache:
    key: tuple[object, ...] = ()
    index: ResidentIndex | None = None
    providers: dict[str, models.Provider] = field(default_factory=dict)


_cache = _IndexCache()


def load_masters(settings: Settings) -> tuple[ResidentIndex, dict[str, models.Provider]]:
    """The resident index and providers, rebuilt only when the registry copy changed."""
    with session_scope(settings.db_url) as session:
        key = (
            settings.db_url,
            session.scalar(select(func.count()).select_from(ResidentRow)),
            session.scalar(select(func.max(ResidentRow.updated_at))),
        )
        if _cache.index is None or _cache.key != key:
            _cache.index = ResidentIndex(repo.load_residents(session))
            _cache.key = key
        _cache.providers = repo.load_providers(session)
        return _cache.index, _cache.providers


def process_batch(
    receipt_nos: list[str],
    settings: Settings,
    flow_run_id: str | None,
) -> BatchReport:
    """Parse, verify and enter each received application; send doubtful ones to review.

    The applications are read from the store by 受付番号 (only those still ``received``),
    so the task's inputs and results carry no personal data. One transaction per
    application: a crash loses at most the one in flight, and the re-run picks it up
    because its status is still ``received``.
    """
    index, providers = load_masters(settings)
    report = BatchReport()
    if not receipt_nos:
        return report
    with session_scope(settings.db_url) as session:
        apps = repo.received_applications(session, PROCESS, receipt_nos)
    for app in apps:
        try:
            data = Path(app.pdf_path).read_bytes()
            parsed = parse_application_pdf(data, max_bytes=settings.max_attachment_bytes)
        except InputError as exc:
            report.quarantined += _quarantine_item(
                settings, app.receipt_no, exc, flow_run_id, status_known=True, path=app.pdf_path
            )
            continue
        except OSError:
            missing = InputError(
                "ダウンロードした PDF が見つかりません。再実行すると取得し直します。",
                "The downloaded PDF is missing. A re-run fetches it again.",
                code="pdf_missing",
            )
            report.quarantined += _quarantine_item(
                settings, app.receipt_no, missing, flow_run_id, status_known=True
            )
            continue
        verification = verify_application(
            app.receipt_no,
            app.submitted_at,
            app.fields,
            parsed.fields,
            index,
            providers,
            settings,
            jst_date(app.submitted_at),
        )
        report.verified += 1
        for reason in verification.reasons:
            report.reason_counts[reason.code] = report.reason_counts.get(reason.code, 0) + 1
        _record_verification(settings, verification, parsed.fields, flow_run_id, report)
    return report


def _record_verification(
    settings: Settings,
    verification: models.Verification,
    pdf_fields: dict[str, str],
    flow_run_id: str | None,
    report: BatchReport,
) -> None:
    decision = verification.decision
    resident = verification.resident
    resident_id = resident.resident_id if resident else None
    if decision is models.Decision.ACCEPT and (verification.application is None or not resident_id):
        decision = models.Decision.REVIEW  # the rules never do this; be safe, ask a person
    status = {
        models.Decision.ACCEPT: "entered",
        models.Decision.REJECT: "rejected",
    }.get(decision, "review")
    with session_scope(settings.db_url) as session:
        if status == "entered" and verification.application and resident_id:
            _enter(session, verification.application, resident_id, repo.SYSTEM_ACTOR, flow_run_id)
            report.entered += 1
        elif status == "rejected":
            report.rejected += 1
        else:
            repo.queue_review(
                session,
                process=PROCESS,
                item_ref=verification.receipt_no,
                reasons=verification.reasons,
                proposed={
                    "resident_id": resident_id or "",
                    "resident_score": resident.score if resident else 0.0,
                    "provider_id": verification.provider_id or "",
                },
            )
            report.sent_to_review += 1
        repo.set_application_outcome(
            session,
            verification.receipt_no,
            status=status,
            reasons=verification.reasons,
            actor=repo.SYSTEM_ACTOR,
            flow_run_id=flow_run_id,
            pdf_fields=pdf_fields,
            resident_id=resident_id,
            resident_score=resident.score if resident else None,
            provider_id=verification.provider_id,
        )


def _enter(
    session: Session,
    application: models.NormalizedApplication,
    resident_id: str,
    actor: str,
    flow_run_id: str | None,
) -> bool:
    child_age = 0
    applied_on = jst_date(application.submitted_at)
    if application.child_birth_date and application.child_birth_date <= applied_on:
        child_age = age_on(application.child_birth_date, applied_on)
    _case, created = repo.enter_childcare_case(
        session,
        application,
        resident_id=resident_id,
        provider_id=application.provider_id,
        hours_cap=hours_cap(application.service, application.birth_type, child_age),
        fee_per_hour=fee_per_hour(application.tax_status, application.birth_type),
        actor=actor,
        flow_run_id=flow_run_id,
    )
    return created


# --- step 4: review decisions (人による確認の反映) ---------------------------------------------------
def apply_review_decisions(
    settings: Settings,
    decisions: list[ReviewDecision],
    *,
    reviewer: str,
    seconds_spent: float,
    flow_run_id: str | None,
) -> ReviewReport:
    """Apply a reviewer's answers: enter, correct then enter, reject, or leave pending.

    Each decision is audited with the reviewer's name. An item answered "later", or one
    whose correction does not make a valid application, stays in the queue.
    """
    report = ReviewReport()
    answered = [d for d in decisions if d.decision != "later"]
    per_item = seconds_spent / len(answered) if answered else 0.0
    for decision in decisions:
        if decision.decision == "later":
            report.still_pending += 1
            continue
        problem = _apply_one(settings, decision, reviewer, per_item, flow_run_id, report)
        if problem:
            report.problems.append(problem)
            report.still_pending += 1
    return report


def _apply_one(
    settings: Settings,
    decision: ReviewDecision,
    reviewer: str,
    seconds: float,
    flow_run_id: str | None,
    report: ReviewReport,
) -> str | None:
    with session_scope(settings.db_url) as session:
        item = session.get(ReviewItemRow, decision.item_id)
        if item is None or item.status != "pending":
            return f"item {decision.item_id}: already decided or unknown"
        app_row = repo.get_application(session, item.item_ref)
        if app_row is None:
            return f"{item.item_ref}: application missing"
        if decision.decision == "reject":
            repo.decide_review(
                session,
                decision.item_id,
                decision="reject",
                reviewer=reviewer,
                corrections={},
                comment=decision.comment,
                seconds_spent=seconds,
                flow_run_id=flow_run_id,
            )
            reason = models.Reason(
                code="rejected_by_reviewer",
                severity=models.Severity.REJECT,
                message_ja="担当者の確認により却下されました。",
                message_en="Rejected by the reviewer.",
            )
            repo.set_application_outcome(
                session,
                item.item_ref,
                status="rejected",
                reasons=[reason],
                actor=reviewer,
                flow_run_id=flow_run_id,
            )
            report.reviewed += 1
            report.rejected += 1
            return None
        # approve or correct: the PDF's fields, with the reviewer's corrections on top
        fields = {**app_row.fields, **app_row.pdf_fields, **decision.corrections}
        if decision.provider_id:
            fields["provider_id"] = decision.provider_id
        application, problems = normalize_application(item.item_ref, app_row.submitted_at, fields)
        blocking = [p for p in problems if p.severity is not models.Severity.INFO]
        resident_id = decision.resident_id or item.proposed.get("resident_id", "")
        if blocking or not resident_id or not application.provider_id:
            codes = ", ".join(p.code for p in blocking) or "resident_id/provider_id"
            return f"{item.item_ref}: still incomplete ({codes})"
        if session.get(ResidentRow, resident_id) is None:
            return f"{item.item_ref}: resident {resident_id} not in the registry"
        changed = bool(decision.corrections) or decision.decision == "correct"
        corrections = dict(decision.corrections)
        if decision.resident_id and decision.resident_id != item.proposed.get("resident_id"):
            corrections["resident_id"] = decision.resident_id
            changed = True
        if decision.provider_id and decision.provider_id != item.proposed.get("provider_id"):
            corrections["provider_id"] = decision.provider_id
            changed = True
        repo.decide_review(
            session,
            decision.item_id,
            decision="correct" if changed else "approve",
            reviewer=reviewer,
            corrections=corrections,
            comment=decision.comment,
            seconds_spent=seconds,
            flow_run_id=flow_run_id,
        )
        _enter(session, application, resident_id, reviewer, flow_run_id)
        repo.set_application_outcome(
            session,
            item.item_ref,
            status="entered",
            reasons=[],
            actor=reviewer,
            flow_run_id=flow_run_id,
            resident_id=resident_id,
            provider_id=application.provider_id,
        )
        report.reviewed += 1
        report.entered += 1
        report.corrected += int(changed)
        return None


def offer_review(settings: Settings, flow_run_id: str | None) -> tuple[list[ReviewCard], int]:
    """The oldest pending items as review cards (marked as offered), and the pending total."""
    with session_scope(settings.db_url) as session:
        items = repo.pending_reviews(session, PROCESS, settings.review_max_items)
        repo.mark_offered(session, [i.id for i in items], flow_run_id)
        cards = build_cards(session, items)
        return cards, repo.count_pending_reviews(session, PROCESS)


def pending_review_count(settings: Settings) -> int:
    """How many items of this process wait for a person."""
    with session_scope(settings.db_url) as session:
        return repo.count_pending_reviews(session, PROCESS)


def finish_summary(settings: Settings, summary: models.RunSummary) -> None:
    """Fill in what is still waiting (review, quarantine) and the finish time."""
    with session_scope(settings.db_url) as session:
        summary.review_pending = repo.count_pending_reviews(session, PROCESS)
        summary.quarantine_open = len(repo.open_quarantine(session, PROCESS))
    summary.finished_at = dt.datetime.now(dt.UTC)


# --- step 5: documents (依頼書・実績管理) ---------------------------------------------------------
def issue_documents(settings: Settings, today: dt.date, flow_run_id: str | None) -> list[Path]:
    """Write a 依頼書 per provider for cases without one, then rebuild the ledger.

    A case is marked as sent in the same transaction that records the letter's path,
    so a re-run writes letters only for cases still without one.
    """
    out_dir = settings.output_dir / "childcare"
    paths: list[Path] = []
    with session_scope(settings.db_url) as session:
        providers = repo.load_providers(session)
        pending = repo.childcare_cases(session, without_letter=True)
        issued_before = (
            session.scalar(select(func.count(func.distinct(ChildcareCaseRow.letter_path)))) or 0
        )
        by_provider: dict[str, list[ChildcareCaseRow]] = defaultdict(list)
        for row in pending:
            by_provider[row.provider_id].append(row)
        for number, provider_id in enumerate(sorted(by_provider), start=issued_before + 1):
            rows = by_provider[provider_id]
            letters = write_request_letters(
                repo.case_models(rows, providers),
                providers,
                out_dir / "letters",
                today,
                number,
            )
            for letter in letters:
                repo.mark_letter_issued(
                    session, [r.receipt_no for r in rows], str(letter), flow_run_id=flow_run_id
                )
                paths.append(letter)
        all_cases = repo.case_models(repo.childcare_cases(session), providers)
    if all_cases:
        paths.append(
            update_performance_ledger(out_dir / "実績管理_childcare.xlsx", all_cases, today=today)
        )
    return paths


# --- the whole procedure without Prefect (benchmark and tests) ----------------------------
def run_plain(
    source: ApplicationSource,
    settings: Settings,
    *,
    today: dt.date,
    flow_run_id: str | None = None,
) -> models.RunSummary:
    """The same steps as the flow, called as plain Python in one process."""
    summary = models.RunSummary(
        process=PROCESS,
        flow_run_id=flow_run_id,
        started_at=dt.datetime.now(dt.UTC),
        baseline_minutes=settings.childcare_baseline_minutes,
    )
    add_batch(summary, process_batch(unfinished_downloads(settings), settings, flow_run_id))
    listing = list_applications(source)
    summary.quarantined += record_quarantine(settings, listing.quarantined, flow_run_id)
    summary.duplicates_skipped = len(listing.duplicates)
    for start in range(0, len(listing.refs), settings.batch_size):
        refs = listing.refs[start : start + settings.batch_size]
        downloaded = download_batch(source, refs, settings, flow_run_id)
        add_download(summary, downloaded)
        add_batch(summary, process_batch(downloaded.downloaded, settings, flow_run_id))
    summary.documents = [str(p) for p in issue_documents(settings, today, flow_run_id)]
    finish_summary(settings, summary)
    return summary


def add_download(summary: models.RunSummary, report: DownloadReport) -> None:
    """Add a download batch's counts to the run summary."""
    summary.received += len(report.downloaded)
    summary.already_received += report.already_received
    summary.quarantined += report.quarantined


def add_batch(summary: models.RunSummary, report: BatchReport) -> None:
    """Add a check-and-enter batch's counts to the run summary."""
    summary.verified += report.verified
    summary.entered += report.entered
    summary.sent_to_review += report.sent_to_review
    summary.rejected += report.rejected
    summary.quarantined += report.quarantined


def add_review(summary: models.RunSummary, report: ReviewReport, seconds: float) -> None:
    """Add applied review decisions to the run summary."""
    summary.reviewed += report.reviewed
    summary.entered += report.entered
    summary.rejected += report.rejected
    summary.corrected += report.corrected
    summary.reviewer_seconds += seconds
    summary.notes += [f"確認結果を登録できず保留 / kept pending: {p}" for p in report.problems]
