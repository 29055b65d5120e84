"""コミュニティバス無料乗車券: the bus-pass process, as the procedure manual reads.

1. 受付 — the scanner drops each batch of paper applications into the inbox folder.
2. 読取 — each file is read as the form (``civicflow.ocr.read_form``); a page that is no
   form, blank, unreadable or too coarse is quarantined with its reason.
3. 交付 — a page the machine is sure of is entered as a pass issuance at once
   (idempotent on the form ID); a doubtful one waits for a person with the crops of
   its doubtful fields.
4. 人による確認 — a reviewer confirms or corrects the doubtful fields; a critical field
   (氏名, 生年月日) needs a second, different reviewer who types it again without
   seeing the first entry, and the two must agree (ダブルエントリー).
5. 受付簿 — the receipt ledger (.xlsx for the fiscal year, PDF for the day).

Everything here is plain Python; ``flows/bus_pass.py`` wraps it in Prefect tasks. No
function returns or logs personal data: results carry form IDs, counts and codes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from civicflow import models
from civicflow.bus_pass.entries import (
    EntryError,
    display_value,
    field_map,
    normalize_entry,
    same_value,
)
from civicflow.errors import InputError
from civicflow.forms.definition import FormDefinition, load_form
from civicflow.hours_report import fiscal_year
from civicflow.japanese import try_parse_date
from civicflow.ocr.images import PageImage, load_pages
from civicflow.ocr.models import FormReading
from civicflow.ocr.reader import ReaderEngines, read_form
from civicflow.registry import ResidentIndex
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ResidentRow, ReviewItemRow

logger = logging.getLogger(__name__)

PROCESS = "bus_pass"
ACTOR = "civicflow-ocr"
#: What the scanner may drop: images and PDFs. Anything else is quarantined as unreadable.
SCAN_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"})
#: Files the inbox may hold that are not scans: ground truth beside samples, partial copies.
IGNORED_SUFFIXES = frozenset({".json", ".part", ".tmp", ".crdownload"})


class PageOutcome(BaseModel):
    """What happened to one page (no personal data)."""

    form_ref: str
    outcome: Literal["entered", "review", "quarantined", "already_done"]
    fields: int = 0
    auto_accepted: int = 0
    flagged: int = 0
    codes: list[str] = Field(default_factory=list)  # reason codes (quarantine or review)
    pass_no: str | None = None
    recogniser_s: float = 0.0
    read_s: float = 0.0


class DocumentReport(BaseModel):
    """What happened to one scanned file."""

    file: str
    pages: list[PageOutcome] = Field(default_factory=list)
    moved_to: str = ""  # processed/<date> or quarantine
    seconds: float = 0.0


class ReviewCard(BaseModel):
    """One form as a review screen shows it (the markdown holds personal data and crops)."""

    item_id: int
    form_ref: str
    stage: Literal["first", "second"]
    markdown: str
    fields: list[tuple[str, str, str]]  # field id, label, prefilled value


class ReviewAnswer(BaseModel):
    """A reviewer's answer on one form, as the flow hands it over."""

    item_id: int
    decision: Literal["approve", "reject", "later"] = "later"
    values: dict[str, str] = Field(default_factory=dict)
    comment: str = ""


class ReviewOutcome(BaseModel):
    """What applying one review screen did."""

    reviewed: int = 0  # forms a person answered (approve / reject)
    entered: int = 0
    rejected: int = 0
    awaiting_second: int = 0  # first entry done, a second reviewer must agree
    disagreements: int = 0
    fields_reviewed: int = 0
    fields_corrected: int = 0
    forms_corrected: int = 0
    seconds: float = 0.0  # reviewer time counted for this screen
    problems: list[str] = Field(default_factory=list)  # for the operator: IDs and codes
    decided: list[str] = Field(default_factory=list)  # form IDs entered or rejected here


