"""The export's transformation written plainly in pandas: the benchmark's yardstick.

:func:`baseline_export` does what :func:`civicflow.assets.export.build_export` does to the
cells (header columns, 千円 → 円, dates, straight-line depreciation, the checks, column
order) the way one would write it in a notebook: whole-column pandas operations, with the
cell parsers of :mod:`civicflow.assets.ledger` mapped over each column's *distinct* values
(和暦 text has no vectorised parser). It keeps no reasons and writes no rejects workbook,
so it is a lower bound on the work, not a replacement.

:func:`benchmark_export` times both on the same workbooks, in the same process:

* **with reading** (the number that matters): ``build_export`` (fast reader) against
  ``pd.read_excel(engine="openpyxl")`` + ``baseline_export``;
* **without reading**: both start from the same cells already in memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from civicflow.assets.export import (
    build_export,
    build_export_from_ledgers,
    load_layout,
    load_useful_life,
    write_export,
)
from civicflow.assets.ledger import (
    AMOUNT_FIELDS,
    NOTE_MARKS,
    REQUIRED_LEDGER_FIELDS,
    SUBTOTAL_WORDS,
    Cell,
    CellValueError,
    RawWorkbook,
    clean_text,
    find_header,
    parse_amount,
    parse_ledger,
    parse_ledger_date,
    parse_useful_life,
    read_workbook,
    sheet_amount_unit,
)
from civicflow.assets.models import AssetExportConfig
from civicflow.assets.validate import fiscal_year_end
from civicflow.errors import InputError

#: One ledger sheet for the baseline: (workbook file name, sheet name, cells without header).
Frame = tuple[str, str, pd.DataFrame]


def read_frames(paths: Sequence[Path], config: AssetExportConfig | None = None) -> list[Frame]:
    """Every sheet of every workbook as ``pd.read_excel(header=None, engine="openpyxl")`` reads it.

    Files pandas cannot open and sheets named like 説明/記入例 are left out (the baseline
    reports nothing about them).
    """
    config = config or AssetExportConfig()
    frames: list[Frame] = []
    for path in paths:
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        except Exception:  # pandas raises many kinds; the baseline skips what it cannot read
            continue
        for name, frame in sheets.items():
            if not any(word in str(name) for word in config.ignored_sheet_words):
                frames.append((path.name, str(name), frame))
    return frames


def frames_from_raw(workbooks: Sequence[RawWorkbook], config: AssetExportConfig) -> list[Frame]:
    """The same cells the fast reader read, as DataFrames: for the comparison without reading."""
    frames: list[Frame] = []
    for workbook in workbooks:
        for sheet in workbook.sheets:
            if sheet.hidden or any(word in sheet.name for word in config.ignored_sheet_words):
                continue
            width = max((len(values) for _, values in sheet.rows), default=0)
            index = [number - 1 for number, _ in sheet.rows]
            data = [values + [None] * (width - len(values)) for _, values in sheet.rows]
            frames.append((workbook.path.name, sheet.name, pd.DataFrame(data, index=index)))
    return frames


def _none(value: Any) -> Cell:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value  # type: ignore[no-any-return]


def _distinct_map(series: pd.Series, parse: Callable[[Cell], Any]) -> pd.Series:
    """Apply a cell parser to each distinct value once; unreadable cells become NaN."""
    results: dict[Any, Any] = {}
    for value in series.dropna().unique():
        try:
            results[value] = parse(_none(value))
        except CellValueError:
            results[value] = np.nan
    return series.map(results)


def baseline_export(
    frames: Sequence[Frame], fiscal_year: int, config: AssetExportConfig | None = None
) -> pd.DataFrame:
    """The rows to import, computed column by column in pandas.

    Args:
        frames: Ledger sheets as read (:func:`read_frames` or :func:`frames_from_raw`).
        fiscal_year: 会計年度.
        config: The same settings as the export (layout, table, tolerance, thresholds).

    Returns:
        The exported rows: the layout's column names in order, values as the CSV writes
        them (text), one row per asset that passes every check.
    """
    config = config or AssetExportConfig()
    layout = load_layout(config.columns_path)
    table = load_useful_life(config.useful_life_path)
    year_end = pd.Timestamp(fiscal_year_end(fiscal_year))
    parts: list[pd.DataFrame] = []
    for workbook, sheet, frame in frames:
        head = [
            (int(i) + 1, [_none(v) for v in row])
            for i, row in zip(frame.index[: config.header_scan_rows], frame.head(config.header_scan_rows).itertuples(index=False), strict=True)
        ]  # fmt: skip
        header = find_header(head, scan_rows=config.header_scan_rows)
        if header is None or any(f not in header.columns for f in REQUIRED_LEDGER_FIELDS):
            continue
        body = frame.iloc[header.data_index :, list(header.columns.values())]
        body.columns = list(header.columns)
        body = body.dropna(how="all")
        sheet_unit = sheet_amount_unit(head, header)
        base_unit = header.units.get("cost") or sheet_unit or config.default_amount_unit_yen
        part = pd.DataFrame(index=body.index)
        part["workbook"], part["sheet"], part["row"] = workbook, sheet, body.index + 1
        # a 千円 sheet is allowed its own rounding: at least 1,000 yen
        part["tolerance"] = max(config.depreciation_tolerance_yen, base_unit)
        for key in ("asset_no", "name", "location", "account", "use", "note"):
            part[key] = (
                body[key].map(clean_text, na_action="ignore").fillna("") if key in body else ""
            )
        first = frame.loc[body.index, frame.columns[0]]
        first = first.where(first.map(lambda v: isinstance(v, str)), "").astype(str)
        labels = part["asset_no"] + "|" + part["name"] + "|" + first
        words = "|".join(SUBTOTAL_WORDS)
        subtotal = labels.str.replace(r"\s", "", regex=True).str.contains(
            rf"{words}|(?:^|\|)計(?:\||$)", regex=True
        )
        dates = _distinct_map(body["acquired_on"], lambda v: parse_ledger_date(v)[0])
        date_present = body["acquired_on"].notna()
        cost_present = body["cost"].notna()
        note = (
            ((part["asset_no"] == "") | part["asset_no"].str.startswith(NOTE_MARKS))
            & ~date_present
            & ~cost_present
        )
        keep = ~subtotal & ~note
        part, body, dates = part[keep], body[keep], dates[keep]
        part["acquired_on"] = pd.to_datetime(dates)
        part["date_invalid"] = date_present[keep] & dates.isna()
        for key in AMOUNT_FIELDS:
            unit = header.units.get(key) or sheet_unit or base_unit
            if key == "cost":
                unit = base_unit
            if key in body:
                column = body[key]
                numeric = pd.to_numeric(column, errors="coerce")
                is_text = column.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False)
                parsed = _distinct_map(column[is_text.astype(bool)], lambda v, u=unit: parse_amount(v, u))  # type: ignore[misc]  # fmt: skip
                amounts = (numeric * unit).round().where(~is_text.astype(bool), parsed)
                part[key] = amounts.astype("float64")
                part[f"{key}_invalid"] = (
                    column.notna()
                    & part[key].isna()
                    & ~column.map(
                        lambda v: isinstance(v, str) and v.strip() in ("", "-", "－", "―", "ー"),
                        na_action="ignore",
                    )
                    .fillna(False)
                    .astype(bool)
                )
            else:
                part[key] = np.nan
                part[f"{key}_invalid"] = False
        if "useful_life" in body:
            life = _distinct_map(body["useful_life"], parse_useful_life)
            part["life_invalid"] = (
                body["useful_life"].notna()
                & life.isna()
                & ~body["useful_life"].isin(["－", "-", "―", "ー"])
            )
            part["useful_life"] = life.astype("float64")
        else:
            part["useful_life"], part["life_invalid"] = np.nan, False
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=layout.header_names)
    df = pd.concat(parts, ignore_index=True)

    accounts = {a: table.account(a) for a in df["account"].unique() if a}
    df["account_name"] = df["account"].map({k: v.name for k, v in accounts.items() if v})
    depreciable = df["account_name"].map({a.name: a.depreciable for a in table.accounts})
    uses = {
        (a, u): table.entry(a, u)
        for a, u in df[["account_name", "use"]].dropna().drop_duplicates().itertuples(index=False)
    }
    keys = pd.Series(list(zip(df["account_name"], df["use"], strict=True)), index=df.index)
    df["table_life"] = keys.map({k: v.years for k, v in uses.items() if v})
    df["use_name"] = keys.map({k: v.use for k, v in uses.items() if v}).fillna(df["use"])
    life = df["useful_life"].fillna(df["table_life"]).where(depreciable == True, np.nan)  # noqa: E712

    cost = df["cost"]
    acquired = df["acquired_on"]
    fy_acquired = acquired.dt.year - (acquired.dt.month < 4).astype("Int64")
    offset = 1 if config.depreciation_start == "acquisition_fiscal_year" else 0
    years = (fiscal_year - fy_acquired + offset).clip(lower=0)
    rate = np.ceil(1000 / life)
    annual = np.floor(cost * rate / 1000)
    ceiling = cost - 1
    accumulated = np.minimum(annual * years, ceiling).where(life.notna() & (cost > 1), 0)
    before = np.minimum(annual * (years - 1).clip(lower=0), ceiling).where(
        life.notna() & (cost > 1), 0
    )
    df["acc_calc"] = accumulated
    df["book_calc"] = cost - accumulated
    df["year_calc"] = accumulated - before
    threshold = df["account_name"].map(config.capitalisation_thresholds_yen)

    ok = ~df["date_invalid"] & ~df["life_invalid"]
    for key in AMOUNT_FIELDS:
        ok &= ~df[f"{key}_invalid"]
    for column in layout.columns:
        if column.key in ("asset_no", "name", "location", "account", "use", "note"):
            blank = df[column.key] == ""
            if column.required:
                ok &= ~blank
            elif column.required_for:
                ok &= ~(blank & df["account_name"].isin(column.required_for))
            if column.max_length is not None:
                ok &= df[column.key].str.len() <= column.max_length
    ok &= acquired.notna() & cost.notna() & df["account_name"].notna()
    ok &= acquired <= year_end
    for key in AMOUNT_FIELDS:
        ok &= ~(df[key] < 0)
    ok &= ~((depreciable == True) & life.isna())  # noqa: E712
    ok &= ~(cost < threshold)
    ok &= ~((depreciable == False) & (df["accumulated_depreciation"].fillna(0) > 0))  # noqa: E712
    for key, calc in (("accumulated_depreciation", "acc_calc"), ("book_value", "book_calc")):
        stated = df[key]
        ok &= ~(
            (depreciable == True)  # noqa: E712
            & stated.notna()
            & (stated >= 0)
            & ((stated - df[calc]).abs() > df["tolerance"])
        )
    numbered = df["asset_no"] != ""
    duplicated = df["asset_no"].duplicated(keep=False) & numbered
    ok &= ~duplicated

    out = df[ok]
    values: dict[str, pd.Series] = {
        "asset_no": out["asset_no"],
        "name": out["name"],
        "location": out["location"],
        "acquired_on": out["acquired_on"].dt.strftime("%Y/%m/%d"),
        "cost": out["cost"].astype("int64").astype(str),
        "useful_life": life[ok].map(lambda v: "" if pd.isna(v) else str(int(v))),
        "accumulated_depreciation": out["acc_calc"].astype("int64").astype(str),
        "book_value": out["book_calc"].astype("int64").astype(str),
        "depreciation_for_year": out["year_calc"].astype("int64").astype(str),
        "account": out["account_name"],
        "use": out["use_name"],
        "department": out["sheet"].str.replace(r"\s", "", regex=True),
        "note": out["note"],
        "fiscal_year": pd.Series(str(fiscal_year), index=out.index),
        "source_ref": out["workbook"] + "/" + out["sheet"] + "/" + out["row"].astype(str),
    }
    result = pd.DataFrame({c.name: values[c.key] for c in layout.columns})
    return result.reset_index(drop=True)


class BenchmarkReport(BaseModel):
    """Timings of the export against the pandas baseline on the same workbooks (seconds)."""

    workbooks: int
    exported: int
    baseline_exported: int
    rejected: int
    read_fast_s: float  # the fast reader alone
    read_pandas_s: float  # pd.read_excel(engine="openpyxl") alone
    transform_s: float  # parse + check, cells in memory
    baseline_transform_s: float  # baseline_export, cells in memory
    export_s: float  # build_export: reading included
    baseline_s: float  # read_excel + baseline_export: reading included
    write_s: float  # write_export (CSV + rejects workbook)

    @property
    def ratio_with_reading(self) -> float:
        """build_export time ÷ baseline time, reading included (< 1: faster)."""
        return self.export_s / self.baseline_s

    @property
    def ratio_without_reading(self) -> float:
        """Transformation time ÷ the baseline's, cells already in memory."""
        return self.transform_s / self.baseline_transform_s


