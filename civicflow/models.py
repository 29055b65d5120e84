"""Pydantic models that cross a boundary (source → task → store → documents).

PII lives in these models only as long as the work needs it: log lines and
artifacts use ``receipt_no`` / ``resident_id`` and :func:`civicflow.models.mask_name`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, computed_field

# --- the childcare e-application form (産前産後家事・育児支援サービス 利用申請) ---------------
#: Field key → label printed on the form and used as the manifest column header.
#: The order is the order on the form.
CHILDCARE_FIELD_LABELS: dict[str, str] = {
    "applicant_name": "申請者氏名",
    "applicant_kana": "フリガナ",
    "applicant_birth_date": "生年月日",
    "postal_code": "郵便番号",
    "address": "住所",
    "phone": "電話番号",
    "pregnancy_status": "妊娠・出産の状況",  # 妊娠中 | 出産後
    "due_date": "出産予定日",
    "child_birth_date": "出生日",
    "child_name": "お子さんの氏名",
    "birth_type": "単胎・多胎",  # 単胎 | 多胎
    "boshi_techo_date": "母子健康手帳交付日",
    "tax_status": "世帯の課税状況",  # 課税 | 非課税 | 生活保護
    "service": "利用するサービス",  # 家事支援 | 産後ドゥーラ
    "provider_id": "希望事業者番号",
    "provider_name": "希望事業者名",
    "start_date": "利用開始希望日",
}
#: Fields a submission must carry (the rest may be blank depending on the case).
CHILDCARE_REQUIRED_FIELDS: tuple[str, ...] = (
    "applicant_name",
    "applicant_kana",
    "applicant_birth_date",
    "address",
    "pregnancy_status",
    "service",
    "provider_id",
)
CHILDCARE_PROCEDURE_CODE = "MINATO-KOSODATE-KAJI-01"
SERVICES: tuple[str, ...] = ("家事支援", "産後ドゥーラ")
TAX_STATUSES: tuple[str, ...] = ("課税", "非課税", "生活保護")


class Severity(StrEnum):
    """What a reason does to an application."""

    INFO = "info"  # noted, no action
    REVIEW = "review"  # a person can resolve it: send to review
    REJECT = "reject"  # the application cannot be accepted as it is
    QUARANTINE = "quarantine"  # the input itself is broken: set aside until fixed


class Reason(BaseModel):
    """One finding about an item, with a stable code and operator-readable messages."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message_ja: str
    message_en: str
    field: str | None = None


class Decision(StrEnum):
    """The outcome of checking an application."""

    ACCEPT = "accept"
    REVIEW = "review"
    REJECT = "reject"
    QUARANTINE = "quarantine"


def decide(reasons: list[Reason]) -> Decision:
    """The decision implied by a list of reasons: the most severe one wins."""
    severities = {r.severity for r in reasons}
    if Severity.QUARANTINE in severities:
        return Decision.QUARANTINE
    if Severity.REJECT in severities:
        return Decision.REJECT
    if Severity.REVIEW in severities:
        return Decision.REVIEW
    return Decision.ACCEPT


# --- masters (copies of the registry and the contract list) ------------------------------
class Resident(BaseModel):
    """A resident as the registry (住民基本台帳) holds them."""

    resident_id: str  # 宛名番号
    name: str  # 氏名 (original characters, variants kept)
    name_kana: str  # フリガナ (katakana, space between family and given name)
    birth_date: dt.date
    gender: str  # 男 | 女
    postal_code: str  # 123-4567
    address: str
    phone: str = ""
    household_id: str = ""
    previous_address: str = ""  # set when the resident moved recently


class Provider(BaseModel):
    """A contracted provider (委託事業者)."""

    provider_id: str  # P001 …
    name: str
    services: list[str]  # subset of SERVICES
    service_area: list[str]  # 町名 the provider covers, e.g. "芝浦", "三田"; "*" = whole ward
    contract_start: dt.date
    contract_end: dt.date
    postal_code: str = ""
    address: str = ""
    contact_person: str = ""
    phone: str = ""
    email: str = ""


# --- intake --------------------------------------------------------------------------------
class SubmissionRef(BaseModel):
    """One row of a source's listing: enough to decide whether to fetch it."""

    receipt_no: str  # 受付番号
    submitted_at: dt.datetime
    procedure_code: str = CHILDCARE_PROCEDURE_CODE
    status: str = "送信済"


