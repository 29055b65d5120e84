"""The overtime-notice procedure as two plain functions (業務手順).

1. :func:`prepare_notices`: read the roster and the month's attendance exports, find the
   staff over a cap, resolve whom to notify, group them into one notice per recipient.
   Nothing is written; bad inputs are quarantined or reported, never raised.
2. :func:`write_outputs`: after (or without) a person's review, write the 通知文書 PDFs,
   the 宛名シール sheet and the チェックリスト for the double check.

The flow (``flows/overtime_notice.py``) wraps each as a task and puts a review checkpoint
between them when :attr:`OvertimeResult.needs_review` is true.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from civicflow.errors import InputError
from civicflow.japanese import wareki_year_month
from civicflow.models import QuarantineRecord, Severity
from civicflow.overtime import PROCESS
from civicflow.overtime.chain import RecipientResolver
from civicflow.overtime.inputs import empty_records, read_attendance_csv, read_roster
from civicflow.overtime.limits import LimitEvaluation, evaluate_limits
from civicflow.overtime.models import (
    SECTION_CODE_LENGTH,
    Breach,
    Cap,
    InputProblem,
    LabelLayout,
    Notice,
    NoticeBatch,
    NoticeEntry,
    OvertimeLimits,
    OvertimeResult,
    Roster,
    Route,
    StaffOvertime,
    YearMonth,
    fiscal_year_start,
    quarantine_record,
    ym,
    ym_date,
    ym_from_index,
    ym_index,
)

log = logging.getLogger(__name__)


@dataclass
class LoadedInputs:
    """The inputs as read: the roster (None when quarantined) and every good record."""

    roster: Roster | None
    records: pd.DataFrame
    months: list[YearMonth] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    quarantined: list[QuarantineRecord] = field(default_factory=list)


def _quarantine(path: Path, error: InputError) -> QuarantineRecord:
    """A quarantine record for a whole file (logged by name and code)."""
    log.warning("overtime: quarantined %s (%s)", path.name, error.code)
    return quarantine_record(
        PROCESS, path.name, error.code, error.message_ja, error.message_en, path
    )


def load_inputs(roster_path: Path, attendance_paths: Sequence[Path]) -> LoadedInputs:
    """Read the roster and the attendance files; quarantine what cannot be read.

    A file whose months were already read from an earlier file in ``attendance_paths``
    is quarantined as a duplicate export (the earlier file counts).

    Args:
        roster_path: The roster workbook.
        attendance_paths: The attendance CSVs, in the order they should count.

    Returns:
        The roster, the concatenated records and every problem and quarantined file.
    """
    loaded = LoadedInputs(roster=None, records=empty_records())
    try:
        reading = read_roster(roster_path)
    except InputError as exc:
        loaded.quarantined.append(_quarantine(roster_path, exc))
    else:
        loaded.roster = reading.roster
        loaded.problems.extend(reading.problems)

    frames: list[pd.DataFrame] = []
    seen: dict[YearMonth, str] = {}
    for path in attendance_paths:
        try:
            attendance = read_attendance_csv(path)
        except InputError as exc:
            loaded.quarantined.append(_quarantine(path, exc))
            continue
        repeated = sorted(m for m in attendance.months if m in seen)
        if repeated:
            shown = "、".join(wareki_year_month(ym_date(m)) for m in repeated)
            earlier = seen[repeated[0]]
            error = InputError(
                f"{path.name} の {shown} は {earlier} と同じ月です。二重に出力されたファイルと見て、"
                f"{earlier} の方を使いました。正しい方を確認してください。",
                f"{path.name} covers {', '.join(str(m) for m in repeated)}, already read from "
                f"{earlier}. Treated as a duplicate export; {earlier} was used. Check which one "
                "is right.",
                code="attendance-month-duplicate",
            )
            loaded.quarantined.append(_quarantine(path, error))
            continue
        for m in attendance.months:
            seen[m] = path.name
        frames.append(attendance.records)
        loaded.problems.extend(attendance.problems)
    if frames:
        loaded.records = pd.concat(frames, ignore_index=True)
    loaded.months = sorted(seen)
    return loaded


def prepare_notices(
    roster_path: Path,
    attendance_paths: Sequence[Path],
    year: int,
    month: int,
    limits: OvertimeLimits | None = None,
) -> OvertimeResult:
    """Find the staff over a cap in one month and whom to notify (no files written).

    Args:
        roster_path: The roster workbook (職員名簿 and 組織 sheets).
        attendance_paths: The attendance CSVs covering the fiscal year to date and the five
            months before the target (12 monthly files do).
        year: The month checked: year.
        month: The month checked: month (1–12).
        limits: The caps; ``None`` uses the defaults (45/100/80/360, 720, 6 months). The
            roster's 他律的 sections are added to ``limits.other_directed_sections``.

    Returns:
        The breaches, one notice per recipient, the chain problems and input problems for
        review, and the quarantined files. A quarantined roster gives breaches but no
        notices; a quarantined attendance file counts as missing months (0 h), reported.
    """
    limits = limits or OvertimeLimits()
    target = ym(year, month)
    loaded = load_inputs(roster_path, attendance_paths)
    roster = loaded.roster
    problems = list(loaded.problems)
    effective = limits.with_sections(roster.other_directed_sections()) if roster else limits
    problems.extend(_missing_months(loaded.months, target, effective))

    records = loaded.records
    records = records.assign(section_code=_sections(records, roster))
    if roster is not None:
        problems.extend(_unknown_staff(records, roster, target, effective))

    evaluation = evaluate_limits(records, effective, year=year, month=month)
    staff_over = _staff_over(evaluation, roster)
    result = OvertimeResult(
        year=year,
        month=month,
        limits=effective,
        staff_count=len(roster.staff) if roster else 0,
        record_count=len(records),
        months_read=loaded.months,
        breaches=staff_over,
        batch=NoticeBatch(year=year, month=month),
        problems=problems,
        quarantined=loaded.quarantined,
    )
    if roster is not None:
        _assign_recipients(result, RecipientResolver(roster))
    log.info(
        "overtime %s: %d staff over a cap, %d notices, %d chain problems, %d input problems, "
        "%d quarantined",
        target,
        len(result.breaches),
        len(result.batch.notices),
        len(result.chain_problems),
        len(result.problems),
        len(result.quarantined),
    )
    return result


def _sections(records: pd.DataFrame, roster: Roster | None) -> pd.Series:
    """Each record's 課: the roster's for staff in it (the current post), else the CSV's."""
    from_csv = records["unit_code"].astype(str).str[:SECTION_CODE_LENGTH]
    if roster is None or records.empty:
        return from_csv
    by_staff = pd.Series(
        {s.staff_id: s.section_code for s in roster.staff.values()}, dtype="object"
    )
    return records["staff_id"].map(by_staff).fillna(from_csv).astype(str)


