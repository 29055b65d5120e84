"""Scoring a bus-pass batch against the scans' ground truth (``civicflow bench ocr``).

After a batch over generated scans, every form is either entered (its fields as the
machine read them, or as reviewers confirmed them), waiting for review (the machine's
reading is in the review item), or quarantined. This module answers the waiting reviews
from the ground truth — as two different reviewers would — and then compares what the
machine read with the truth, field by field and per field type.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from civicflow.bus_pass import pipeline
from civicflow.bus_pass.entries import display_value, field_map
from civicflow.forms.definition import load_form
from civicflow.ocr.calibrate import matches_truth
from civicflow.samples.scans import ScanTruth
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import ReviewItemRow

BENCH_REVIEWERS = ("bench-reviewer-1", "bench-reviewer-2")


class FieldScore(BaseModel):
    """One field of one read page, compared with the truth."""

    form_ref: str
    field_id: str
    field_type: str
    machine_ok: bool  # the machine's reading equals the truth
    flagged: bool  # sent to a person
    final_ok: bool | None = None  # what was entered equals the truth (None: not entered)


def load_truth(scans_dir: Path) -> tuple[dict[str, dict[str, Any]], int]:
    """Truth per form ref (``<stem>-p<page>`` → field → value) and the bad-input count."""
    truth: dict[str, dict[str, Any]] = {}
    bad = 0
    for path in sorted(scans_dir.glob("*.json")):
        scan = ScanTruth.model_validate_json(path.read_text("utf-8"))
        if scan.kind == "bad_input":
            bad += max(len(scan.pages), 1)
            continue
        stem = Path(scan.file).stem
        for page in scan.pages:
            truth[f"{stem}-p{page.page}"] = {k: v.value for k, v in page.fields.items()}
    return truth, bad


def answer_from_truth(
    settings: Settings, truth: dict[str, dict[str, Any]], *, today: dt.date
) -> list[pipeline.ReviewOutcome]:
    """Answer every waiting form from the truth: a first reviewer, then a second one."""
    outcomes: list[pipeline.ReviewOutcome] = []
    for round_no, reviewer in enumerate(BENCH_REVIEWERS, start=1):
        cards, _ = pipeline.offer_review(settings, f"bench-{round_no}", limit=100_000)
        answers = []
        for card in cards:
            known = truth.get(card.form_ref)
            if known is None:
                continue
            answers.append(
                pipeline.ReviewAnswer(
                    item_id=card.item_id,
                    decision="approve",
                    values={fid: display_value(known.get(fid)) for fid, _, _ in card.fields},
                )
            )
        outcomes.append(
            pipeline.apply_answers(
                settings,
                answers,
                reviewer=reviewer,
                seconds_spent=0.0,  # review is timed as zero in the benchmark
                answer_key=f"bench-{round_no}",
                today=today,
                flow_run_id=None,
            )
        )
    return outcomes


def score(settings: Settings, truth: dict[str, dict[str, Any]]) -> list[FieldScore]:
    """Every field of every read page: the machine's reading, routing and the entry vs truth."""
    form = load_form(settings.bus_pass_form)
    fields = field_map(form)
    scores: list[FieldScore] = []
    with session_scope(settings.db_url) as session:
        entered = {p.form_id: dict(p.fields) for p in repo.bus_passes(session)}
        items = {
            i.item_ref: i
            for i in session.query(ReviewItemRow).filter(ReviewItemRow.process == pipeline.PROCESS)
        }
        for ref, known in sorted(truth.items()):
            item = items.get(ref)
            if item is not None:
                machine = dict(item.proposed.get("values", {}))
                flagged = set(item.proposed.get("flagged", []))
            elif ref in entered:
                machine, flagged = entered[ref], set()
            else:
                continue  # quarantined (or not read): counted elsewhere
            final = entered.get(ref)
            for fid, f in fields.items():
                scores.append(
                    FieldScore(
                        form_ref=ref,
                        field_id=fid,
                        field_type=f.type,
                        machine_ok=matches_truth(machine.get(fid), known.get(fid)),
                        flagged=fid in flagged,
                        final_ok=None
                        if final is None
                        else matches_truth(final.get(fid), known.get(fid)),
                    )
                )
    return scores


def figures(scores: list[FieldScore]) -> dict[str, Any]:
    """Exact, auto-accept, error-among-accepted and review rates, overall and per field type."""

    def rates(items: list[FieldScore]) -> dict[str, Any]:
        accepted = [s for s in items if not s.flagged]
        errors = [s for s in accepted if not s.machine_ok]
        entered = [s for s in items if s.final_ok is not None]
        n = max(len(items), 1)
        return {
            "fields": len(items),
            "field_exact_raw": round(sum(s.machine_ok for s in items) / n, 4),
            "auto_accept_rate": round(len(accepted) / n, 4),
            "auto_accepted_error_rate": round(len(errors) / max(len(accepted), 1), 4),
            "review_rate": round(1 - len(accepted) / n, 4),
            "entered_exact": round(
                sum(bool(s.final_ok) for s in entered) / max(len(entered), 1), 4
            ),
        }

    by_type: dict[str, list[FieldScore]] = defaultdict(list)
    for s in scores:
        by_type[s.field_type].append(s)
    return {"all": rates(scores), "by_type": {k: rates(v) for k, v in sorted(by_type.items())}}
