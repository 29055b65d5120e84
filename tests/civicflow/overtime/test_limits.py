"""The caps, as tables of tiny cases: every boundary exactly at 45 / 100 / 80 / 360 / 720 / 6."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from civicflow.overtime.baseline import baseline_breaches
from civicflow.overtime.limits import BREACH_COLUMNS, evaluate_limits, find_breaches
from civicflow.overtime.models import OvertimeLimits
from civicflow.overtime.pipeline import load_inputs
from civicflow.samples.overtime import OvertimeSampleSet

RecordsFactory = Callable[..., pd.DataFrame]
NORMAL = "1101"
OD = "1102"  # 他律的
LIMITS = OvertimeLimits(other_directed_sections=frozenset({OD}))
FY_MONTHS = [202404, 202405, 202406, 202407, 202408, 202409, 202410, 202411, 202412]


def months(values: list[str], section: str, staff: str = "A01") -> list[tuple[str, int, str, str]]:
    """One row per month of the fiscal year 2024 (April–December), then January 2025."""
    all_months = [*FY_MONTHS, 202501]
    return [(staff, m, v, section) for m, v in zip(all_months, values, strict=False)]


# (case, rows, expected caps in order) — target month January 2025 (年度 from April 2024)
CASES: list[tuple[str, list[tuple[str, int, str, str]], list[str]]] = [
    ("monthly exactly 45:00 is not over", [("A01", 202501, "45:00", NORMAL)], []),
    ("monthly 45:15 is over", [("A01", 202501, "45:15", NORMAL)], ["monthly"]),
    ("monthly 99:45 is under 100", [("A01", 202501, "99:45", NORMAL)], ["monthly"]),
    (
        "100:00 is 100 or more",
        [("A01", 202501, "100:00", NORMAL)],
        ["single_month", "monthly"],
    ),
    ("no hours, no breach", [("A01", 202501, "0:00", NORMAL)], []),
    ("year exactly 360:00 is not over", months(["45:00"] * 8 + ["0:00", "0:00"], NORMAL), []),
    (
        "year 360:15 is over",
        months(["45:00"] * 7 + ["45:15", "0:00", "0:00"], NORMAL),
        ["annual"],
    ),
    (
        "March belongs to the previous fiscal year",
        [("A01", 202403, "100:00", NORMAL), *months(["40:00"] * 9 + ["0:00"], NORMAL)],
        [],
    ),
    (
        "normal sections have no rolling-average cap",
        [("A01", 202412, "90:00", NORMAL), ("A01", 202501, "80:00", NORMAL)],
        ["monthly"],
    ),
    ("他律的: 45:15 in a month is allowed", [("A01", 202501, "45:15", OD)], []),
    ("他律的: 99:45 is under 100", [("A01", 202501, "99:45", OD)], []),
    ("他律的: 100:00 is over", [("A01", 202501, "100:00", OD)], ["single_month"]),
    (
        "他律的: 2-month average exactly 80:00 is not over",
        [("A01", 202412, "80:00", OD), ("A01", 202501, "80:00", OD)],
        [],
    ),
    (
        "他律的: 2-month average 80:07.5 is over",
        [("A01", 202412, "80:00", OD), ("A01", 202501, "80:15", OD)],
        ["rolling_average"],
    ),
    (
        "他律的: 6-month average only",
        [
            ("A01", m, v, OD)
            for m, v in zip(
                [202408, 202409, 202410, 202411, 202412, 202501],
                ["99:00", "99:00", "99:00", "99:00", "45:00", "45:00"],
                strict=True,
            )
        ],
        ["rolling_average"],
    ),
    (
        "他律的: year exactly 720:00 is not over (but 9 months over 45)",
        months(["80:00"] * 9 + ["0:00"], OD),
        ["months_over"],
    ),
    (
        "他律的: year 720:15 is over",
        months(["80:00"] * 8 + ["80:15", "0:00"], OD),
        ["annual", "months_over"],
    ),
    ("他律的: 6 months over 45 are allowed", months(["45:15"] * 6, OD), []),
    ("他律的: a 7th month over 45 is not", months(["45:15"] * 7, OD), ["months_over"]),
    (
        "a transfer: two rows in one month add up",
        [("A01", 202501, "30:00", "1201"), ("A01", 202501, "20:00", NORMAL)],
        ["monthly"],
    ),
    (
        "the latest row decides the section: moved into a 他律的 section",
        [("A01", 202501, "30:00", NORMAL), ("A01", 202501, "20:00", OD)],
        [],
    ),
]


@pytest.mark.parametrize(("case", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
def test_caps(
    make_records: RecordsFactory,
    case: str,
    rows: list[tuple[str, int, str, str]],
    expected: list[str],
) -> None:
    records = make_records(rows)
    found = find_breaches(records, LIMITS, year=2025, month=1)
    assert list(found["cap"]) == expected, case
    pd.testing.assert_frame_equal(
        found, baseline_breaches(records, LIMITS, year=2025, month=1), check_exact=False
    )


def test_rolling_average_reports_the_worst_window_across_the_fiscal_year(
    make_records: RecordsFactory,
) -> None:
    # Target May 2024: the windows reach back into the previous fiscal year.
    rows = [
        ("A01", m, v, OD)
        for m, v in zip(
            [202401, 202402, 202403, 202404, 202405],
            ["95:00", "95:00", "95:00", "70:00", "70:00"],
            strict=True,
        )
    ]
    found = find_breaches(make_records(rows), LIMITS, year=2024, month=5)
    (row,) = found.to_dict("records")
    assert row["cap"] == "rolling_average"
    assert row["window_months"] == 5  # (95×3 + 70×2) / 5 = 85 h, the highest
    assert row["window_start"] == 202401
    assert row["window_end"] == 202405
    assert row["value"] == pytest.approx(85.0)


def test_breach_values_windows_and_limits(make_records: RecordsFactory) -> None:
    rows = months(["45:00"] * 7 + ["45:15", "0:00", "100:30"], NORMAL)
    found = find_breaches(make_records(rows), LIMITS, year=2025, month=1)
    by_cap = {r["cap"]: r for r in found.to_dict("records")}
    assert list(found.columns) == list(BREACH_COLUMNS)
    assert by_cap["single_month"]["value"] == pytest.approx(100.5)
    assert by_cap["single_month"]["limit"] == 100
    assert by_cap["annual"]["value"] == pytest.approx(460.75)
    assert by_cap["annual"]["limit"] == 360
    assert (by_cap["annual"]["window_start"], by_cap["annual"]["window_months"]) == (202404, 10)
    assert by_cap["monthly"]["window_start"] == by_cap["monthly"]["window_end"] == 202501


def test_summary_has_every_staff_members_figures(make_records: RecordsFactory) -> None:
    rows = [
        ("A01", 202412, "60:00", OD),
        ("A01", 202501, "90:00", OD),
        ("B02", 202501, "10:00", NORMAL),
    ]
    evaluation = evaluate_limits(make_records(rows), LIMITS, year=2025, month=1)
    a01 = evaluation.summary.loc["A01"]
    assert bool(a01["other_directed"])
    assert a01["month_minutes"] == 90 * 60
    assert a01["avg_2"] == 75 * 60
    assert a01["avg_6"] == 25 * 60  # months without a row count as 0 h
    assert a01["months_over"] == 2
    assert evaluation.summary.loc["B02", "fiscal_year_minutes"] == 600
    assert evaluation.fiscal_year_start == 202404


def test_limits_are_settings(make_records: RecordsFactory) -> None:
    rows = [("A01", 202501, "30:15", NORMAL)]
    strict = OvertimeLimits(monthly_hours=30)
    assert list(find_breaches(make_records(rows), strict, year=2025, month=1)["cap"]) == ["monthly"]
    over_45 = make_records([("A01", 202501, "45:15", NORMAL)])
    assert not find_breaches(over_45, OvertimeLimits(), year=2025, month=1).empty
    designated = OvertimeLimits(other_directed_sections=frozenset({NORMAL}))
    assert find_breaches(over_45, designated, year=2025, month=1).empty


def test_target_defaults_to_the_latest_month(make_records: RecordsFactory) -> None:
    rows = [("A01", 202412, "50:00", NORMAL), ("A01", 202501, "10:00", NORMAL)]
    assert find_breaches(make_records(rows), LIMITS).empty
    assert list(find_breaches(make_records(rows), LIMITS, year=2024, month=12)["cap"]) == [
        "monthly"
    ]


def test_empty_records_give_no_breaches(make_records: RecordsFactory) -> None:
    empty = make_records([])
    assert find_breaches(empty, LIMITS, year=2025, month=1).empty
    assert baseline_breaches(empty, LIMITS, year=2025, month=1).empty


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="rolling_windows"):
        OvertimeLimits(rolling_windows=())
    with pytest.raises(ValueError):
        OvertimeLimits(monthly_hours=0)


def test_core_and_baseline_agree_on_the_sample(sample: OvertimeSampleSet) -> None:
    loaded = load_inputs(sample.roster_path, sample.attendance_paths)
    assert loaded.roster is not None
    limits = OvertimeLimits().with_sections(loaded.roster.other_directed_sections())
    core = find_breaches(loaded.records, limits, year=2025, month=1)
    base = baseline_breaches(loaded.records, limits, year=2025, month=1)
    assert len(core) > 20
    assert set(core["cap"]) == {
        "single_month",
        "rolling_average",
        "annual",
        "months_over",
        "monthly",
    }
    pd.testing.assert_frame_equal(core, base, check_exact=False)