class DownloadedApplication(BaseModel):
    """An application fetched from a source and saved under the intake folder."""

    receipt_no: str
    submitted_at: dt.datetime
    procedure_code: str
    source: str  # "portal" | "folder"
    fields: dict[str, str]  # as the manifest / API gave them (raw strings)
    pdf_path: Path
    pdf_sha256: str


class QuarantineRecord(BaseModel):
    """An input set aside with its reason (隔離)."""

    process: str
    item_ref: str  # 受付番号 or file name; never PII
    reason: Reason
    path: Path | None = None


class ParsedForm(BaseModel):
    """The fields read from the application PDF."""

    receipt_no: str
    fields: dict[str, str]


# --- verification ----------------------------------------------------------------------------
class NormalizedApplication(BaseModel):
    """An application's fields after normalisation (ISO dates, width, kana)."""

    receipt_no: str
    submitted_at: dt.datetime
    applicant_name: str
    applicant_kana: str
    applicant_birth_date: dt.date | None
    postal_code: str
    address: str
    phone: str
    pregnancy_status: str
    due_date: dt.date | None
    child_birth_date: dt.date | None
    child_name: str
    birth_type: str
    boshi_techo_date: dt.date | None
    tax_status: str
    service: str
    provider_id: str
    start_date: dt.date | None


class ResidentMatch(BaseModel):
    """The best registry candidate for an applicant (本人確認)."""

    resident_id: str
    score: float  # 0–100, weighted over name, kana, birth date, address
    name_score: float
    kana_score: float
    birth_date_match: bool
    address_score: float


class Verification(BaseModel):
    """Everything the checks found about one application."""

    receipt_no: str
    decision: Decision
    reasons: list[Reason] = Field(default_factory=list)
    application: NormalizedApplication | None = None
    resident: ResidentMatch | None = None
    provider_id: str | None = None


# --- outputs ---------------------------------------------------------------------------------
class CaseRow(BaseModel):
    """One entered case, as documents need it (依頼書, 実績管理)."""

    case_id: str
    receipt_no: str
    registration_no: str  # 登録番号 (starts with 03)
    resident_id: str
    applicant_name: str
    applicant_kana: str
    address: str
    phone: str
    service: str
    provider_id: str
    provider_name: str
    start_date: dt.date | None
    due_date: dt.date | None
    child_birth_date: dt.date | None
    birth_type: str
    tax_status: str
    hours_cap: int
    fee_per_hour: int
    entered_at: dt.datetime


class RunSummary(BaseModel):
    """What one run did, stored in the store and published as the run's artifact."""

    process: str
    flow_run_id: str | None = None
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    received: int = 0  # downloaded for the first time in this run
    duplicates_skipped: int = 0  # the same 受付番号 again in the listing
    already_received: int = 0  # listed again but stored by an earlier run: not fetched
    verified: int = 0
    sent_to_review: int = 0
    review_pending: int = 0
    reviewed: int = 0
    entered: int = 0
    rejected: int = 0
    quarantined: int = 0  # newly quarantined in this run
    quarantine_open: int = 0  # all quarantined inputs still waiting for a fix
    corrected: int = 0  # reviewer changed something before approving
    documents: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # for the operator; IDs and codes only, no PII
    reviewer_seconds: float = 0.0
    # Paper forms read by OCR (手書き帳票): fields read, accepted without a person, shown
    # to a reviewer, and changed by one. Zero for processes that read no paper.
    fields_read: int = 0
    fields_auto_accepted: int = 0
    fields_reviewed: int = 0
    fields_corrected: int = 0
    ocr_seconds: float = 0.0  # time spent inside the OCR engines (recognisers)
    baseline_minutes: float = 0.0
    # For processes whose manual baseline is per batch (a month's notices, a month's export):
    # how many such batches this run completed. None: count cases (entered + rejected).
    batches_handled: int | None = None
    skipped_reason: str = ""  # e.g. not the first business day: the run did nothing on purpose

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cases_handled(self) -> int:
        """What the baseline minutes apply to: batches if set, else entered + rejected."""
        if self.batches_handled is not None:
            return self.batches_handled
        return self.entered + self.rejected

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hours_saved(self) -> float:
        """Baseline minutes × cases handled − reviewer time, in hours (削減時間)."""
        saved_min = self.baseline_minutes * self.cases_handled - self.reviewer_seconds / 60
        return round(saved_min / 60, 3)


def mask_name(name: str) -> str:
    """Mask a personal name for logs and artifacts: keep the first character.

    >>> mask_name("山田 花子")
    '山＊＊＊＊'
    """
    stripped = name.strip()
    if not stripped:
        return ""
    return stripped[0] + "＊" * max(len(stripped) - 1, 1)
