"""Repositories: the only code that reads and writes the store's tables.

Every write that changes a business record also writes an audit row
(who, when, before, after). Writes are idempotent on the business key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicflow import models
from civicflow.childcare.rules import registration_no
from civicflow.store.schema import (
    ApplicationRow,
    AuditLogRow,
    BusPassRow,
    ChildcareCaseRow,
    ProviderRow,
    QuarantineRow,
    ResidentRow,
    ReviewItemRow,
    RunMetricsRow,
    utcnow,
)

SYSTEM_ACTOR = "civicflow"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def audit(
    session: Session,
    *,
    actor: str,
    process: str,
    entity: str,
    entity_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    flow_run_id: str | None = None,
) -> None:
    """Write one audit row (監査ログ) in the caller's transaction."""
    session.add(
        AuditLogRow(
            actor=actor,
            process=process,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            flow_run_id=flow_run_id,
        )
    )


# --- masters -------------------------------------------------------------------------------
def _upsert_by_key(
    session: Session,
    row_type: type[ResidentRow] | type[ProviderRow],
    key: str,
    items: Iterable[models.Resident] | Iterable[models.Provider],
) -> int:
    """Insert or update master rows by their key; returns how many rows changed."""
    existing = {getattr(row, key): row for row in session.scalars(select(row_type))}
    changed = 0
    for item in items:
        data = item.model_dump()
        row = existing.get(data[key])
        if row is None:
            session.add(row_type(**data))
            changed += 1
        elif {k: getattr(row, k) for k in data} != data:
            for name, value in {**data, "updated_at": utcnow()}.items():
                setattr(row, name, value)
            changed += 1
    return changed


def upsert_residents(session: Session, residents: Iterable[models.Resident]) -> int:
    """Insert or update residents by 宛名番号; returns how many rows changed."""
    return _upsert_by_key(session, ResidentRow, "resident_id", residents)


def upsert_providers(session: Session, providers: Iterable[models.Provider]) -> int:
    """Insert or update providers by 事業者番号; returns how many rows changed."""
    return _upsert_by_key(session, ProviderRow, "provider_id", providers)


def load_residents(session: Session) -> list[models.Resident]:
    """Every resident in the registry copy."""
    fields = models.Resident.model_fields
    return [
        models.Resident.model_validate({k: getattr(row, k) for k in fields})
        for row in session.scalars(select(ResidentRow))
    ]


def load_providers(session: Session) -> dict[str, models.Provider]:
    """Every contracted provider, by 事業者番号."""
    fields = models.Provider.model_fields
    return {
        row.provider_id: models.Provider.model_validate({k: getattr(row, k) for k in fields})
        for row in session.scalars(select(ProviderRow))
    }


# --- applications --------------------------------------------------------------------------
def application_statuses(session: Session, receipt_nos: Sequence[str]) -> dict[str, str]:
    """The stored status of each known 受付番号 among ``receipt_nos``."""
    result: dict[str, str] = {}
    for start in range(0, len(receipt_nos), 500):
        chunk = list(receipt_nos[start : start + 500])
        rows = session.execute(
            select(ApplicationRow.receipt_no, ApplicationRow.status).where(
                ApplicationRow.receipt_no.in_(chunk)
            )
        )
        result.update({r: s for r, s in rows})
    return result


def quarantined_hashes(session: Session, receipt_nos: Sequence[str]) -> dict[str, str]:
    """The stored PDF hash of each quarantined application among ``receipt_nos``."""
    rows = session.execute(
        select(ApplicationRow.receipt_no, ApplicationRow.pdf_sha256).where(
            ApplicationRow.receipt_no.in_(list(receipt_nos)),
            ApplicationRow.status == "quarantined",
        )
    )
    return {r: h for r, h in rows}


def record_received(
    session: Session,
    app: models.DownloadedApplication,
    *,
    process: str,
    flow_run_id: str | None,
) -> bool:
    """Record a downloaded application as 受付済 (received).

    Returns False when the 受付番号 is already stored in any state but quarantined
    (it must not be processed twice). A quarantined one is taken again: the operator
    fixed the input and the re-run picks it up.
    """
    row = session.scalar(select(ApplicationRow).where(ApplicationRow.receipt_no == app.receipt_no))
    if row is not None and row.status != "quarantined":
        return False
    values = {
        "process": process,
        "procedure_code": app.procedure_code,
        "source": app.source,
        "status": "received",
        "submitted_at": app.submitted_at,
        "pdf_path": str(app.pdf_path),
        "pdf_sha256": app.pdf_sha256,
        "fields": dict(app.fields),
        "flow_run_id": flow_run_id,
    }
    if row is None:
        session.add(ApplicationRow(receipt_no=app.receipt_no, **values))
        before = None
    else:
        before = {"status": row.status}
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    audit(
        session,
        actor=SYSTEM_ACTOR,
        process=process,
        entity="application",
        entity_id=app.receipt_no,
        action="receive",
        before=before,
        after={"status": "received", "source": app.source, "pdf_sha256": app.pdf_sha256},
        flow_run_id=flow_run_id,
    )
    return True


