"""The overtime caps (上限), vectorised: one staff × month matrix, no per-person loop.

Rules (人事院規則15-14 as municipal rules copy it; the values come from
:class:`~civicflow.overtime.models.OvertimeLimits`), checked for ONE month, the target:

* every section: 100 h or more in the target month (``single_month``);
* normal sections: over 45 h in the target month (``monthly``); over 360 h from April to
  the target month (``annual``);
* 他律的 sections: over 80 h on average over any window of 2, 3, 4, 5 or 6 months ending
  with the target month (``rolling_average``; windows cross the fiscal-year boundary, as
  the rule means "every 2–6 months"); over 720 h in the fiscal year (``annual``); more
  than 6 months over 45 h in the fiscal year (``months_over``).

Whether a staff member's section is 他律的 is decided by the ``section_code`` of their
latest record (a transfer moves them); the pipeline sets it from the roster. Hours of a
staff member add up across sections (a transfer within a month gives two rows). A month
with no row counts as 0 h. All comparisons are on whole minutes, so exactly 45:00 is not
over 45 h and exactly 100:00 is "100 h or more".

Input frame columns: ``staff_id`` (str), ``year_month`` (int ``YYYYMM``), ``minutes`` (int),
and ``section_code`` (str) or ``unit_code`` (str, its first four digits are the 課);
``line`` (int) orders two rows of the same month, when present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from civicflow.overtime.models import (
    CAP_ORDER,
    SECTION_CODE_LENGTH,
    Cap,
    OvertimeLimits,
    YearMonth,
    fiscal_year_start,
    ym_from_index,
    ym_index,
)

#: Columns of the breaches frame, one row per staff member × cap exceeded.
BREACH_COLUMNS: Final = (
    "staff_id",
    "cap",
    "value",  # hours (months for months_over)
    "limit",
    "window_start",  # YYYYMM
    "window_end",  # YYYYMM
    "window_months",
)
#: Order of the caps in the breaches frame, per staff member.
CAP_RANK: Final = {cap.value: rank for rank, cap in enumerate(CAP_ORDER)}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class LimitEvaluation:
    """Every staff member's figures for the target month, and the caps they exceed.

    ``summary`` is indexed by ``staff_id`` with columns ``section_code``,
    ``other_directed``, ``month_minutes``, ``fiscal_year_minutes``, ``months_over`` and
    ``avg_<n>`` (average minutes over the n months ending with the target) for each
    window; ``breaches`` has :data:`BREACH_COLUMNS`.
    """

    target: YearMonth
    fiscal_year_start: YearMonth
    summary: pd.DataFrame
    breaches: pd.DataFrame


def target_month(records: pd.DataFrame, year: int | None, month: int | None) -> YearMonth:
    """The month to check: the one given, or the latest month in the records.

    Raises:
        ValueError: Neither a month is given nor are there records.
    """
    if year is not None and month is not None:
        return year * 100 + month
    if records.empty:
        raise ValueError("no records and no target month given")
    return int(records["year_month"].max())


def section_codes(records: pd.DataFrame) -> pd.Series:
    """Each record's 課 code: ``section_code`` when present, else from ``unit_code``."""
    if "section_code" in records.columns:
        return records["section_code"].astype(str)
    return records["unit_code"].astype(str).str[:SECTION_CODE_LENGTH]


