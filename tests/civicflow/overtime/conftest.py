"""Fixtures for the overtime notice: one generated sample per session, tiny builders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from civicflow.overtime.inputs import ORG_REQUIRED, STAFF_REQUIRED
from civicflow.overtime.models import OvertimeResult
from civicflow.overtime.pipeline import prepare_notices
from civicflow.samples.overtime import OvertimeSampleSet, generate_overtime

SAMPLE_YEAR = 2025
SAMPLE_MONTH = 1

RecordsFactory = Callable[..., pd.DataFrame]
RosterWriter = Callable[..., Path]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> OvertimeSampleSet:
    """250 staff (the cycle case included), 12 months ending January 2025."""
    out = tmp_path_factory.mktemp("overtime-sample")
    return generate_overtime(out, seed=11, n_staff=250, year=SAMPLE_YEAR, month=SAMPLE_MONTH)


@pytest.fixture(scope="session")
def result(sample: OvertimeSampleSet) -> OvertimeResult:
    """The sample prepared once for the whole session."""
    return prepare_notices(sample.roster_path, sample.attendance_paths, SAMPLE_YEAR, SAMPLE_MONTH)


def minutes_of(value: str | int) -> int:
    """``"45:15"`` → 2715; an int is minutes already."""
    if isinstance(value, int):
        return value
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.fixture(scope="session")
def make_records() -> RecordsFactory:
    """Records from ``(staff_id, yyyymm, "h:mm", section_code)`` tuples."""

    def build(rows: Sequence[tuple[str, int, str | int, str]]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "staff_id": [r[0] for r in rows],
                "unit_code": [r[3] + "01" for r in rows],
                "year_month": pd.Series([r[1] for r in rows], dtype="int64"),
                "minutes": pd.Series([minutes_of(r[2]) for r in rows], dtype="int64"),
                "source": "test.csv",
                "line": pd.Series(range(2, len(rows) + 2), dtype="int64"),
            }
        )

    return build


STAFF_HEADER = [*STAFF_REQUIRED, "フリガナ", "部", "課", "係", "役職"]
ORG_HEADER = [*ORG_REQUIRED, "事務取扱", "担当係コード", "他律的"]


@pytest.fixture(scope="session")
def write_roster() -> RosterWriter:
    """Write a small roster workbook: ``write_roster(path, staff_rows, post_rows, ...)``.

    Rows are lists in the order of ``staff_header`` / ``org_header`` (defaults above);
    ``sheets`` renames the two sheets.
    """

    def build(
        path: Path,
        staff_rows: Sequence[Sequence[Any]] = (),
        post_rows: Sequence[Sequence[Any]] = (),
        *,
        staff_header: Sequence[str] = STAFF_HEADER,
        org_header: Sequence[str] = ORG_HEADER,
        sheets: tuple[str, str] = ("職員名簿", "組織"),
    ) -> Path:
        wb = Workbook()
        staff_ws = wb.active
        assert staff_ws is not None
        staff_ws.title = sheets[0]
        staff_ws.append(list(staff_header))
        for row in staff_rows:
            staff_ws.append(list(row))
        org_ws = wb.create_sheet(sheets[1])
        org_ws.append(list(org_header))
        for row in post_rows:
            org_ws.append(list(row))
        wb.save(path)
        return path

    return build