def received_applications(
    session: Session, process: str, receipt_nos: Sequence[str] | None = None
) -> list[models.DownloadedApplication]:
    """Applications downloaded but not yet checked (status ``received``), oldest first.

    Args:
        session: The store session.
        process: The process they belong to.
        receipt_nos: Only these 受付番号 (None: all of them).
    """
    query = (
        select(ApplicationRow)
        .where(ApplicationRow.process == process, ApplicationRow.status == "received")
        .order_by(ApplicationRow.id)
    )
    if receipt_nos is not None:
        query = query.where(ApplicationRow.receipt_no.in_(list(receipt_nos)))
    rows = session.scalars(query)
    return [
        models.DownloadedApplication(
            receipt_no=row.receipt_no,
            submitted_at=row.submitted_at,
            procedure_code=row.procedure_code,
            source=row.source,
            fields=dict(row.fields),
            pdf_path=Path(row.pdf_path),
            pdf_sha256=row.pdf_sha256,
        )
        for row in rows
    ]


def get_application(session: Session, receipt_no: str) -> ApplicationRow | None:
    """One application by 受付番号."""
    return session.scalar(select(ApplicationRow).where(ApplicationRow.receipt_no == receipt_no))


def set_application_outcome(
    session: Session,
    receipt_no: str,
    *,
    status: str,
    reasons: Sequence[models.Reason],
    actor: str,
    flow_run_id: str | None,
    pdf_fields: dict[str, str] | None = None,
    resident_id: str | None = None,
    resident_score: float | None = None,
    provider_id: str | None = None,
) -> None:
    """Set an application's status and the reasons behind it, audited."""
    row = get_application(session, receipt_no)
    if row is None:
        raise KeyError(receipt_no)
    before = {"status": row.status, "reasons": [r.get("code") for r in row.reasons]}
    row.status = status
    row.reasons = [r.model_dump(mode="json") for r in reasons]
    if pdf_fields is not None:
        row.pdf_fields = dict(pdf_fields)
    if resident_id is not None:
        row.resident_id = resident_id
        row.resident_score = resident_score
    if provider_id is not None:
        row.provider_id = provider_id
    row.updated_at = utcnow()
    audit(
        session,
        actor=actor,
        process=row.process,
        entity="application",
        entity_id=receipt_no,
        action=f"set_{status}",
        before=before,
        after={"status": status, "reasons": [r.code for r in reasons]},
        flow_run_id=flow_run_id,
    )


def count_applications(session: Session, process: str) -> dict[str, int]:
    """Applications per status for one process."""
    rows = session.execute(
        select(ApplicationRow.status, func.count())
        .where(ApplicationRow.process == process)
        .group_by(ApplicationRow.status)
    )
    return {status: count for status, count in rows}


# --- childcare cases (利用登録) ----------------------------------------------------------------
def enter_childcare_case(
    session: Session,
    application: models.NormalizedApplication,
    *,
    resident_id: str,
    provider_id: str,
    hours_cap: int,
    fee_per_hour: int,
    actor: str,
    flow_run_id: str | None,
) -> tuple[ChildcareCaseRow, bool]:
    """Enter an accepted application as a case, idempotent on 受付番号.

    Returns the case and whether it was created now (False: it already existed,
    e.g. a re-run after a crash, and nothing was written).
    """
    existing = session.scalar(
        select(ChildcareCaseRow).where(ChildcareCaseRow.receipt_no == application.receipt_no)
    )
    if existing is not None:
        return existing, False
    details = application.model_dump(mode="json")
    case = ChildcareCaseRow(
        receipt_no=application.receipt_no,
        resident_id=resident_id,
        provider_id=provider_id,
        service=application.service,
        start_date=application.start_date,
        due_date=application.due_date,
        child_birth_date=application.child_birth_date,
        birth_type=application.birth_type,
        tax_status=application.tax_status,
        hours_cap=hours_cap,
        fee_per_hour=fee_per_hour,
        entered_by=actor,
        details=details,
    )
    session.add(case)
    session.flush()  # assigns the id the registration number is made from
    case.registration_no = registration_no(case.id)
    audit(
        session,
        actor=actor,
        process="childcare_support",
        entity="childcare_case",
        entity_id=application.receipt_no,
        action="enter",
        before=None,
        after={
            "registration_no": case.registration_no,
            "resident_id": resident_id,
            "provider_id": provider_id,
            "service": case.service,
            "hours_cap": hours_cap,
            "fee_per_hour": fee_per_hour,
        },
        flow_run_id=flow_run_id,
    )
    return case, True