# --- the inbox ------------------------------------------------------------------------------
def form_ref(path: Path, page: int) -> str:
    """The form ID of one page: the scanner's file name and the page (受付の帳票ID)."""
    return f"{path.stem}-p{page}"


def inbox_files(settings: Settings, limit: int | None = None) -> list[Path]:
    """The files waiting in the inbox, oldest name first."""
    inbox = settings.bus_pass_inbox
    if not inbox.is_dir():
        return []
    files = sorted(
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in IGNORED_SUFFIXES
    )
    return files[:limit] if limit else files


def processed_dir(settings: Settings, day: dt.date) -> Path:
    """Where read files go (the retention flow archives them later)."""
    return settings.bus_pass_inbox.parent / "processed" / day.isoformat()


def scan_quarantine_dir(settings: Settings) -> Path:
    """Where files no page of which could be read go, with a reason file beside each."""
    return settings.bus_pass_inbox.parent / "quarantine"


def crops_dir(settings: Settings, ref: str) -> Path:
    """Review crops of one form (handwriting: personal data, kept under var only).

    They exist only while the form waits for a person: :func:`apply_answers` deletes them
    once the form is entered or rejected (the scan itself is kept and archived), and the
    housekeeping flow removes any a crash left behind.
    """
    return settings.bus_pass_crops_dir / ref


def remove_crops(settings: Settings, refs: Sequence[str]) -> None:
    """Delete the review crops of forms that were decided (none there is fine)."""
    for ref in refs:
        shutil.rmtree(crops_dir(settings, ref), ignore_errors=True)


# --- the registry copy -----------------------------------------------------------------------
@lru_cache(maxsize=4)
def _registry(source: str, fingerprint: str) -> ResidentIndex:
    if source.startswith("csv:"):
        from civicflow.samples.registry import read_residents_csv

        return ResidentIndex(read_residents_csv(Path(source[4:])))
    with session_scope(source[3:]) as session:
        return ResidentIndex(repo.load_residents(session))


def load_registry(settings: Settings) -> ResidentIndex:
    """The resident registry copy, built once per process until the registry changes."""
    csv_path = settings.bus_pass_registry_csv
    if csv_path is not None:
        return _registry(f"csv:{csv_path}", str(csv_path.stat().st_mtime_ns))
    with session_scope(settings.db_url) as session:
        count, latest = session.execute(
            select(func.count(), func.max(ResidentRow.updated_at)).select_from(ResidentRow)
        ).one()
    return _registry(f"db:{settings.db_url}", f"{count}:{latest}")


# --- reading and entering -----------------------------------------------------------------------
def valid_until(settings: Settings, day: dt.date) -> dt.date:
    """A pass issued on ``day`` is valid to 31 March of its fiscal year (+ more years)."""
    return dt.date(fiscal_year(day) + settings.bus_pass_valid_years, 3, 31)


def _values(reading: FormReading) -> dict[str, Any]:
    return {f.field_id: f.value for f in reading.fields}


def _eligibility(form: FormDefinition, values: dict[str, Any]) -> list[str]:
    for f in form.fields:
        if f.id == "eligibility" and isinstance(values.get(f.id), list):
            return [str(v) for v in values[f.id]]
    return []


def _received_on(values: dict[str, Any], today: dt.date) -> dt.date:
    day = try_parse_date(str(values.get("application_date") or ""))
    return day or today


def _already_holds(session: Any, reading: FormReading, today: dt.date) -> models.Reason | None:
    if reading.resident_id is None:
        return None
    held = repo.active_bus_pass(session, reading.resident_id, today)
    if held is None:
        return None
    return models.Reason(
        code="already_issued",
        severity=models.Severity.REVIEW,
        message_ja=f"この方には有効な乗車券（{held.pass_no}、{held.valid_until}まで）が交付済みです。"
        "再交付か重複かを確認してください。",
        message_en=f"This resident already holds a valid pass ({held.pass_no}, until "
        f"{held.valid_until}): check whether this is a reissue or a duplicate.",
    )