def _needed_months(target: YearMonth, limits: OvertimeLimits) -> list[YearMonth]:
    """The months the caps look at: the fiscal year and the longest window."""
    t = ym_index(target)
    first = min(
        ym_index(fiscal_year_start(target, limits.fiscal_year_start_month)),
        t - max(limits.rolling_windows) + 1,
    )
    return [ym_from_index(i) for i in range(first, t + 1)]


def _missing_months(
    read: list[YearMonth], target: YearMonth, limits: OvertimeLimits
) -> list[InputProblem]:
    """One problem per month the caps need but no file gave (counted as 0 h)."""
    problems: list[InputProblem] = []
    have = set(read)
    for needed in _needed_months(target, limits):
        if needed in have:
            continue
        label = wareki_year_month(ym_date(needed))
        is_target = needed == target
        problems.append(
            InputProblem(
                code="attendance-target-month-missing" if is_target else "attendance-month-missing",
                severity=Severity.REVIEW,
                message_ja=f"{label}の勤怠データがありません（0時間として計算しました）。"
                + ("対象月のため、通知は作れません。" if is_target else "")
                + "勤怠システムから出力して加えてください。",
                message_en=f"No attendance data for {needed} (counted as 0 h)."
                + (" It is the month checked: no notice can be right." if is_target else "")
                + " Export it from the attendance system and add it.",
            )
        )
    return problems


def _unknown_staff(
    records: pd.DataFrame, roster: Roster, target: YearMonth, limits: OvertimeLimits
) -> list[InputProblem]:
    """One problem per 職員番号 in the attendance data but not in the roster."""
    months = set(_needed_months(target, limits))
    relevant = records[records["year_month"].isin(months)]
    unknown = relevant[~relevant["staff_id"].isin(roster.staff.keys())]
    if unknown.empty:
        return []
    first = unknown.drop_duplicates("staff_id").sort_values("staff_id")
    problems: list[InputProblem] = []
    for record in first.to_dict("records"):
        source, line, staff_id = str(record["source"]), int(record["line"]), str(record["staff_id"])
        problems.append(
            InputProblem(
                code="attendance-unknown-staff",
                severity=Severity.REVIEW,
                message_ja=f"{source} {line}行目ほか: 職員番号 {staff_id} が職員名簿にありません"
                "（退職・異動・番号誤り）。時間は集計しましたが、上限を超えても通知先がありません。",
                message_en=f"{source} line {line} and others: staff {staff_id} is not in the "
                "roster (left, moved, or a wrong number). Hours were counted, but there is no "
                "one to notify if they are over a cap.",
                source=source,
                line=line,
                staff_id=staff_id,
            )
        )
    return problems


