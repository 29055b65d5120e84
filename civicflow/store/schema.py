"""SQLAlchemy 2 schema of the line-of-business store.

Personal data lives here and only here (and in the documents made for the people
who are entitled to it). Every change to a business record writes an ``AuditLog``
row with who, when, before and after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (needed by alembic on SQLite)."""

    metadata = MetaData(naming_convention=NAMING)


class ResidentRow(Base):
    """住民: a copy of the resident registry entries the office may match against."""

    __tablename__ = "residents"

    resident_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    gender: Mapped[str] = mapped_column(String(4))
    postal_code: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(30), default="")
    household_id: Mapped[str] = mapped_column(String(20), default="")
    previous_address: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProviderRow(Base):
    """委託事業者: a contracted provider, its services, area and contract period."""

    __tablename__ = "providers"

    provider_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    services: Mapped[list[Any]] = mapped_column(JSON)
    service_area: Mapped[list[Any]] = mapped_column(JSON)
    contract_start: Mapped[dt.date] = mapped_column(Date)
    contract_end: Mapped[dt.date] = mapped_column(Date)
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_person: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationRow(Base):
    """申請: one e-application as received, unique on its 受付番号."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    process: Mapped[str] = mapped_column(String(40), index=True)
    procedure_code: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(20))
    # received → entered | review | rejected | quarantined
    status: Mapped[str] = mapped_column(String(20), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    pdf_path: Mapped[str] = mapped_column(String(500), default="")
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pdf_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    resident_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    resident_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ChildcareCaseRow(Base):
    """利用登録 (case): an accepted childcare application entered into the office's records."""

    __tablename__ = "childcare_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str] = mapped_column(
        String(32), ForeignKey("applications.receipt_no"), unique=True
    )
    registration_no: Mapped[str | None] = mapped_column(String(12), unique=True, nullable=True)
    resident_id: Mapped[str] = mapped_column(String(20), index=True)
    provider_id: Mapped[str] = mapped_column(String(20), index=True)
    service: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    child_birth_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    birth_type: Mapped[str] = mapped_column(String(4))
    tax_status: Mapped[str] = mapped_column(String(8))
    hours_cap: Mapped[int] = mapped_column(Integer)
    fee_per_hour: Mapped[int] = mapped_column(Integer)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entered_by: Mapped[str] = mapped_column(String(60))
    letter_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    letter_issued_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    # The applicant's details as entered (for the 依頼書); PII, stays in the store.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReviewItemRow(Base):
    """確認待ち: an item a person must decide; stays pending until answered."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process: Mapped[str] = mapped_column(String(40))
    item_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | decided
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    offered_count: Mapped[int] = mapped_column(Integer, default=0)
    last_offered_run: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_offered_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    decision: Mapped[str | None] = mapped_column(String(12), nullable=True)
    corrections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reviewer: Mapped[str | None] = mapped_column(String(60), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    seconds_spent: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_review_items_process_status", "process", "status"),)


class QuarantineRow(Base):
    """隔離: an input set aside with its reason until someone fixes it."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process: Mapped[str] = mapped_column(String(40))
    item_ref: Mapped[str] = mapped_column(String(200))
    reason_code: Mapped[str] = mapped_column(String(60))
    message_ja: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (Index("ix_quarantine_process_item", "process", "item_ref"),)


class AuditLogRow(Base):
    """監査ログ: who changed what, when, with the record before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(60))
    process: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RunMetricsRow(Base):
    """実行実績: one run's RunSummary, the basis of the hours-saved report."""

    __tablename__ = "run_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    process: Mapped[str] = mapped_column(String(40), index=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    entered: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    sent_to_review: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    reviewer_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    hours_saved: Mapped[float] = mapped_column(Float, default=0.0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )


class BusPassRow(Base):
    """乗車券交付: a community-bus free pass issued from a paper application (idempotent on form_id)."""

    __tablename__ = "bus_passes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    form_id: Mapped[str] = mapped_column(String(120), unique=True)  # the scanned sheet's ID
    pass_no: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    resident_id: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    eligibility: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 対象要件 codes
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # as entered (PII)
    reviewed_by: Mapped[list[Any]] = mapped_column(JSON, default=list)  # reviewers, if any
    received_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