def _issue(
    session: Any,
    settings: Settings,
    form: FormDefinition,
    ref: str,
    values: dict[str, Any],
    resident_id: str | None,
    reviewed_by: list[str],
    today: dt.date,
    actor: str,
    flow_run_id: str | None,
) -> str | None:
    row, _ = repo.enter_bus_pass(
        session,
        form_id=ref,
        fields=values,
        eligibility=_eligibility(form, values),
        resident_id=resident_id,
        reviewed_by=reviewed_by,
        received_on=_received_on(values, today),
        valid_until=valid_until(settings, today),
        fiscal_year=fiscal_year(today),
        actor=actor,
        flow_run_id=flow_run_id,
    )
    repo.resolve_quarantine(session, PROCESS, ref)
    return row.pass_no


def _review_payload(
    form: FormDefinition, reading: FormReading, crops: dict[str, str], path: Path
) -> dict[str, Any]:
    fields = field_map(form)
    flagged = reading.flagged_fields
    return {
        "stage": "first",
        "file": path.name,
        "page": reading.page,
        "resident_id": reading.resident_id,
        "values": _values(reading),
        "flagged": flagged,
        "critical": [fid for fid in flagged if fields[fid].review.critical],
        "proposals": {f.field_id: f.proposed for f in reading.fields if f.proposed},
        "confidence": {f.field_id: round(f.confidence, 3) for f in reading.fields},
        "crops": crops,
        "entries": [],
        "answers": [],
    }


def _save_crops(settings: Settings, ref: str, reading: FormReading) -> dict[str, str]:
    folder = crops_dir(settings, ref)
    folder.mkdir(parents=True, exist_ok=True)
    saved: dict[str, str] = {}
    for field_id, png in reading.crops.items():
        target = folder / f"{field_id}.png"
        target.write_bytes(png)
        saved[field_id] = str(target)
    return saved


def _page_outcome(reading: FormReading, ref: str) -> PageOutcome:
    flagged = sum(f.flagged for f in reading.fields)
    return PageOutcome(
        form_ref=ref,
        outcome="entered",
        fields=len(reading.fields),
        auto_accepted=len(reading.fields) - flagged,
        flagged=flagged,
        recogniser_s=reading.timings.get("rapidocr", 0.0) + reading.timings.get("easyocr", 0.0),
        read_s=reading.timings.get("total", 0.0),
    )