def childcare_cases(session: Session, *, without_letter: bool = False) -> list[ChildcareCaseRow]:
    """Entered cases, oldest first; optionally only those whose 依頼書 is not issued."""
    query = select(ChildcareCaseRow).order_by(ChildcareCaseRow.id)
    if without_letter:
        query = query.where(ChildcareCaseRow.letter_issued_at.is_(None))
    return list(session.scalars(query))


def case_models(
    rows: Sequence[ChildcareCaseRow], providers: dict[str, models.Provider]
) -> list[models.CaseRow]:
    """Cases as the documents need them."""
    result = []
    for row in rows:
        details = row.details
        provider = providers.get(row.provider_id)
        result.append(
            models.CaseRow(
                case_id=str(row.id),
                receipt_no=row.receipt_no,
                registration_no=row.registration_no or registration_no(row.id),
                resident_id=row.resident_id,
                applicant_name=details.get("applicant_name", ""),
                applicant_kana=details.get("applicant_kana", ""),
                address=details.get("address", ""),
                phone=details.get("phone", ""),
                service=row.service,
                provider_id=row.provider_id,
                provider_name=provider.name if provider else row.provider_id,
                start_date=row.start_date,
                due_date=row.due_date,
                child_birth_date=row.child_birth_date,
                birth_type=row.birth_type,
                tax_status=row.tax_status,
                hours_cap=row.hours_cap,
                fee_per_hour=row.fee_per_hour,
                entered_at=row.entered_at,
            )
        )
    return result


def mark_letter_issued(
    session: Session, receipt_nos: Sequence[str], path: str, *, flow_run_id: str | None
) -> None:
    """Record that these cases' 依頼書 was written to ``path``, audited."""
    rows = session.scalars(
        select(ChildcareCaseRow).where(ChildcareCaseRow.receipt_no.in_(list(receipt_nos)))
    )
    now = utcnow()
    for row in rows:
        row.letter_path = path
        row.letter_issued_at = now
        audit(
            session,
            actor=SYSTEM_ACTOR,
            process="childcare_support",
            entity="childcare_case",
            entity_id=row.receipt_no,
            action="issue_letter",
            before={"letter_path": None},
            after={"letter_path": path},
            flow_run_id=flow_run_id,
        )


# --- review queue --------------------------------------------------------------------------
def queue_review(
    session: Session,
    *,
    process: str,
    item_ref: str,
    reasons: Sequence[models.Reason],
    proposed: dict[str, Any],
) -> ReviewItemRow:
    """Put an item in the review queue (確認待ち); one pending entry per item."""
    row = session.scalar(
        select(ReviewItemRow).where(
            ReviewItemRow.process == process,
            ReviewItemRow.item_ref == item_ref,
            ReviewItemRow.status == "pending",
        )
    )
    if row is None:
        row = ReviewItemRow(process=process, item_ref=item_ref, status="pending")
        session.add(row)
    row.reasons = [r.model_dump(mode="json") for r in reasons]
    row.proposed = _jsonable(proposed)
    session.flush()
    return row


def pending_reviews(session: Session, process: str, limit: int) -> list[ReviewItemRow]:
    """The oldest pending review items of a process."""
    return list(
        session.scalars(
            select(ReviewItemRow)
            .where(ReviewItemRow.process == process, ReviewItemRow.status == "pending")
            .order_by(ReviewItemRow.created_at, ReviewItemRow.id)
            .limit(limit)
        )
    )


