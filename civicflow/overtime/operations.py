"""Running the overtime notice month by month: when, on which files, and the double check.

``pipeline.prepare_notices`` and ``pipeline.write_outputs`` do the work; this module
decides whether today is the day, finds the month's input files, writes the documents
as drafts, and issues them (moves drafts to ``issued/``) once the double check approves.
Everything returned here is free of personal data (IDs, counts, codes, paths), because it
crosses into Prefect's results and artifacts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select

from civicflow import models
from civicflow.errors import PermanentError
from civicflow.japanese import first_business_day_of_month, wareki_year_month
from civicflow.overtime import PROCESS
from civicflow.overtime.models import LABEL_LAYOUTS, OvertimeLimits
from civicflow.overtime.pipeline import prepare_notices, review_counts, write_outputs
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ReviewItemRow


class NoticeLine(BaseModel):
    """One notice as the double-check form lists it (IDs and post titles only)."""

    doc_file: str
    recipient_id: str
    recipient_title: str
    staff_ids: list[str]


class OvertimeDraft(BaseModel):
    """What the month's preparation produced, without personal data."""

    year: int
    month: int
    counts: dict[str, int]
    notices: list[NoticeLine] = Field(default_factory=list)
    chain_problems: list[str] = Field(default_factory=list)  # "staff_id: kind — message"
    problems: list[str] = Field(default_factory=list)  # "code (file:line): message"
    quarantined: list[models.QuarantineRecord] = Field(default_factory=list)
    draft_dir: str = ""
    files: list[str] = Field(default_factory=list)
    needs_review: bool = False


def target_month(today: dt.date) -> tuple[int, int]:
    """The month the notices are about: the one before ``today``'s month."""
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def is_run_day(today: dt.date) -> bool:
    """True on the first business day of the month (Japanese holidays and 年末年始 off)."""
    return today == first_business_day_of_month(today.year, today.month)


def limits_from(settings: Settings) -> OvertimeLimits:
    """The caps as configured."""
    return OvertimeLimits(
        monthly_hours=settings.overtime_monthly_hours,
        single_month_hours=settings.overtime_single_month_hours,
        rolling_average_hours=settings.overtime_rolling_average_hours,
        annual_hours=settings.overtime_annual_hours,
        other_directed_annual_hours=settings.overtime_other_directed_annual_hours,
        other_directed_max_months_over=settings.overtime_other_directed_max_months_over,
    )


def find_inputs(settings: Settings) -> tuple[Path, list[Path]]:
    """The roster workbook and the attendance CSVs in the input folder."""
    folder = settings.overtime_dir
    rosters = sorted(folder.glob("*.xlsx"))
    if not rosters:
        raise PermanentError(
            f"職員名簿（.xlsx）が {folder} にありません。人事課の出力を置いてから再実行してください。",
            f"No roster workbook (.xlsx) in {folder}. Put HR's export there and run again.",
            code="overtime_no_roster",
        )
    return rosters[0], sorted(folder.rglob("*.csv"))  # attendance/ holds one file a month


def _month_dir(settings: Settings, year: int, month: int) -> Path:
    return settings.output_dir / "overtime" / f"{year:04d}{month:02d}"


def already_issued(settings: Settings, year: int, month: int) -> bool:
    """Whether this month's notices were issued by an earlier run."""
    return (_month_dir(settings, year, month) / "issued").is_dir()


def prepare_drafts(settings: Settings, year: int, month: int, issued_on: dt.date) -> OvertimeDraft:
    """Find the staff over a cap and write the notices, labels and check list as drafts."""
    roster, attendance = find_inputs(settings)
    result = prepare_notices(roster, attendance, year, month, limits_from(settings))
    draft_dir = _month_dir(settings, year, month) / "draft"
    if draft_dir.exists():
        shutil.rmtree(draft_dir)  # a re-run replaces the drafts whole
    files = write_outputs(
        result, draft_dir, issued_on, layout=LABEL_LAYOUTS[settings.overtime_label_layout]
    )
    notice_files = [p for p in files if p.parent.name == "notices"]
    return OvertimeDraft(
        year=year,
        month=month,
        counts=review_counts(result),
        notices=[
            NoticeLine(
                doc_file=path.name,
                recipient_id=notice.recipient.staff_id,
                recipient_title=notice.recipient.title,
                staff_ids=notice.staff_ids,
            )
            for notice, path in zip(result.batch.notices, notice_files, strict=False)
        ],
        chain_problems=[
            f"{p.staff_id}: {p.kind.value} — {p.message_ja} / {p.message_en}"
            for p in result.chain_problems
        ],
        problems=[
            f"{p.code} ({p.source}:{p.line or '-'}): {p.message_ja} / {p.message_en}"
            for p in result.problems
            if p.severity is not models.Severity.INFO
        ],
        quarantined=result.quarantined,
        draft_dir=str(draft_dir),
        files=[str(p) for p in files],
        needs_review=result.needs_review,
    )