def read_document(
    path: Path,
    settings: Settings,
    *,
    engines: ReaderEngines | None = None,
    today: dt.date,
    flow_run_id: str | None,
    form: FormDefinition | None = None,
    registry: ResidentIndex | None = None,
    pages: list[PageImage] | InputError | None = None,
) -> DocumentReport:
    """読取・交付: read one scanned file and enter, queue or quarantine each page.

    A page already entered or waiting in review (a re-run after a crash, a file dropped
    twice) is counted as ``already_done`` and nothing is written again. A page
    quarantined before is read again: a fixed rescan under the same name goes through
    and its quarantine record is closed.
    """
    started = dt.datetime.now(dt.UTC)
    if not path.exists():  # moved by an earlier attempt of this run: nothing left to do
        return DocumentReport(file=path.name, moved_to="gone")
    form = form or load_form(settings.bus_pass_form)
    registry = registry if registry is not None else load_registry(settings)
    if path.suffix.lower() in SCAN_SUFFIXES:
        readings = read_form(
            path,
            form,
            engines=engines,
            today=today,
            registry=registry,
            review_crops=settings.bus_pass_crop_max_px,
            pages=pages,
        )
    else:
        readings = [_not_a_scan(path)]
    report = DocumentReport(file=path.name)
    with session_scope(settings.db_url) as session:
        for reading in readings:
            ref = form_ref(path, reading.page)
            if reading.quarantine is not None:
                repo.quarantine(
                    session,
                    models.QuarantineRecord(
                        process=PROCESS, item_ref=ref, reason=reading.quarantine, path=None
                    ),
                    flow_run_id=flow_run_id,
                )
                report.pages.append(
                    PageOutcome(
                        form_ref=ref, outcome="quarantined", codes=[reading.quarantine.code]
                    )
                )
                continue
            outcome = _page_outcome(reading, ref)
            done = repo.bus_pass_for_form(session, ref)
            queued = repo.review_item_for(session, PROCESS, ref)
            if done is not None or (queued is not None and queued.decision != "reject"):
                outcome.outcome = "already_done"
                report.pages.append(outcome)
                continue
            extra = _already_holds(session, reading, today)
            reasons = [*reading.reasons, *(r for f in reading.fields for r in f.reasons)]
            if extra is not None:
                reasons.append(extra)
            decision = models.decide(reasons)
            if decision is models.Decision.ACCEPT:
                outcome.pass_no = _issue(
                    session,
                    settings,
                    form,
                    ref,
                    _values(reading),
                    reading.resident_id,
                    [],
                    today,
                    ACTOR,
                    flow_run_id,
                )
            else:
                # A page the rules would reject (no eligibility, under 70 …) also goes to a
                # person: refusing a pass is a decision staff make, not the machine.
                crops = _save_crops(settings, ref, reading)
                doubtful = [r for r in reasons if r.severity is not models.Severity.INFO]
                repo.queue_review(
                    session,
                    process=PROCESS,
                    item_ref=ref,
                    reasons=doubtful,
                    proposed=_review_payload(form, reading, crops, path),
                )
                repo.resolve_quarantine(session, PROCESS, ref)
                outcome.outcome = "review"
                outcome.codes = sorted({r.code for r in doubtful})
            report.pages.append(outcome)
    report.moved_to = _move_done(path, settings, report, today)
    report.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return report


def _load(path: Path) -> list[PageImage] | InputError | None:
    if not path.exists() or path.suffix.lower() not in SCAN_SUFFIXES:
        return None  # read_document reports it
    try:
        return load_pages(path)
    except InputError as exc:
        return exc


Decoded = list[PageImage] | InputError | None


class _DecodeAhead:
    """Decode scans in a helper thread ahead of the reader (先読み).

    Decoding a scan (PNG/JPEG/TIFF/PDF) takes 20–40 ms and releases the GIL; done here it
    overlaps with recognition instead of adding to it. One thread per process, shared by
    the reading tasks, so that the first file of the next task is decoded while this
    task's last file is read. A file that changed after it was decoded is decoded again.
    """

    def __init__(self, keep: int = 4) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: dict[Path, tuple[tuple[int, int] | None, Future[Decoded]]] = {}
        self._lock = threading.Lock()
        self._keep = keep

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def submit(self, paths: Sequence[Path]) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-ahead")
            for path in paths:
                if path not in self._ahead:
                    self._ahead[path] = (self._stamp(path), self._pool.submit(_load, path))
            while len(self._ahead) > self._keep:  # never read (a task that failed): let go
                self._ahead.pop(next(iter(self._ahead)))[1].cancel()

    def take(self, path: Path) -> Decoded:
        with self._lock:
            entry = self._ahead.pop(path, None)
        if entry is not None:
            stamp, future = entry
            decoded = future.result()
            if stamp is not None and stamp == self._stamp(path):
                return decoded
        return _load(path)


_DECODE_AHEAD = _DecodeAhead()