def evaluate_limits(
    records: pd.DataFrame,
    limits: OvertimeLimits,
    *,
    year: int | None = None,
    month: int | None = None,
) -> LimitEvaluation:
    """Compute every staff member's figures and find the caps exceeded in the target month.

    Args:
        records: One row per staff × month (× section); see the module docstring.
        limits: The caps and the 他律的 sections.
        year: Target year; with ``month``. Both None: the latest month in ``records``.
        month: Target month (1–12).

    Returns:
        The figures of every staff member with a record in the months looked at (the
        fiscal year and the longest rolling window) and their breaches.
    """
    target = target_month(records, year, month)
    fy_start = fiscal_year_start(target, limits.fiscal_year_start_month)
    t_index = ym_index(target)
    fy_index = ym_index(fy_start)
    first = min(fy_index, t_index - max(limits.rolling_windows) + 1)
    span = t_index - first + 1

    month_index = records["year_month"].to_numpy(dtype=np.int64)
    month_index = (month_index // 100) * 12 + month_index % 100 - 1
    in_span = (month_index >= first) & (month_index <= t_index)
    offsets = month_index[in_span] - first
    staff_ids = records["staff_id"].to_numpy()[in_span]
    codes, uniques = pd.factorize(staff_ids)
    n_staff = len(uniques)
    minutes = records["minutes"].to_numpy(dtype=np.int64)[in_span]

    # staff × month matrix of minutes; bincount adds a transfer's two rows together.
    flat = np.bincount(
        codes * span + offsets, weights=minutes.astype(np.float64), minlength=n_staff * span
    )
    matrix: IntArray = np.rint(flat).astype(np.int64).reshape(n_staff, span)

    sections = _latest_sections(records, in_span, codes, offsets)
    other_directed = np.isin(
        sections, np.array(sorted(limits.other_directed_sections), dtype=object)
    )

    month_minutes = matrix[:, -1]
    fy_cols = matrix[:, fy_index - first :]
    fy_minutes = fy_cols.sum(axis=1)
    monthly_cap = limits.to_minutes(limits.monthly_hours)
    months_over = (fy_cols > monthly_cap).sum(axis=1)
    tail_sums = np.cumsum(matrix[:, ::-1], axis=1)  # column k: the last k+1 months
    window_sums = {n: tail_sums[:, n - 1] for n in limits.rolling_windows}

    summary = pd.DataFrame(
        {
            "section_code": sections,
            "other_directed": other_directed,
            "month_minutes": month_minutes,
            "fiscal_year_minutes": fy_minutes,
            "months_over": months_over,
        }
        | {f"avg_{n}": window_sums[n] / n for n in limits.rolling_windows},
        index=pd.Index(uniques, name="staff_id"),
    )
    breaches = _breaches(
        uniques,
        other_directed,
        month_minutes,
        fy_minutes,
        months_over,
        window_sums,
        limits,
        target,
        fy_start,
    )
    return LimitEvaluation(
        target=target, fiscal_year_start=fy_start, summary=summary, breaches=breaches
    )


def find_breaches(
    records: pd.DataFrame,
    limits: OvertimeLimits,
    *,
    year: int | None = None,
    month: int | None = None,
) -> pd.DataFrame:
    """The caps exceeded in the target month, one row per staff × cap (:data:`BREACH_COLUMNS`).

    Args:
        records: One row per staff × month (× section).
        limits: The caps and the 他律的 sections.
        year: Target year (None with ``month``: the latest month in ``records``).
        month: Target month.

    Returns:
        The breaches, sorted by staff ID and then most serious cap first.
    """
    return evaluate_limits(records, limits, year=year, month=month).breaches


def _latest_sections(
    records: pd.DataFrame, in_span: BoolArray, codes: IntArray, offsets: IntArray
) -> npt.NDArray[np.object_]:
    """The section of each staff member's latest record (by month, then line)."""
    sections = section_codes(records).to_numpy(dtype=object)[in_span]
    if len(codes) == 0:
        return np.array([], dtype=object)
    if "line" in records.columns:
        lines = records["line"].to_numpy(dtype=np.int64)[in_span]
    else:
        lines = np.arange(len(codes), dtype=np.int64)
    order = np.lexsort((lines, offsets, codes))
    sorted_codes = codes[order]
    last = np.flatnonzero(np.r_[sorted_codes[1:] != sorted_codes[:-1], True])
    return sections[order[last]]


def _breaches(
    staff_ids: npt.NDArray[np.object_],
    other_directed: BoolArray,
    month_minutes: IntArray,
    fy_minutes: IntArray,
    months_over: IntArray,
    window_sums: dict[int, IntArray],
    limits: OvertimeLimits,
    target: YearMonth,
    fy_start: YearMonth,
) -> pd.DataFrame:
    """Stack one frame per cap, then sort by staff and cap rank."""
    to_min = limits.to_minutes
    fy_months = ym_index(target) - ym_index(fy_start) + 1
    normal = ~other_directed
    parts: list[pd.DataFrame] = []

    def add(
        cap: Cap,
        mask: BoolArray,
        value: FloatArray,
        limit: float | FloatArray,
        start: YearMonth | IntArray,
        months: int | IntArray,
    ) -> None:
        """Append the rows of one cap where ``mask`` holds."""
        if not mask.any():
            return

        def pick(v: float | IntArray | FloatArray) -> object:
            """The masked values of an array; a scalar as is."""
            return v[mask] if isinstance(v, np.ndarray) else v

        parts.append(
            pd.DataFrame(
                {
                    "staff_id": staff_ids[mask],
                    "cap": cap.value,
                    "value": value[mask],
                    "limit": pick(limit),
                    "window_start": pick(start),
                    "window_end": target,
                    "window_months": pick(months),
                }
            )
        )

    hours = month_minutes / 60.0
    add(
        Cap.SINGLE_MONTH,
        month_minutes >= to_min(limits.single_month_hours),
        hours,
        limits.single_month_hours,
        target,
        1,
    )
    # Rolling average: the window with the highest average (the shortest on a tie).
    windows = sorted(limits.rolling_windows)
    averages = np.column_stack([window_sums[n] / n for n in windows])
    best = np.argmax(averages, axis=1)
    best_avg = averages[np.arange(len(best)), best]
    best_n = np.asarray(windows, dtype=np.int64)[best]
    best_sum = np.column_stack([window_sums[n] for n in windows])[np.arange(len(best)), best]
    over_avg = other_directed & (best_sum > to_min(limits.rolling_average_hours) * best_n)
    t_index = ym_index(target)
    starts = np.array([ym_from_index(t_index - n + 1) for n in windows], dtype=np.int64)[best]
    add(
        Cap.ROLLING_AVERAGE,
        over_avg,
        best_avg / 60.0,
        limits.rolling_average_hours,
        starts,
        best_n,
    )
    annual_limit = np.where(
        other_directed, limits.other_directed_annual_hours, limits.annual_hours
    ).astype(np.float64)
    annual_cap = np.where(
        other_directed,
        to_min(limits.other_directed_annual_hours),
        to_min(limits.annual_hours),
    )
    add(Cap.ANNUAL, fy_minutes > annual_cap, fy_minutes / 60.0, annual_limit, fy_start, fy_months)
    add(
        Cap.MONTHS_OVER,
        other_directed & (months_over > limits.other_directed_max_months_over),
        months_over.astype(np.float64),
        limits.other_directed_max_months_over,
        fy_start,
        fy_months,
    )
    add(
        Cap.MONTHLY,
        normal & (month_minutes > to_min(limits.monthly_hours)),
        hours,
        limits.monthly_hours,
        target,
        1,
    )
    if not parts:
        return empty_breaches()
    frame = pd.concat(parts, ignore_index=True)
    frame["_rank"] = frame["cap"].map(CAP_RANK)
    frame = frame.sort_values(["staff_id", "_rank"], kind="stable").drop(columns="_rank")
    return normalize_breaches(frame)


def empty_breaches() -> pd.DataFrame:
    """A breaches frame with no rows and the right dtypes."""
    return normalize_breaches(pd.DataFrame({c: [] for c in BREACH_COLUMNS}))


def normalize_breaches(frame: pd.DataFrame) -> pd.DataFrame:
    """Column order, dtypes and a fresh index, so two implementations compare equal."""
    out = frame.loc[:, list(BREACH_COLUMNS)].reset_index(drop=True)
    return out.astype(
        {
            "staff_id": str,
            "cap": str,
            "value": "float64",
            "limit": "float64",
            "window_start": "int64",
            "window_end": "int64",
            "window_months": "int64",
        }
    )