def count_pending_reviews(session: Session, process: str) -> int:
    """How many items of a process wait for a person."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReviewItemRow)
            .where(ReviewItemRow.process == process, ReviewItemRow.status == "pending")
        )
        or 0
    )


def mark_offered(session: Session, item_ids: Sequence[int], flow_run_id: str | None) -> None:
    """Note that these items were put in front of a reviewer by this run."""
    for row in session.scalars(select(ReviewItemRow).where(ReviewItemRow.id.in_(item_ids))):
        if row.last_offered_run != flow_run_id:  # a resumed run offers the same form again
            row.offered_count += 1
            row.last_offered_run = flow_run_id
            row.last_offered_at = utcnow()


def decide_review(
    session: Session,
    item_id: int,
    *,
    decision: str,
    reviewer: str,
    corrections: dict[str, str],
    comment: str,
    seconds_spent: float,
    flow_run_id: str | None,
) -> ReviewItemRow | None:
    """Record a reviewer's decision, audited; None if the item was already decided."""
    row = session.get(ReviewItemRow, item_id)
    if row is None or row.status != "pending":
        return None
    before = {"status": row.status, "proposed": row.proposed}
    row.status = "decided"
    row.decision = decision
    row.reviewer = reviewer
    row.corrections = dict(corrections)
    row.comment = comment
    row.seconds_spent = seconds_spent
    row.decided_at = utcnow()
    audit(
        session,
        actor=reviewer,
        process=row.process,
        entity="review_item",
        entity_id=row.item_ref,
        action=f"review_{decision}",
        before=before,
        after={"decision": decision, "corrections": corrections, "comment": comment},
        flow_run_id=flow_run_id,
    )
    return row


def review_item_for(session: Session, process: str, item_ref: str) -> ReviewItemRow | None:
    """The newest review item of an input, pending or decided."""
    return session.scalar(
        select(ReviewItemRow)
        .where(ReviewItemRow.process == process, ReviewItemRow.item_ref == item_ref)
        .order_by(ReviewItemRow.id.desc())
        .limit(1)
    )


def record_review_entry(
    session: Session,
    item_id: int,
    *,
    reviewer: str,
    values: dict[str, Any],
    answer_key: str,
    proposed_update: dict[str, Any],
    flow_run_id: str | None,
    seconds_spent: float = 0.0,
) -> ReviewItemRow | None:
    """Record one reviewer's entry on an item that stays pending (double entry), audited.

    ``answer_key`` names the answer (run and review round): applying the same answer twice,
    as a flow resumed after a suspend does, records it once. Returns None when the item is
    not pending or the answer was already recorded.
    """
    row = session.get(ReviewItemRow, item_id)
    if row is None or row.status != "pending":
        return None
    proposed = dict(row.proposed)
    if answer_key in proposed.get("answers", []):
        return None
    entry = {
        "reviewer": reviewer,
        "values": values,
        "at": utcnow().isoformat(),
        "seconds": round(seconds_spent, 1),
    }
    proposed.update(proposed_update)
    proposed["entries"] = [*proposed.get("entries", []), _jsonable(entry)]
    proposed["answers"] = [*proposed.get("answers", []), answer_key]
    row.proposed = _jsonable(proposed)
    audit(
        session,
        actor=reviewer,
        process=row.process,
        entity="review_item",
        entity_id=row.item_ref,
        action="review_entry",
        before=None,
        after={
            "stage": proposed.get("stage"),
            "fields": sorted(values),
            "seconds": round(seconds_spent, 1),
        },
        flow_run_id=flow_run_id,
    )
    return row


# --- bus passes (コミュニティバス無料乗車券) -------------------------------------------------------
def bus_pass_for_form(session: Session, form_id: str) -> BusPassRow | None:
    """The pass issued from a scanned form, if any."""
    return session.scalar(select(BusPassRow).where(BusPassRow.form_id == form_id))


def active_bus_pass(session: Session, resident_id: str, on: dt.date) -> BusPassRow | None:
    """A pass the resident already holds that is still valid on ``on``."""
    return session.scalar(
        select(BusPassRow)
        .where(BusPassRow.resident_id == resident_id, BusPassRow.valid_until >= on)
        .order_by(BusPassRow.id.desc())
        .limit(1)
    )


def enter_bus_pass(
    session: Session,
    *,
    form_id: str,
    fields: dict[str, Any],
    eligibility: list[str],
    resident_id: str | None,
    reviewed_by: list[str],
    received_on: dt.date | None,
    valid_until: dt.date,
    fiscal_year: int,
    actor: str,
    flow_run_id: str | None,
) -> tuple[BusPassRow, bool]:
    """Issue a pass for an accepted form, idempotent on the form ID (乗車券交付).

    Returns the pass and whether it was issued now (False: it already existed, e.g. a
    re-run after a crash, and nothing was written).
    """
    existing = bus_pass_for_form(session, form_id)
    if existing is not None:
        return existing, False
    row = BusPassRow(
        form_id=form_id,
        resident_id=resident_id,
        eligibility=list(eligibility),
        fields=_jsonable(fields),
        reviewed_by=list(reviewed_by),
        received_on=received_on,
        valid_until=valid_until,
        flow_run_id=flow_run_id,
    )
    session.add(row)
    session.flush()  # the id the pass number is made from
    row.pass_no = f"{fiscal_year}{row.id:06d}"  # 乗車券番号: fiscal year of issue + serial
    audit(
        session,
        actor=actor,
        process="bus_pass",
        entity="bus_pass",
        entity_id=form_id,
        action="issue",
        before=None,
        after={
            "pass_no": row.pass_no,
            "resident_id": resident_id,
            "eligibility": list(eligibility),
            "reviewed_by": list(reviewed_by),
            "valid_until": valid_until,
        },
        flow_run_id=flow_run_id,
    )
    return row, True