def read_documents(
    paths: Sequence[Path],
    settings: Settings,
    *,
    today: dt.date,
    flow_run_id: str | None,
    then: Sequence[Path] = (),
) -> list[DocumentReport]:
    """:func:`read_document` for each file, decoding the next file while this one is read.

    Args:
        paths: The files to read, in order.
        settings: The settings.
        today: The processing date.
        flow_run_id: The run, for the store's records.
        then: The files the next call will read: the first is decoded during the last
            file of this call.

    Returns:
        One report per file.
    """
    form = load_form(settings.bus_pass_form)
    registry = load_registry(settings)
    reports: list[DocumentReport] = []
    _DECODE_AHEAD.submit(paths[:1])
    for i, path in enumerate(paths):
        _DECODE_AHEAD.submit(paths[i + 1 : i + 2] or then[:1])
        reports.append(
            read_document(
                path,
                settings,
                today=today,
                flow_run_id=flow_run_id,
                form=form,
                registry=registry,
                pages=_DECODE_AHEAD.take(path),
            )
        )
    return reports


def _not_a_scan(path: Path) -> FormReading:
    reason = models.Reason(
        code="not_a_scan",
        severity=models.Severity.QUARANTINE,
        message_ja=f"{path.name} はスキャン画像ではありません（PNG・JPEG・TIFF・PDF のみ）。"
        "スキャナーの保存形式を確認してください。",
        message_en=f"{path.name} is not a scan (PNG, JPEG, TIFF or PDF only). Check the "
        "scanner's file format.",
    )
    return FormReading(source=path.name, page=1, quarantine=reason)


def _move_done(path: Path, settings: Settings, report: DocumentReport, today: dt.date) -> str:
    """Move a handled file out of the inbox (after the store has committed)."""
    if all(p.outcome == "quarantined" for p in report.pages):
        folder = scan_quarantine_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        reasons = "\n".join(f"{p.form_ref}: {', '.join(p.codes)}" for p in report.pages)
        (folder / f"{path.name}.reason.txt").write_text(
            reasons
            + "\n\n修正したファイルを同じ名前で受付フォルダーに戻すと、次回の実行で読み直します。\n"
            "Put the fixed file back into the inbox under the same name to read it again.\n",
            encoding="utf-8",
        )
        where = "quarantine"
    else:
        folder = processed_dir(settings, today)
        folder.mkdir(parents=True, exist_ok=True)
        where = f"processed/{today.isoformat()}"
    shutil.move(str(path), str(_free_name(folder / path.name)))
    return where


def _free_name(target: Path) -> Path:
    """``target``, or ``name.2.ext`` … when a file of that name is already there."""
    if not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    digest = hashlib.sha256(str(dt.datetime.now()).encode()).hexdigest()[:8]
    return target.with_name(f"{target.stem}.{digest}{target.suffix}")


# --- review -------------------------------------------------------------------------------------
def pending_count(settings: Settings) -> int:
    """Forms of this process waiting for a person."""
    with session_scope(settings.db_url) as session:
        return repo.count_pending_reviews(session, PROCESS)


def offer_review(
    settings: Settings,
    flow_run_id: str | None,
    *,
    limit: int,
    only_second: bool = False,
) -> tuple[list[ReviewCard], int]:
    """The oldest waiting forms as review cards (marked as offered), and the waiting total.

    A form at the second stage shows only its critical fields, blank, so that the second
    reviewer types them without seeing the first entry.
    """
    from civicflow.bus_pass.review import build_card

    form = load_form(settings.bus_pass_form)
    with session_scope(settings.db_url) as session:
        items = repo.pending_reviews(session, PROCESS, 10 * limit if only_second else limit)
        if only_second:
            items = [i for i in items if i.proposed.get("stage") == "second"][:limit]
        repo.mark_offered(session, [i.id for i in items], flow_run_id)
        cards = [build_card(form, item) for item in items]
        return cards, repo.count_pending_reviews(session, PROCESS)


