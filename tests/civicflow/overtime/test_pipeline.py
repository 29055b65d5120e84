"""prepare_notices on a generated month: the generator's truth, and bad inputs that never crash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from civicflow.models import Severity
from civicflow.overtime.models import OvertimeResult
from civicflow.overtime.pipeline import prepare_notices, review_counts
from civicflow.samples.overtime import OvertimeSampleSet


def test_breaches_match_the_truth(result: OvertimeResult, sample: OvertimeSampleSet) -> None:
    found = {s.staff_id: [c.value for c in s.caps] for s in result.breaches}
    assert found == sample.truth.breaches
    assert len(found) > 30


def test_recipients_match_the_truth(result: OvertimeResult, sample: OvertimeSampleSet) -> None:
    found: dict[str, set[str]] = {}
    for notice in result.batch.notices:
        for entry in notice.entries:
            found.setdefault(entry.staff.staff_id, set()).add(notice.recipient.staff_id)
    assert {k: sorted(v) for k, v in found.items()} == sample.truth.recipients
    assert len(result.batch.notices) == sample.truth.notices
    # one notice per person, whatever posts they hold
    ids = [n.recipient.staff_id for n in result.batch.notices]
    assert len(ids) == len(set(ids))


def test_chain_problems_match_the_truth(result: OvertimeResult, sample: OvertimeSampleSet) -> None:
    found: dict[str, list[str]] = {}
    for problem in result.chain_problems:
        found.setdefault(problem.staff_id, []).append(problem.kind.value)
    assert found == sample.truth.chain_problems
    assert {k for kinds in found.values() for k in kinds} == {"cycle", "missing-link"}


def test_tangled_cases_resolve_as_built(result: OvertimeResult, sample: OvertimeSampleSet) -> None:
    cases = sample.truth.cases
    by_recipient = {n.recipient.staff_id: n for n in result.batch.notices}
    routes = [r.description_ja for n in result.batch.notices for e in n.entries for r in e.routes]
    assert any("（事務取扱）" in r for r in routes)  # the 部長 acting for a vacant 課長
    assert any(r.count("（欠員）") == 2 for r in routes)  # vacant 課長 under a vacant 部長
    acting = [n for n in result.batch.notices if any("事務取扱" in x for x in n.recipient.roles)]
    assert len(acting) == 1
    transfer = cases["transfer"]
    assert sample.truth.breaches[transfer] == ["monthly"]
    assert any(transfer in n.staff_ids for n in by_recipient.values())


def test_input_problems_match_the_truth(result: OvertimeResult, sample: OvertimeSampleSet) -> None:
    truth = sample.truth
    bad = [(p.source, p.line) for p in result.problems if p.code == "attendance-bad-hours"]
    assert bad == [(r["file"], r["line"]) for r in truth.bad_rows]
    quarter = [(p.source, p.line) for p in result.problems if p.code.endswith("not-quarter")]
    assert quarter == [(r["file"], r["line"]) for r in truth.not_quarter_rows]
    utf8 = [p.source for p in result.problems if p.code == "attendance-encoding-utf8"]
    assert utf8 == truth.utf8_files
    unknown = [p.staff_id for p in result.problems if p.code == "attendance-unknown-staff"]
    assert unknown == truth.unknown_staff
    assert result.quarantined == []
    assert result.needs_review
    assert result.staff_count == truth.n_staff
    assert result.months_read[-1] == 202501 and len(result.months_read) == 12


def test_no_names_in_problem_messages(result: OvertimeResult) -> None:
    names = {s.name for s in result.breaches} | {n.recipient.name for n in result.batch.notices}
    family = {n.split("　")[0] for n in names if n}
    texts = [p.message_ja + p.message_en for p in result.problems]
    texts += [p.message_ja + p.message_en for p in result.chain_problems]
    for text in texts:
        assert not any(f in text for f in family if len(f) >= 2), text


def test_review_counts(result: OvertimeResult) -> None:
    counts = review_counts(result)
    assert counts["staff_over"] == len(result.breaches)
    assert counts["notices"] == len(result.batch.notices)
    assert counts["problems_info"] == 2  # UTF-8 file, hours not in quarters


@pytest.fixture
def copy_of(sample: OvertimeSampleSet, tmp_path: Path) -> OvertimeSampleSet:
    """A copy of the sample that a test may damage."""
    shutil.copytree(sample.out_dir, tmp_path / "s")
    root = tmp_path / "s"
    return sample.model_copy(
        update={
            "out_dir": root,
            "roster_path": root / sample.roster_path.name,
            "attendance_paths": [root / "attendance" / p.name for p in sample.attendance_paths],
        }
    )


def test_a_broken_roster_is_quarantined_and_breaches_still_found(
    copy_of: OvertimeSampleSet,
) -> None:
    copy_of.roster_path.write_bytes(b"this is not a workbook")
    result = prepare_notices(copy_of.roster_path, copy_of.attendance_paths, 2025, 1)
    (record,) = result.quarantined
    assert record.item_ref == "roster.xlsx"
    assert record.reason.code == "roster-broken"
    assert record.reason.severity is Severity.QUARANTINE
    assert result.batch.notices == []
    assert len(result.breaches) > 0
    assert result.needs_review


def test_a_bad_attendance_file_is_quarantined_and_its_month_reported(
    copy_of: OvertimeSampleSet,
) -> None:
    broken = copy_of.attendance_paths[-2]  # December
    broken.write_bytes(broken.read_text(encoding="cp932").encode("utf-16"))
    result = prepare_notices(copy_of.roster_path, copy_of.attendance_paths, 2025, 1)
    assert [q.item_ref for q in result.quarantined] == [broken.name]
    assert result.quarantined[0].reason.code == "attendance-encoding"
    missing = [p for p in result.problems if p.code == "attendance-month-missing"]
    assert len(missing) == 1 and "令和6年12月" in missing[0].message_ja


def test_a_duplicate_month_file_is_quarantined(copy_of: OvertimeSampleSet) -> None:
    again = copy_of.out_dir / "again.csv"
    shutil.copy(copy_of.attendance_paths[-1], again)
    result = prepare_notices(copy_of.roster_path, [*copy_of.attendance_paths, again], 2025, 1)
    assert [(q.item_ref, q.reason.code) for q in result.quarantined] == [
        ("again.csv", "attendance-month-duplicate")
    ]


def test_nothing_at_all_still_returns_a_result(tmp_path: Path) -> None:
    result = prepare_notices(tmp_path / "roster.xlsx", [tmp_path / "a.csv"], 2025, 1)
    assert [q.reason.code for q in result.quarantined] == [
        "roster-unreadable",
        "attendance-unreadable",
    ]
    assert result.breaches == [] and result.batch.notices == []
    assert any(p.code == "attendance-target-month-missing" for p in result.problems)
