"""The bus-pass pipeline without Prefect and without OCR: readings come from fakes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from civicflow import models
from civicflow.bus_pass import ledger, pipeline
from civicflow.bus_pass.review import FormAnswer, initial_answers, review_description
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from civicflow.store.schema import AuditLogRow, BusPassRow, ReviewItemRow

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """File name → the readings ``read_form`` returns for it."""
    script: dict[str, list[Any]] = {}

    def fake_read_form(source: Path, form: Any, **kwargs: Any) -> list[Any]:
        return script[source.name]

    monkeypatch.setattr(pipeline, "read_form", fake_read_form)
    return script


def _run(settings: Settings) -> list[pipeline.DocumentReport]:
    return [
        pipeline.read_document(p, settings, today=TODAY, flow_run_id="run-1")
        for p in pipeline.inbox_files(settings)
    ]


def _passes(settings: Settings) -> int:
    with session_scope(settings.db_url) as s:
        return int(s.scalar(select(func.count()).select_from(BusPassRow)) or 0)


def test_a_clean_form_is_entered_once_and_the_file_leaves_the_inbox(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    inbox = settings.bus_pass_inbox
    bus_pass_fakes.drop(inbox, "scan-0001.png")
    scripted["scan-0001.png"] = [bus_pass_fakes.reading("scan-0001.png")]
    reports = _run(settings)
    assert [p.outcome for p in reports[0].pages] == ["entered"]
    assert reports[0].pages[0].pass_no and reports[0].pages[0].pass_no.startswith("2026")
    assert not any(inbox.iterdir())
    assert (pipeline.processed_dir(settings, TODAY) / "scan-0001.png").exists()
    with session_scope(settings.db_url) as s:
        row = s.scalar(select(BusPassRow))
        assert row is not None
        assert row.form_id == "scan-0001-p1"
        assert row.eligibility == ["age70"]
        assert row.valid_until == dt.date(2027, 3, 31)
        assert row.resident_id == bus_pass_fakes.resident.resident_id
    # The same sheet scanned again (same name) enters nothing twice.
    bus_pass_fakes.drop(inbox, "scan-0001.png")
    again = _run(settings)
    assert [p.outcome for p in again[0].pages] == ["already_done"]
    assert _passes(settings) == 1
    assert (pipeline.processed_dir(settings, TODAY) / "scan-0001.2.png").exists()


def test_a_resident_who_already_holds_a_pass_goes_to_review(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    for name in ("a.png", "b.png"):
        bus_pass_fakes.drop(settings.bus_pass_inbox, name)
        scripted[name] = [bus_pass_fakes.reading(name)]
    reports = _run(settings)
    assert [r.pages[0].outcome for r in reports] == ["entered", "review"]
    assert reports[1].pages[0].codes == ["already_issued"]


def test_bad_pages_are_quarantined_counted_and_read_again_after_a_fix(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    inbox = settings.bus_pass_inbox
    bus_pass_fakes.drop(inbox, "blank.png")
    bus_pass_fakes.drop(inbox, "notes.docx")
    bus_pass_fakes.drop(inbox, "truth.json")  # not a scan: left alone
    scripted["blank.png"] = [bus_pass_fakes.reading("blank.png", quarantine="blank_page")]
    reports = _run(settings)
    summary = models.RunSummary(process="bus_pass", started_at=dt.datetime.now(dt.UTC))
    for report in reports:
        pipeline.add_document(summary, report)
    assert summary.quarantined == 2
    assert {r.pages[0].codes[0] for r in reports} == {"blank_page", "not_a_scan"}
    qdir = pipeline.scan_quarantine_dir(settings)
    reason = (qdir / "blank.png.reason.txt").read_text("utf-8")
    assert "blank_page" in reason and "受付フォルダー" in reason
    assert (inbox / "truth.json").exists()
    with session_scope(settings.db_url) as s:
        assert len(repo.open_quarantine(s, pipeline.PROCESS)) == 2
    # The operator rescans the page and puts it back under the same name.
    (qdir / "blank.png").rename(inbox / "blank.png")
    scripted["blank.png"] = [bus_pass_fakes.reading("blank.png")]
    (inbox / "notes.docx").unlink(missing_ok=True)
    _run(settings)
    with session_scope(settings.db_url) as s:
        open_refs = [q.item_ref for q in repo.open_quarantine(s, pipeline.PROCESS)]
    assert open_refs == ["notes-p1"]
    assert _passes(settings) == 1


def test_a_multi_page_file_with_one_bad_page_enters_the_others(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    bus_pass_fakes.drop(settings.bus_pass_inbox, "batch.pdf")
    scripted["batch.pdf"] = [
        bus_pass_fakes.reading("batch.pdf", 1),
        bus_pass_fakes.reading("batch.pdf", 2, quarantine="form_not_recognised"),
        bus_pass_fakes.reading("batch.pdf", 3, flagged={"phone": "engine_disagreement"}),
    ]
    (report,) = _run(settings)
    assert [p.outcome for p in report.pages] == ["entered", "quarantined", "review"]
    assert report.moved_to.startswith("processed/")
    assert report.pages[2].flagged == 1 and report.pages[2].auto_accepted == 9


def _queue(settings: Settings, fakes: Any, scripted: dict[str, list[Any]], **kw: Any) -> None:
    fakes.drop(settings.bus_pass_inbox, "form.png")
    scripted["form.png"] = [fakes.reading("form.png", **kw)]
    (report,) = _run(settings)
    assert report.pages[0].outcome == "review"


def _answer(settings: Settings, reviewer: str, key: str, **values: str) -> pipeline.ReviewOutcome:
    cards, _ = pipeline.offer_review(settings, key, limit=10)
    answers = initial_answers(cards)
    for a in answers:
        a.decision = "approve"
        for entry in a.fields:
            if entry.field_id in values:
                entry.value = values[entry.field_id]
    return pipeline.apply_answers(
        settings,
        [a.answer() for a in answers],
        reviewer=reviewer,
        seconds_spent=30,
        answer_key=key,
        today=TODAY,
        flow_run_id=key,
    )


def test_a_non_critical_correction_is_entered_after_one_reviewer(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(
        settings,
        bus_pass_fakes,
        scripted,
        flagged={"phone": "engine_disagreement"},
        values={"phone": "03-1234-5673"},
    )
    cards, total = pipeline.offer_review(settings, "r1", limit=10)
    assert total == 1 and cards[0].stage == "first"
    assert cards[0].fields == [("phone", "電話番号", "03-1234-5673")]
    assert "data:image/png;base64," in cards[0].markdown
    outcome = _answer(settings, "sato", "r1", phone="0312345678")
    assert (outcome.entered, outcome.fields_corrected, outcome.awaiting_second) == (1, 1, 0)
    with session_scope(settings.db_url) as s:
        row = s.scalar(select(BusPassRow))
        assert row is not None and row.fields["phone"] == "03-1234-5678"
        assert row.reviewed_by == ["sato"]
        item = s.scalar(select(ReviewItemRow))
        assert item is not None and item.decision == "correct" and item.reviewer == "sato"


def test_a_critical_field_needs_two_different_reviewers_who_agree(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(
        settings,
        bus_pass_fakes,
        scripted,
        flagged={"birth_date": "always_review", "name": "low_confidence"},
        values={"birth_date": "1950-04-08"},
    )
    crops = pipeline.crops_dir(settings, "form-p1")
    assert sorted(p.name for p in crops.iterdir()) == ["birth_date.png", "name.png"]
    first = _answer(settings, "sato", "r1", birth_date="昭和25年4月3日")
    assert (first.entered, first.awaiting_second) == (0, 1)
    assert _passes(settings) == 0
    assert crops.is_dir(), "the second reviewer types from the same crops"

    cards, _ = pipeline.offer_review(settings, "r2", limit=10, only_second=True)
    assert cards[0].stage == "second"
    assert {fid for fid, _, value in cards[0].fields if value == ""} == {"birth_date", "name"}
    assert "1950" not in cards[0].markdown and "山田" not in cards[0].markdown  # blind entry

    same = _answer(settings, "sato", "r2", birth_date="1950-04-03", name="山田花子")
    assert same.entered == 0 and "same_reviewer" in same.problems[0]

    differ = _answer(settings, "suzuki", "r3", birth_date="1950-04-08", name="山田花子")
    assert (differ.entered, differ.disagreements) == (0, 1)

    agree = _answer(settings, "tanaka", "r4", birth_date="S25.4.3", name="山田 花子")
    assert agree.entered == 1 and agree.decided == ["form-p1"]
    assert not crops.exists(), "handwriting crops go once the form is decided"
    with session_scope(settings.db_url) as s:
        row = s.scalar(select(BusPassRow))
        assert row is not None
        assert row.fields["birth_date"] == "1950-04-03"
        assert row.reviewed_by == ["sato", "tanaka"]
        actions = list(s.scalars(select(AuditLogRow.action).order_by(AuditLogRow.id)))
    assert actions.count("review_entry") == 2  # sato's first entry, suzuki's differing one
    assert actions[-2:] == ["issue", "review_correct"]


def test_a_bad_value_from_a_reviewer_is_refused_and_the_form_waits(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(settings, bus_pass_fakes, scripted, flagged={"postal_code": "postal_unknown"})
    outcome = _answer(settings, "sato", "r1", postal_code="105-001")
    assert outcome.entered == 0 and "郵便番号は7桁" in outcome.problems[0]
    assert outcome.decided == [] and pipeline.crops_dir(settings, "form-p1").is_dir()
    assert pipeline.pending_count(settings) == 1


def test_applying_the_same_screen_twice_changes_nothing(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(settings, bus_pass_fakes, scripted, flagged={"name": "low_confidence"})
    assert _answer(settings, "sato", "r1").awaiting_second == 1
    assert _answer(settings, "sato", "r1").awaiting_second == 0  # the same answer key


def test_a_rejection_is_final_and_listed_in_the_ledger(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(settings, bus_pass_fakes, scripted, flagged={"eligibility": "required_blank"})
    cards, _ = pipeline.offer_review(settings, "r1", limit=10)
    answer = FormAnswer(item_id=cards[0].item_id, decision="reject", comment="対象外")
    outcome = pipeline.apply_answers(
        settings,
        [answer.answer()],
        reviewer="sato",
        seconds_spent=10,
        answer_key="r1",
        today=TODAY,
        flow_run_id="r1",
    )
    assert outcome.rejected == 1 and pipeline.pending_count(settings) == 0
    assert not pipeline.crops_dir(settings, "form-p1").exists()
    rows = ledger.ledger_rows(settings)
    assert [(r.form_ref, r.status) for r in rows] == [("form-p1", "不交付")]


def test_the_ledger_lists_every_form_with_its_status(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    for name, flagged in (("a.png", None), ("b.png", {"phone": "format"})):
        bus_pass_fakes.drop(settings.bus_pass_inbox, name)
        scripted[name] = [
            bus_pass_fakes.reading(
                name, flagged=flagged, resident_id=None if flagged else "R0000001"
            )
        ]
    _run(settings)
    xlsx, pdf = ledger.write_ledger(settings, dt.date.today())
    assert pdf.read_bytes().startswith(b"%PDF")
    sheet = load_workbook(xlsx).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(v[2], v[8]) for v in values] == [("a-p1", "交付"), ("b-p1", "確認中")]
    assert values[0][7] == "70歳以上"
    assert values[0][11] == "（自動）"  # no person checked it


def test_the_review_description_names_who_must_not_answer(
    settings: Settings, bus_pass_fakes: Any, scripted: dict[str, list[Any]]
) -> None:
    _queue(settings, bus_pass_fakes, scripted, flagged={"name": "low_confidence"})
    cards, total = pipeline.offer_review(settings, "r1", limit=10)
    text = review_description(cards, total, round_no=2, not_reviewer=["sato"])
    assert "sato 以外" in text and "ダブルエントリー" in text


def _page_png(path: Path, shade: int) -> None:
    from PIL import Image

    Image.new("L", (1240, 1754), shade).save(path)  # A4 at 150 dpi: big enough to read


def test_decoding_ahead_gives_the_file_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = pipeline._DecodeAhead()
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    _page_png(first, 250)
    _page_png(second, 240)
    decoded_by = []
    real_load = pipeline._load

    def counting_load(path: Path) -> Any:
        decoded_by.append(path.name)
        return real_load(path)

    monkeypatch.setattr(pipeline, "_load", counting_load)
    ahead.submit([first, second])
    pages = ahead.take(first)
    assert isinstance(pages, list) and int(pages[0].image.mean()) == 250  # type: ignore[union-attr]
    assert decoded_by == ["a.png", "b.png"]  # decoded once, ahead

    # The file changed after it was decoded ahead (a rescan under the same name).
    _page_png(second, 100)
    pages = ahead.take(second)
    assert isinstance(pages, list) and int(pages[0].image.mean()) == 100  # type: ignore[union-attr]
    assert decoded_by == ["a.png", "b.png", "b.png"]

    assert ahead.take(tmp_path / "missing.png") is None  # read_document reports it


def test_the_next_tasks_first_file_is_decoded_during_this_one(
    settings: Settings,
    bus_pass_fakes: Any,
    scripted: dict[str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ahead = pipeline._DecodeAhead()
    monkeypatch.setattr(pipeline, "_DECODE_AHEAD", ahead)
    inbox = settings.bus_pass_inbox
    for name in ("scan-0001.png", "scan-0002.png"):
        bus_pass_fakes.drop(inbox, name)
        scripted[name] = [bus_pass_fakes.reading(name)]
    first, then = inbox / "scan-0001.png", inbox / "scan-0002.png"
    reports = pipeline.read_documents(
        [first], settings, today=TODAY, flow_run_id="run-1", then=[then]
    )
    assert [r.file for r in reports] == ["scan-0001.png"]
    assert list(ahead._ahead) == [then]  # waiting for the next call
    reports = pipeline.read_documents([then], settings, today=TODAY, flow_run_id="run-1")
    assert [r.file for r in reports] == ["scan-0002.png"]
    assert not ahead._ahead