def normalise_answer(
    form: FormDefinition, answer: ReviewAnswer, wanted: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """The values to enter for the ``wanted`` fields of an answer, and what was refused."""
    fields = field_map(form)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field_id in wanted:
        if field_id not in answer.values or field_id not in fields:
            continue
        try:
            values[field_id] = normalize_entry(fields[field_id], answer.values[field_id])
        except EntryError as exc:
            problems.append(f"{exc.message_ja} / {exc.message_en}")
    return values, problems


def apply_answers(
    settings: Settings,
    answers: Sequence[ReviewAnswer],
    *,
    reviewer: str,
    seconds_spent: float,
    answer_key: str,
    today: dt.date,
    flow_run_id: str | None,
) -> ReviewOutcome:
    """Apply one review screen's answers: enter, reject, or wait for a second reviewer.

    Idempotent per ``answer_key`` (a flow resumed after a suspend applies the same screen
    again): an item already decided, or already carrying this answer, is left alone.
    """
    form = load_form(settings.bus_pass_form)
    fields = field_map(form)
    result = ReviewOutcome(seconds=seconds_spent)
    answered = [a for a in answers if a.decision != "later"]
    per_item = seconds_spent / len(answered) if answered else 0.0
    with session_scope(settings.db_url) as session:
        for answer in answered:
            item = session.get(ReviewItemRow, answer.item_id)
            if item is None or item.process != PROCESS or item.status != "pending":
                result.problems.append(f"item {answer.item_id}: not waiting for review")
                continue
            proposed = dict(item.proposed)
            if answer_key in proposed.get("answers", []):
                continue
            stage = proposed.get("stage", "first")
            earlier = [str(e.get("reviewer", "")) for e in proposed.get("entries", [])]
            if stage == "second" and reviewer in earlier:
                result.problems.append(
                    f"{item.item_ref}: same_reviewer — 2人目は1人目と別の職員が入力してください / "
                    "the second entry must come from a different reviewer"
                )
                continue
            if answer.decision == "reject":
                repo.decide_review(
                    session,
                    item.id,
                    decision="reject",
                    reviewer=reviewer,
                    corrections={},
                    comment=answer.comment,
                    seconds_spent=per_item,
                    flow_run_id=flow_run_id,
                )
                result.reviewed += 1
                result.rejected += 1
                result.decided.append(item.item_ref)
                continue
            machine: dict[str, Any] = dict(proposed.get("values", {}))
            if stage == "first":
                wanted = list(proposed.get("flagged", []))
                values, problems = normalise_answer(form, answer, wanted)
                if problems:
                    result.problems += [f"{item.item_ref}: {p}" for p in problems]
                    continue
                entered = {**machine, **values}
                critical = list(proposed.get("critical", []))
                result.reviewed += 1
                result.fields_reviewed += len(wanted)
                if critical:
                    repo.record_review_entry(
                        session,
                        item.id,
                        reviewer=reviewer,
                        values={k: entered.get(k) for k in critical},
                        answer_key=answer_key,
                        seconds_spent=per_item,
                        proposed_update={"stage": "second", "entered_values": entered},
                        flow_run_id=flow_run_id,
                    )
                    result.awaiting_second += 1
                    continue
                _finish(
                    session,
                    settings,
                    form,
                    item,
                    entered,
                    [reviewer],
                    per_item,
                    answer,
                    today,
                    flow_run_id,
                    result,
                )
                continue
            # second (or later) entry: the critical fields typed again, blind
            critical = list(proposed.get("critical", []))
            values, problems = normalise_answer(form, answer, critical)
            missing = [fid for fid in critical if fid not in values]
            if problems or missing:
                result.problems += [f"{item.item_ref}: {p}" for p in problems]
                if missing:
                    result.problems.append(f"{item.item_ref}: missing {','.join(missing)}")
                continue
            result.reviewed += 1
            result.fields_reviewed += len(critical)
            agreeing = [
                e
                for e in proposed.get("entries", [])
                if all(same_value(fields[k], e["values"].get(k), values[k]) for k in critical)
            ]
            if agreeing:
                entered = {**dict(proposed.get("entered_values", machine)), **agreeing[0]["values"]}
                reviewers = [str(agreeing[0]["reviewer"]), reviewer]
                _finish(
                    session,
                    settings,
                    form,
                    item,
                    entered,
                    reviewers,
                    per_item,
                    answer,
                    today,
                    flow_run_id,
                    result,
                )
                continue
            repo.record_review_entry(
                session,
                item.id,
                reviewer=reviewer,
                values=values,
                answer_key=answer_key,
                seconds_spent=per_item,
                proposed_update={"disagreed": True},
                flow_run_id=flow_run_id,
            )
            result.disagreements += 1
            result.awaiting_second += 1
            result.problems.append(
                f"{item.item_ref}: double_entry_mismatch — 2人の入力が一致しません。別の職員がもう一度入力します"
                " / the two entries differ; another reviewer enters it again"
            )
    # Only after the decisions are committed: a crash before this line leaves the crops to
    # the housekeeping flow, never a waiting form without its crops.
    remove_crops(settings, result.decided)
    return result


def _finish(
    session: Any,
    settings: Settings,
    form: FormDefinition,
    item: ReviewItemRow,
    entered: dict[str, Any],
    reviewers: list[str],
    seconds: float,
    answer: ReviewAnswer,
    today: dt.date,
    flow_run_id: str | None,
    result: ReviewOutcome,
) -> None:
    machine: dict[str, Any] = dict(item.proposed.get("values", {}))
    fields = field_map(form)
    corrected = {
        k: v
        for k, v in entered.items()
        if k in fields and not same_value(fields[k], machine.get(k), v)
    }
    resident_id = item.proposed.get("resident_id")
    pass_no = _issue(
        session,
        settings,
        form,
        item.item_ref,
        entered,
        str(resident_id) if resident_id else None,
        reviewers,
        today,
        reviewers[-1],
        flow_run_id,
    )
    repo.decide_review(
        session,
        item.id,
        decision="correct" if corrected else "approve",
        reviewer=reviewers[-1],
        corrections={k: display_value(v) for k, v in corrected.items()},
        comment=answer.comment,
        seconds_spent=seconds,
        flow_run_id=flow_run_id,
    )
    result.entered += 1
    result.decided.append(item.item_ref)
    result.fields_corrected += len(corrected)
    result.forms_corrected += bool(corrected)
    logger.info("form %s entered after review as pass %s", item.item_ref, pass_no)


# --- the summary ----------------------------------------------------------------------------------
def add_document(summary: models.RunSummary, report: DocumentReport) -> None:
    """Count one file's pages into the run summary."""
    for page in report.pages:
        if page.outcome == "already_done":
            summary.already_received += 1
            continue
        summary.received += 1
        if page.outcome == "quarantined":
            summary.quarantined += 1
            continue
        summary.fields_read += page.fields
        summary.ocr_seconds += page.recogniser_s
        summary.fields_auto_accepted += page.auto_accepted
        summary.verified += 1
        if page.outcome == "entered":
            summary.entered += 1
        else:
            summary.sent_to_review += 1


def add_review(summary: models.RunSummary, outcome: ReviewOutcome) -> None:
    """Count one answered review screen into the run summary."""
    summary.reviewed += outcome.reviewed
    summary.entered += outcome.entered
    summary.rejected += outcome.rejected
    summary.fields_reviewed += outcome.fields_reviewed
    summary.fields_corrected += outcome.fields_corrected
    summary.corrected += outcome.forms_corrected
    summary.reviewer_seconds += outcome.seconds
    summary.notes += outcome.problems


def finish_summary(settings: Settings, summary: models.RunSummary) -> None:
    """Fill in what still waits (review, quarantine) and the finish time."""
    with session_scope(settings.db_url) as session:
        summary.review_pending = repo.count_pending_reviews(session, PROCESS)
        summary.quarantine_open = len(repo.open_quarantine(session, PROCESS))
    summary.finished_at = dt.datetime.now(dt.UTC)