def _staff_over(evaluation: LimitEvaluation, roster: Roster | None) -> list[StaffOvertime]:
    """A :class:`StaffOvertime` per staff member with a breach, in staff-ID order."""
    breaches = evaluation.breaches
    if breaches.empty:
        return []
    by_staff: dict[str, list[Breach]] = defaultdict(list)
    for record in breaches.to_dict("records"):
        staff_id = str(record["staff_id"])
        by_staff[staff_id].append(
            Breach(
                staff_id=staff_id,
                cap=Cap(str(record["cap"])),
                value=float(record["value"]),
                limit=float(record["limit"]),
                window_start=ym_date(int(record["window_start"])),
                window_end=ym_date(int(record["window_end"])),
                window_months=int(record["window_months"]),
            )
        )
    summary = evaluation.summary.loc[list(by_staff)].to_dict("index")
    staff_over: list[StaffOvertime] = []
    for staff_id, breaches_of in by_staff.items():
        member = roster.staff.get(staff_id) if roster else None
        values = summary[staff_id]
        staff_over.append(
            StaffOvertime(
                staff_id=staff_id,
                name=member.name if member else "",
                unit_code=member.unit_code if member else "",
                affiliation=member.affiliation if member else "",
                section_name=member.section_name if member else "",
                unit_name=member.unit_name if member else "",
                title=member.title if member else "",
                other_directed=bool(values["other_directed"]),
                month_minutes=int(values["month_minutes"]),
                fiscal_year_minutes=int(values["fiscal_year_minutes"]),
                rolling_average_minutes={
                    int(str(c).removeprefix("avg_")): float(v)
                    for c, v in values.items()
                    if str(c).startswith("avg_")
                },
                months_over_monthly=int(values["months_over"]),
                breaches=breaches_of,
            )
        )
    return staff_over


def _assign_recipients(result: OvertimeResult, resolver: RecipientResolver) -> None:
    """Resolve every staff member over a cap; group them into one notice per recipient."""
    entries: dict[str, list[NoticeEntry]] = defaultdict(list)
    routes_of: dict[str, list[Route]] = defaultdict(list)
    for staff in result.breaches:
        resolution = resolver.resolve(staff.staff_id)
        result.chain_problems.extend(resolution.problems)
        for recipient_id in resolution.recipient_ids:
            routes = [r for r in resolution.routes if r.recipient_id == recipient_id]
            entries[recipient_id].append(NoticeEntry(staff=staff, routes=routes))
            routes_of[recipient_id].extend(routes)
    notices = [
        Notice(
            recipient=resolver.recipient(recipient_id, routes_of[recipient_id]),
            entries=sorted(
                entries[recipient_id], key=lambda e: (e.staff.unit_code, e.staff.staff_id)
            ),
        )
        for recipient_id in sorted(entries, key=resolver.sort_key)
    ]
    result.batch.notices = notices


def write_outputs(
    result: OvertimeResult,
    out_dir: Path,
    issued_on: dt.date,
    *,
    doc_number_start: int = 1,
    layout: LabelLayout | None = None,
    font_path: Path | None = None,
) -> list[Path]:
    """Write the month's documents: notices, one label sheet, the check list.

    Files (ASCII names, ``YYYYMM`` = the month checked)::

        <out_dir>/notices/notice_<YYYYMM>_<doc number>_<recipient ID>.pdf
        <out_dir>/labels_<YYYYMM>.pdf        one label per notice, same order
        <out_dir>/checklist_<YYYYMM>.xlsx    one row per notice + problems to review

    A re-run with the same result and numbers replaces the same files.

    Args:
        result: What :func:`prepare_notices` found (after review, if any).
        out_dir: Folder for the documents (created if missing).
        issued_on: The notices' date (printed in 和暦).
        doc_number_start: The first document number (文書番号) of this batch.
        layout: The label sheet; ``None`` is :data:`~civicflow.overtime.models.LABEL_12UP`.
        font_path: The TTF to embed; ``None`` finds IPAexGothic.

    Returns:
        The notices, then the label sheet (when there is a notice), then the check list.

    Raises:
        PermanentError: The font or a template is missing, or ``out_dir`` is not writable.
        TransientError: Writing a file failed for another I/O reason.
    """
    from civicflow.overtime.documents import write_checklist, write_label_sheet, write_notices

    stamp = f"{result.year:04d}{result.month:02d}"
    issued = write_notices(
        result.batch,
        out_dir / "notices",
        issued_on,
        doc_number_start=doc_number_start,
        limits=result.limits,
        font_path=font_path,
    )
    paths = [n.path for n in issued]
    if result.batch.notices:
        paths.append(
            write_label_sheet(
                result.recipients,
                out_dir / f"labels_{stamp}.pdf",
                layout=layout,
                font_path=font_path,
            )
        )
    paths.append(write_checklist(result, issued, out_dir / f"checklist_{stamp}.xlsx", issued_on))
    return paths


def review_counts(result: OvertimeResult) -> dict[str, int]:
    """Counts for the run summary (IDs and numbers only, no names).

    Returns:
        staff over a cap, notices, chain problems, input problems by severity, quarantined.
    """
    counts: dict[str, int] = {
        "staff_over": len(result.breaches),
        "notices": len(result.batch.notices),
        "chain_problems": len(result.chain_problems),
        "quarantined": len(result.quarantined),
    }
    for severity in Severity:
        counts[f"problems_{severity.value}"] = sum(
            1 for p in result.problems if p.severity is severity
        )
    return counts