def check_description(draft: OvertimeDraft) -> str:
    """The markdown above the double-check form (IDs, titles and codes; no names)."""
    month = wareki_year_month(dt.date(draft.year, draft.month, 1))
    checklist = next((f for f in draft.files if f.endswith(".xlsx")), "")
    lines = [
        f"## 超過勤務通知 {month}分 — 発行前の確認 / double check before issue",
        "",
        f"上限を超えた職員 {draft.counts.get('staff_over', 0)} 名、通知 {len(draft.notices)} 通。"
        f"下書きは `{draft.draft_dir}`、チェックリストは `{checklist}` です。"
        "PDF とチェックリストを確認し、**decision** を `issue`（発行）または `hold`（保留）にして、"
        "**reviewer** に氏名を入れて送信してください。",
        "",
        f"{draft.counts.get('staff_over', 0)} staff over a cap, {len(draft.notices)} notices. "
        "Check the drafts and the check list, then choose issue or hold and sign.",
        "",
        "| 文書 | 宛先（職員番号・職名）| 対象職員番号 |",
        "|---|---|---|",
    ]
    lines += [
        f"| {n.doc_file} | {n.recipient_id} {n.recipient_title} | {', '.join(n.staff_ids)} |"
        for n in draft.notices
    ]
    if draft.chain_problems:
        lines += ["", "**宛先を決められなかった職員 / chains to resolve by hand:**", ""]
        lines += [f"- {p}" for p in draft.chain_problems]
    if draft.problems:
        lines += ["", "**入力の問題 / input problems:**", ""] + [f"- {p}" for p in draft.problems]
    if draft.quarantined:
        lines += ["", "**隔離したファイル / quarantined files:**", ""]
        lines += [
            f"- {q.item_ref}: {q.reason.message_ja} / {q.reason.message_en}"
            for q in draft.quarantined
        ]
    return "\n".join(lines)


def open_check(settings: Settings, draft: OvertimeDraft, flow_run_id: str | None) -> int:
    """Put the month's double check in the review queue (before asking); returns its id.

    The queue keeps it pending if nobody answers, and its offer time measures the check.
    """
    with session_scope(settings.db_url) as session:
        item = repo.queue_review(
            session,
            process=PROCESS,
            item_ref=f"{draft.year:04d}{draft.month:02d}",
            reasons=[],
            proposed={"notices": len(draft.notices), "draft_dir": draft.draft_dir},
        )
        repo.mark_offered(session, [item.id], flow_run_id)
        return item.id


def record_check(
    settings: Settings,
    draft: OvertimeDraft,
    *,
    decision: str,
    reviewer: str,
    comment: str,
    seconds: float,
    flow_run_id: str | None,
) -> None:
    """Store the double check's decision (who, when, what) in the review queue, audited."""
    item_ref = f"{draft.year:04d}{draft.month:02d}"
    with session_scope(settings.db_url) as session:
        item = repo.queue_review(
            session,
            process=PROCESS,
            item_ref=item_ref,
            reasons=[],
            proposed={"notices": len(draft.notices), "draft_dir": draft.draft_dir},
        )
        if decision == "hold":
            return  # stays pending: the next run offers the month again
        repo.decide_review(
            session,
            item.id,
            decision=decision,
            reviewer=reviewer,
            corrections={},
            comment=comment,
            seconds_spent=seconds,
            flow_run_id=flow_run_id,
        )


def issue_drafts(settings: Settings, draft: OvertimeDraft) -> list[Path]:
    """Move the checked drafts to ``issued/``: these are the documents sent out."""
    month_dir = _month_dir(settings, draft.year, draft.month)
    issued = month_dir / "issued"
    if issued.exists():
        shutil.rmtree(issued)
    shutil.move(str(month_dir / "draft"), issued)
    return sorted(p for p in issued.rglob("*") if p.is_file())


def pending_check(settings: Settings, year: int, month: int) -> ReviewItemRow | None:
    """The month's double check if it is still open."""
    with session_scope(settings.db_url) as session:
        return session.scalar(
            select(ReviewItemRow).where(
                ReviewItemRow.process == PROCESS,
                ReviewItemRow.item_ref == f"{year:04d}{month:02d}",
                ReviewItemRow.status == "pending",
            )
        )
