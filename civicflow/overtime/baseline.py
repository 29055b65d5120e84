"""The same cap checks written plainly with pandas: the benchmark's yardstick.

:func:`baseline_breaches` is what an analyst would write with groupby / unstack /
rolling, without thinking about speed. It must give exactly the frame that
:func:`civicflow.overtime.limits.find_breaches` gives (the tests compare them), so the
benchmark measures one transformation done two ways. :func:`run_benchmark` times both,
and the whole :func:`~civicflow.overtime.pipeline.prepare_notices` against a bare pandas
read of the same files plus the baseline.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from civicflow.overtime.limits import (
    CAP_RANK,
    empty_breaches,
    normalize_breaches,
    section_codes,
    target_month,
)
from civicflow.overtime.models import Cap, OvertimeLimits, fiscal_year_start


def baseline_breaches(
    records_df: pd.DataFrame,
    limits: OvertimeLimits,
    *,
    year: int | None = None,
    month: int | None = None,
) -> pd.DataFrame:
    """Find the caps exceeded in the target month, plainly (see :mod:`~civicflow.overtime.limits`).

    Args:
        records_df: staff_id, year_month, minutes, section_code or unit_code (and line).
        limits: The caps and the 他律的 sections.
        year: Target year (None with ``month``: the latest month in the records).
        month: Target month.

    Returns:
        The same frame as :func:`~civicflow.overtime.limits.find_breaches`.
    """
    target = target_month(records_df, year, month)
    target_p = pd.Period(year=target // 100, month=target % 100, freq="M")
    fy = fiscal_year_start(target, limits.fiscal_year_start_month)
    fy_p = pd.Period(year=fy // 100, month=fy % 100, freq="M")
    first_p = min(fy_p, target_p - (max(limits.rolling_windows) - 1))

    df = records_df.copy()
    df["section"] = section_codes(df)
    df["period"] = pd.to_datetime(df["year_month"].astype(str), format="%Y%m").dt.to_period("M")
    df = df[(df["period"] >= first_p) & (df["period"] <= target_p)]
    if df.empty:
        return empty_breaches()
    if "line" not in df.columns:
        df["line"] = range(len(df))

    per_month = df.groupby(["staff_id", "period"])["minutes"].sum()
    months = pd.period_range(first_p, target_p, freq="M")
    wide = per_month.unstack(fill_value=0).reindex(columns=months, fill_value=0)
    latest = df.sort_values(["year_month", "line"]).groupby("staff_id")["section"].last()
    other_directed = latest.reindex(wide.index).isin(limits.other_directed_sections)

    this_month = wide[target_p]
    fiscal = wide.loc[:, fy_p:target_p]
    fy_total = fiscal.sum(axis=1)
    monthly_min = OvertimeLimits.to_minutes(limits.monthly_hours)
    months_over = (fiscal > monthly_min).sum(axis=1)
    fy_months = len(fiscal.columns)

    windows = sorted(limits.rolling_windows)
    # The windows all end with the target month: the last n columns.
    rolling_sums = pd.DataFrame({n: wide.iloc[:, -n:].sum(axis=1) for n in windows})
    averages = rolling_sums / pd.Series(windows, index=windows, dtype="float64")
    best_n = averages.idxmax(axis=1).astype("int64")  # the first maximum: the shortest window
    best_avg = averages.max(axis=1)
    best_sum = (best_avg * best_n).round()
    starts = {n: _month_number(target_p - (n - 1)) for n in windows}
    best_start = best_n.map(starts)
    annual = other_directed.map(
        {True: limits.other_directed_annual_hours, False: limits.annual_hours}
    ).astype("float64")

    def part(
        cap: Cap, mask: pd.Series, value: pd.Series, limit: Any, start: Any, months: Any
    ) -> pd.DataFrame:
        """The breaches of one cap as a frame."""

        def pick(v: Any) -> Any:
            """The masked values of a Series; a scalar as is."""
            return v[mask].to_numpy() if isinstance(v, pd.Series) else v

        return pd.DataFrame(
            {
                "staff_id": wide.index[mask.to_numpy()],
                "cap": cap.value,
                "value": value[mask].to_numpy(dtype="float64"),
                "limit": pick(limit),
                "window_start": pick(start),
                "window_end": target,
                "window_months": pick(months),
            }
        )

    parts = [
        part(
            Cap.SINGLE_MONTH,
            this_month >= OvertimeLimits.to_minutes(limits.single_month_hours),
            this_month / 60,
            limits.single_month_hours,
            target,
            1,
        ),
        part(
            Cap.ROLLING_AVERAGE,
            other_directed
            & (best_sum > OvertimeLimits.to_minutes(limits.rolling_average_hours) * best_n),
            best_avg / 60,
            limits.rolling_average_hours,
            best_start,
            best_n,
        ),
        part(Cap.ANNUAL, fy_total > (annual * 60).round(), fy_total / 60, annual, fy, fy_months),
        part(
            Cap.MONTHS_OVER,
            other_directed & (months_over > limits.other_directed_max_months_over),
            months_over,
            limits.other_directed_max_months_over,
            fy,
            fy_months,
        ),
        part(
            Cap.MONTHLY,
            ~other_directed & (this_month > monthly_min),
            this_month / 60,
            limits.monthly_hours,
            target,
            1,
        ),
    ]
    found = [p for p in parts if not p.empty]
    if not found:
        return empty_breaches()
    out = pd.concat(found, ignore_index=True)
    out["_rank"] = out["cap"].map(CAP_RANK)
    out = out.sort_values(["staff_id", "_rank"], kind="stable").drop(columns="_rank")
    return normalize_breaches(out)


def _month_number(period: pd.Period) -> int:
    """``Period('2024-10', 'M')`` → ``202410``."""
    return int(period.year) * 100 + int(period.month)


def _best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_benchmark(
    n_staff: int = 10_000,
    *,
    seed: int = 1,
    year: int = 2025,
    month: int = 1,
    work_dir: Path | None = None,
    repeat: int = 3,
) -> dict[str, Any]:
    """Time the vectorised core and the whole preparation against plain pandas.

    Generates a sample of ``n_staff`` staff × 12 months, then reports the best of
    ``repeat`` runs of: :func:`find_breaches` vs :func:`baseline_breaches` on the same
    records frame; :func:`prepare_notices` (read, check, resolve, group; no PDFs) vs a
    bare pandas read of the same files (``read_csv`` ×12 + ``read_excel`` ×2) plus
    :func:`baseline_breaches`.

    Args:
        n_staff: Staff in the generated roster.
        seed: Generator seed.
        year: Target year.
        month: Target month.
        work_dir: Where to write the sample (a temporary folder by default).
        repeat: Runs per measurement.

    Returns:
        The timings in seconds and the counts, as a dict for one JSON line.
    """
    from civicflow.overtime.inputs import ORG_SHEET, STAFF_SHEET
    from civicflow.overtime.limits import find_breaches
    from civicflow.overtime.pipeline import load_inputs, prepare_notices
    from civicflow.samples.overtime import generate_overtime

    root = work_dir or Path(tempfile.mkdtemp(prefix="civicflow-overtime-bench-"))
    t0 = time.perf_counter()
    sample = generate_overtime(root, seed=seed, n_staff=n_staff, year=year, month=month)
    generate_s = time.perf_counter() - t0
    limits = OvertimeLimits()

    loaded = load_inputs(sample.roster_path, sample.attendance_paths)
    if loaded.roster is None:
        raise RuntimeError("the generated roster could not be read")
    effective = limits.with_sections(loaded.roster.other_directed_sections())
    records = loaded.records
    core_s = _best_of(repeat, lambda: find_breaches(records, effective, year=year, month=month))
    base_s = _best_of(repeat, lambda: baseline_breaches(records, effective, year=year, month=month))

    def bare_pandas() -> pd.DataFrame:
        """Read the same files with pandas alone (no checks)."""
        frames = [
            pd.read_csv(p, encoding="cp932", dtype=str, encoding_errors="replace")
            for p in sample.attendance_paths
        ]
        pd.read_excel(sample.roster_path, sheet_name=[STAFF_SHEET, ORG_SHEET], header=None)
        return pd.concat(frames)

    result = prepare_notices(sample.roster_path, sample.attendance_paths, year, month, limits)
    pipeline_s = _best_of(
        repeat,
        lambda: prepare_notices(sample.roster_path, sample.attendance_paths, year, month, limits),
    )
    read_s = _best_of(repeat, bare_pandas)
    return {
        "n_staff": n_staff,
        "records": len(records),
        "breaching_staff": len(result.breaches),
        "notices": len(result.batch.notices),
        "generate_s": round(generate_s, 3),
        "core_find_breaches_s": round(core_s, 4),
        "baseline_breaches_s": round(base_s, 4),
        "core_vs_baseline": round(core_s / base_s, 3),
        "prepare_notices_s": round(pipeline_s, 3),
        "bare_pandas_read_plus_baseline_s": round(read_s + base_s, 3),
        "prepare_vs_bare": round(pipeline_s / (read_s + base_s), 3),
    }