def benchmark_export(
    workbooks: Sequence[Path],
    fiscal_year: int,
    config: AssetExportConfig | None = None,
    out_dir: Path | None = None,
) -> BenchmarkReport:
    """Time the export and the pandas baseline on the same workbooks, in this process.

    Args:
        workbooks: Ledger files (good and bad alike).
        fiscal_year: 会計年度.
        config: Settings shared by both.
        out_dir: Where write_export may write (a timing of the writing); None skips it.

    Returns:
        The timings and the exported row counts of both.
    """
    config = config or AssetExportConfig()
    clock = time.perf_counter

    start = clock()
    raws: list[RawWorkbook] = []
    for path in workbooks:
        try:
            raws.append(read_workbook(path, reader=config.reader))
        except InputError:  # bad files are timed by build_export below
            continue
    read_fast = clock() - start
    start = clock()
    ledgers = [parse_ledger(raw, config) for raw in raws]
    ours = build_export_from_ledgers(ledgers, fiscal_year, config)
    transform = clock() - start
    frames = frames_from_raw(raws, config)
    start = clock()
    theirs = baseline_export(frames, fiscal_year, config)
    baseline_transform = clock() - start
    del raws, ledgers, frames, ours, theirs

    start = clock()
    result = build_export(workbooks, fiscal_year, config)
    export = clock() - start
    start = clock()
    pandas_frames = read_frames(workbooks, config)
    read_pandas = clock() - start
    baseline = baseline_export(pandas_frames, fiscal_year, config)
    baseline_total = clock() - start

    write = 0.0
    if out_dir is not None:
        start = clock()
        write_export(result, out_dir)
        write = clock() - start
    return BenchmarkReport(
        workbooks=len(workbooks),
        exported=len(result.rows),
        baseline_exported=len(baseline),
        rejected=len(result.rejects),
        read_fast_s=round(read_fast, 3),
        read_pandas_s=round(read_pandas, 3),
        transform_s=round(transform, 3),
        baseline_transform_s=round(baseline_transform, 3),
        export_s=round(export, 3),
        baseline_s=round(baseline_total, 3),
        write_s=round(write, 3),
    )


__all__ = [
    "BenchmarkReport",
    "Frame",
    "baseline_export",
    "benchmark_export",
    "frames_from_raw",
    "read_frames",
]