def bus_passes(session: Session, *, since: dt.date | None = None) -> list[BusPassRow]:
    """Issued passes in issue order, optionally those received on or after ``since``."""
    query = select(BusPassRow).order_by(BusPassRow.id)
    if since is not None:
        query = query.where(BusPassRow.received_on >= since)
    return list(session.scalars(query))


# --- quarantine ----------------------------------------------------------------------------
def quarantine(
    session: Session, record: models.QuarantineRecord, *, flow_run_id: str | None
) -> bool:
    """Record a quarantined input; returns True if it is new (not already open)."""
    row = session.scalar(
        select(QuarantineRow).where(
            QuarantineRow.process == record.process,
            QuarantineRow.item_ref == record.item_ref,
            QuarantineRow.reason_code == record.reason.code,
            QuarantineRow.resolved_at.is_(None),
        )
    )
    if row is not None:
        row.last_seen_at = utcnow()
        return False
    session.add(
        QuarantineRow(
            process=record.process,
            item_ref=record.item_ref,
            reason_code=record.reason.code,
            message_ja=record.reason.message_ja,
            message_en=record.reason.message_en,
            path=str(record.path or ""),
            flow_run_id=flow_run_id,
        )
    )
    return True


def resolve_quarantine(session: Session, process: str, item_ref: str) -> int:
    """Close the open quarantine records of an item that now went through."""
    rows = session.scalars(
        select(QuarantineRow).where(
            QuarantineRow.process == process,
            QuarantineRow.item_ref == item_ref,
            QuarantineRow.resolved_at.is_(None),
        )
    ).all()
    for row in rows:
        row.resolved_at = utcnow()
    return len(rows)


def open_quarantine(session: Session, process: str) -> list[QuarantineRow]:
    """Quarantined inputs of a process still waiting for a fix."""
    return list(
        session.scalars(
            select(QuarantineRow)
            .where(QuarantineRow.process == process, QuarantineRow.resolved_at.is_(None))
            .order_by(QuarantineRow.created_at)
        )
    )


def unfinished_item_refs(session: Session) -> tuple[list[str], list[tuple[str, str]]]:
    """Across every process: items waiting for review, and open quarantine (ref, path).

    What housekeeping must never archive or delete.
    """
    pending = session.scalars(
        select(ReviewItemRow.item_ref).where(ReviewItemRow.status == "pending")
    ).all()
    quarantined = session.execute(
        select(QuarantineRow.item_ref, QuarantineRow.path).where(
            QuarantineRow.resolved_at.is_(None)
        )
    ).all()
    return [str(r) for r in pending], [(str(r), str(p or "")) for r, p in quarantined]


# --- metrics -------------------------------------------------------------------------------
def save_run_summary(session: Session, summary: models.RunSummary) -> None:
    """Store a run's summary; a second save for the same flow run replaces the first."""
    row = None
    if summary.flow_run_id:
        row = session.scalar(
            select(RunMetricsRow).where(RunMetricsRow.flow_run_id == summary.flow_run_id)
        )
    if row is None:
        row = RunMetricsRow(process=summary.process, flow_run_id=summary.flow_run_id)
        session.add(row)
    row.started_at = summary.started_at
    row.finished_at = summary.finished_at
    row.received = summary.received
    row.entered = summary.entered
    row.rejected = summary.rejected
    row.sent_to_review = summary.sent_to_review
    row.quarantined = summary.quarantined
    row.reviewer_seconds = summary.reviewer_seconds
    row.hours_saved = summary.hours_saved
    row.summary = summary.model_dump(mode="json")


def run_summaries(session: Session, process: str | None = None) -> list[models.RunSummary]:
    """Stored run summaries, oldest first."""
    query = select(RunMetricsRow).order_by(RunMetricsRow.started_at)
    if process:
        query = query.where(RunMetricsRow.process == process)
    return [models.RunSummary.model_validate(row.summary) for row in session.scalars(query)]
