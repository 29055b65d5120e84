"""The overtime sample generator: seeded, byte-identical, with the mess it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicflow.samples.overtime import CYCLE_MIN_STAFF, OvertimeSampleSet, generate_overtime


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = generate_overtime(tmp_path / "a", seed=3, n_staff=80, year=2024, month=10)
    second = generate_overtime(tmp_path / "b", seed=3, n_staff=80, year=2024, month=10)
    assert files_of(first.out_dir) == files_of(second.out_dir)
    third = generate_overtime(tmp_path / "c", seed=4, n_staff=80, year=2024, month=10)
    assert files_of(third.out_dir)["roster.xlsx"] != files_of(first.out_dir)["roster.xlsx"]


def test_layout_and_formats(sample: OvertimeSampleSet) -> None:
    names = [p.name for p in sample.attendance_paths]
    assert names[0] == "attendance_202402.csv" and names[-1] == "attendance_202501.csv"
    assert len(names) == 12
    assert sample.truth.utf8_files == [names[0]]
    first = sample.attendance_paths[0].read_bytes()
    first.decode("utf-8")  # the one UTF-8 export
    for path in sample.attendance_paths[1:]:
        data = path.read_bytes()
        text = data.decode("cp932")
        assert text.startswith("職員番号,氏名,所属コード,所属名,年月,時間外勤務時間\r\n")
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    decimals = sample.attendance_paths[1].read_text(encoding="cp932")
    assert ".00" in decimals or ".25" in decimals  # before the system upgrade
    assert ":" in sample.attendance_paths[-1].read_text(encoding="cp932").splitlines()[1]
    assert sample.truth_path.is_file()


def test_the_mess_is_there(sample: OvertimeSampleSet) -> None:
    truth = sample.truth
    assert {"acting", "walk_up", "double_vacancy", "concurrent_a", "missing", "cycle_a"} <= set(
        truth.cases
    )
    assert len(truth.unknown_staff) == 2
    assert len(truth.bad_rows) == 2 and len(truth.not_quarter_rows) == 1
    assert truth.other_directed_sections
    caps = {c for cs in truth.breaches.values() for c in cs}
    assert caps == {"single_month", "rolling_average", "annual", "months_over", "monthly"}
    text = sample.attendance_paths[-1].read_text(encoding="cp932")
    assert any(ch in text for ch in "０１２３４５６７８９")  # full-width staff IDs


def test_no_cycle_below_200_staff(tmp_path: Path) -> None:
    small = generate_overtime(tmp_path, seed=1, n_staff=60, year=2025, month=3)
    assert "cycle_a" not in small.truth.cases
    assert CYCLE_MIN_STAFF == 200
    assert len(small.truth.breaches) > 0


def test_too_few_staff_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 60"):
        generate_overtime(tmp_path, seed=1, n_staff=10, year=2025, month=1)
