"""Run summaries as operators and managers read them (no personal data)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from civicflow.models import RunSummary

JST = ZoneInfo("Asia/Tokyo")

ROWS: tuple[tuple[str, str], ...] = (
    ("received", "新規受付 / received"),
    ("already_received", "受付済のため取得せず / already received"),
    ("duplicates_skipped", "重複受付番号 / duplicates skipped"),
    ("verified", "自動確認 / verified"),
    ("entered", "登録 / entered"),
    ("sent_to_review", "確認へ回付 / sent to review"),
    ("reviewed", "確認済 / reviewed"),
    ("corrected", "修正して登録 / corrected"),
    ("rejected", "却下 / rejected"),
    ("quarantined", "隔離（新規）/ newly quarantined"),
    ("quarantine_open", "隔離中（累計）/ quarantined, awaiting a fix"),
    ("review_pending", "確認待ち（累計）/ pending review"),
)
#: Shown only for processes that read paper forms (fields_read > 0).
FIELD_ROWS: tuple[tuple[str, str], ...] = (
    ("fields_read", "読取項目 / fields read"),
    ("fields_auto_accepted", "自動確定項目 / fields auto-accepted"),
    ("fields_reviewed", "目視確認項目 / fields reviewed"),
    ("fields_corrected", "修正項目 / fields corrected"),
)


def summary_markdown(summary: RunSummary, *, title: str) -> str:
    """A markdown table of a run's counts and hours saved."""
    data = summary.model_dump()
    started = summary.started_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    lines = [f"# {title}", "", f"開始 {started} JST / run `{summary.flow_run_id or '-'}`", ""]
    lines += ["| 項目 / item | 件数 / count |", "|---|---:|"]
    lines += [f"| {label} | {data[key]} |" for key, label in ROWS]
    if summary.fields_read:
        lines += [f"| {label} | {data[key]} |" for key, label in FIELD_ROWS]
        lines.append(f"| 確認時間（秒）/ reviewer seconds | {summary.reviewer_seconds:.0f} |")
    lines += [
        "",
        f"**削減時間 / hours saved: {summary.hours_saved:.2f} h** "
        f"= {summary.baseline_minutes:g} 分 × {summary.cases_handled} 件 − "
        f"確認時間 {summary.reviewer_seconds / 60:.1f} 分",
    ]
    if summary.notes:
        lines += ["", "**注意 / notes:**", ""] + [f"- {note}" for note in summary.notes]
    if summary.documents:
        lines += ["", "**作成した文書 / documents:**", ""]
        lines += [f"- `{path}`" for path in summary.documents]
    if summary.quarantine_open:
        lines += [
            "",
            "隔離した入力は `civicflow quarantine list` で理由を確認し、修正後に再実行してください。"
            " / See `civicflow quarantine list` for the reasons; fix and run again.",
        ]
    return "\n".join(lines)
