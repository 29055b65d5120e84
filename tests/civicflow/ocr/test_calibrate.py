"""Calibration: the search picks thresholds from evidence, the shipped file is complete."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from civicflow.forms import FormDefinition
from civicflow.models import Resident
from civicflow.ocr.calibrate import (
    Collection,
    PageRecord,
    choose_checkbox_bounds,
    choose_policy,
    outcomes,
    summarise,
)
from civicflow.ocr.reader import PageEvidence
from civicflow.ocr.routing import CALIBRATION_FILE, RoutingPolicy
from civicflow.registry import ResidentIndex

TRUTH: dict[str, Any] = {
    "application_date": "2025-06-01",
    "furigana": "ヤマダ ハナコ",
    "name": "山田 花子",
    "gender": "女",
    "birth_date": "1947-05-15",
    "postal_code": "105-0012",
    "address": "東京都港区芝大門2-19-14",
    "phone": "090-8826-6285",
    "eligibility": ["age70"],
    "handbook_number": None,
}


Builder = Callable[[dict[str, Any], FormDefinition], PageEvidence]


def _collection(form: FormDefinition, specs: dict[str, Any], build: Builder) -> Collection:
    """Four pages: three read right, one kana misread with a middling score."""
    records: list[PageRecord] = []
    for index in range(4):
        page = copy.deepcopy(specs)
        if index == 3:
            page["furigana"] = {"text": [("ヤマダ", 0.6), ("ハナユ", 0.99)]}
        evidence = build(page, form)
        boxes = [
            (fid, cell.name, cell.density, cell.density > 0.1)
            for fid, fe in evidence.fields.items()
            for cell in fe.cells
            if cell.kind == "check"
        ]
        records.append(PageRecord(f"p{index}.png", 1, evidence, dict(TRUTH), boxes))
    return Collection(
        seed=0,
        n=4,
        form_id=form.id,
        records=records,
        registry=ResidentIndex([]),  # nobody known: the engines and rules must do it
        reference_date=dt.date(2025, 6, 30),
        bad_inputs={},
        defects={},
    )


def test_the_search_flags_the_misreading_within_the_budget(
    bus_pass: FormDefinition, specs: dict[str, Any], build_evidence: Builder
) -> None:
    collection = _collection(bus_pass, specs, build_evidence)
    types = {f.type for f in bus_pass.fields}
    trusting = RoutingPolicy(min_confidence=dict.fromkeys(types, 0.0), disagreement_gate=0.0)
    before = summarise(outcomes(collection, trusting))
    assert before["katakana"]["errors_among_accepted"] == 1
    policy, log = choose_policy(collection, review_budget=0.5, base=trusting)
    after = summarise(outcomes(collection, policy))
    assert after["all"]["errors_among_accepted"] == 0
    assert after["all"]["review_rate"] <= 0.5
    assert 0.6 < policy.min_confidence["katakana"] <= 0.99
    assert log["search"][0]["step"] == "start"


def test_checkbox_bounds_come_from_the_densities(
    bus_pass: FormDefinition, specs: dict[str, Any], build_evidence: Builder
) -> None:
    bounds = choose_checkbox_bounds(_collection(bus_pass, specs, build_evidence))
    assert 0.0 < bounds["empty_max"] < bounds["checked_min"] <= 0.15


def test_the_registry_proposes_it_does_not_overwrite(
    bus_pass: FormDefinition, specs: dict[str, Any], build_evidence: Builder, resident: Resident
) -> None:
    collection = _collection(bus_pass, specs, build_evidence)
    collection.registry = ResidentIndex([resident])
    results = outcomes(collection, RoutingPolicy())
    assert len(results) == 4 * len(bus_pass.fields)
    wrong = [r for r in results if not r.ok]
    assert [r.field_id for r in wrong] == ["furigana"]
    assert wrong[0].flagged and "registry_mismatch" in wrong[0].codes


def test_the_shipped_calibration_is_reproducible_and_loads() -> None:
    data = json.loads(CALIBRATION_FILE.read_text("utf-8"))
    calibration = data["calibration"]
    assert calibration["seed"] and calibration["n"] >= 60
    assert "python -m civicflow.ocr.calibrate" in calibration["command"]
    assert {"rapidocr", "easyocr", "torch"} <= set(calibration["versions"])
    measured = data["measured"]["with_registry"]["all"]
    assert {"exact_raw", "exact_after_rules", "review_rate", "error_rate_among_accepted"} <= set(
        measured
    )
    policy = RoutingPolicy.load()
    assert policy.source == CALIBRATION_FILE.name
    assert policy.model_dump(exclude={"source"}) == RoutingPolicy.model_validate(
        data["policy"]
    ).model_dump(exclude={"source"})
