"""Synthetic ledgers: reproducible to the byte, messy the way the export must handle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicflow.assets.ledger import read_workbook
from civicflow.samples.assets import BAD_FILE_KINDS, BAD_ROW_KINDS, AssetSampleSet, generate_assets


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate_assets(tmp_path / "a", seed=5, rows=120, fiscal_year=2024)
    second = generate_assets(tmp_path / "b", seed=5, rows=120, fiscal_year=2024)
    other = generate_assets(tmp_path / "c", seed=6, rows=120, fiscal_year=2024)
    tree = _tree(first.out_dir / "assets")
    assert tree == _tree(second.out_dir / "assets")
    assert tree != _tree(other.out_dir / "assets")
    assert first.expected_exported + first.expected_rejected == 120


def test_regenerating_replaces_the_folder(tmp_path: Path) -> None:
    generate_assets(tmp_path, seed=1, rows=60, fiscal_year=2024)
    (tmp_path / "assets" / "ledgers" / "stray.xlsx").write_bytes(b"x")
    again = generate_assets(tmp_path, seed=1, rows=60, fiscal_year=2024)
    assert not (again.ledger_dir / "stray.xlsx").exists()


def test_truth_lists_every_kind_of_bad_row_and_file(sample: AssetSampleSet) -> None:
    truth = json.loads(sample.truth_json.read_text(encoding="utf-8"))
    assert {b["kind"] for b in truth["bad_rows"]} == set(BAD_ROW_KINDS)
    assert {q["kind"] for q in truth["expected"]["quarantined"]} == set(BAD_FILE_KINDS)
    assert truth["expected"]["unencodable"], "some rows hold 𠮷"
    assert truth["expected"]["exported"] + truth["expected"]["rejected"] == sample.rows
    assert len(sample.workbooks) == len(sample.good_workbooks) + len(BAD_FILE_KINDS)


def test_ledgers_carry_the_mess(sample: AssetSampleSet) -> None:
    cells: list[object] = []
    merges = 0
    for path in sample.good_workbooks:
        for sheet in read_workbook(path).sheets:
            merges += len(sheet.merges)
            cells.extend(v for _, values in sheet.rows for v in values)
    texts = [c for c in cells if isinstance(c, str)]
    assert merges > 0
    assert any("令和" in t or "平成" in t or "昭和" in t for t in texts)  # 和暦
    assert any(any("０" <= ch <= "９" for ch in t) for t in texts)  # full-width digits
    assert any(t.startswith("△") for t in texts)
    assert any("千円" in t for t in texts)
    assert any("小計" in t or "合計" in t for t in texts)
    assert any(t.startswith("※") for t in texts)
    assert any("\n" in t for t in texts)  # Alt+Enter inside a cell


@pytest.mark.parametrize("rows", [1, 10])
def test_tiny_sets_have_no_bad_rows(tmp_path: Path, rows: int) -> None:
    sample = generate_assets(tmp_path, seed=2, rows=rows, fiscal_year=2023)
    assert (sample.expected_exported, sample.expected_rejected) == (rows, 0)
