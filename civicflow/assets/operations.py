"""Running the asset-ledger export month by month: the window, the files, the outputs.

``export.build_export`` and ``export.write_export`` do the work; this module decides
whether today falls in the monthly window, finds the departments' ledgers and returns a
summary without the rows themselves (they can be 100,000; the files hold them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field

from civicflow import models
from civicflow.assets.export import build_export, write_export
from civicflow.assets.models import PROCESS as PROCESS  # re-exported for the flow
from civicflow.errors import PermanentError
from civicflow.japanese import business_days_between, is_business_day
from civicflow.settings import Settings


class AssetExportOutcome(BaseModel):
    """One month's export, in counts and file paths."""

    fiscal_year: int
    workbooks: int
    exported: int
    rejected: int
    reject_counts: dict[str, int] = Field(default_factory=dict)
    unencodable: int = 0
    quarantined: list[models.QuarantineRecord] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)


def fiscal_year_of(day: dt.date) -> int:
    """会計年度: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def business_day_of_month(day: dt.date) -> int:
    """1 for the month's first business day, 2 for the second …; 0 on a closed day."""
    if not is_business_day(day):
        return 0
    return business_days_between(day.replace(day=1), day) + 1


def in_window(settings: Settings, day: dt.date) -> bool:
    """Whether ``day`` is a business day inside the configured monthly export window."""
    number = business_day_of_month(day)
    return (
        number > 0
        and settings.assets_window_first_business_day
        <= number
        <= settings.assets_window_last_business_day
    )


def month_dir(settings: Settings, day: dt.date) -> Path:
    """Where this month's export files go."""
    return settings.output_dir / "assets" / f"{day.year:04d}{day.month:02d}"


def already_exported(settings: Settings, day: dt.date) -> bool:
    """Whether an earlier run exported this month already."""
    return any(month_dir(settings, day).glob("asset_import_FY*.csv"))


def find_ledgers(settings: Settings) -> list[Path]:
    """Every file departments left in the ledger folder (bad ones are quarantined later)."""
    folder = settings.assets_dir
    if not folder.is_dir():
        raise PermanentError(
            f"財産台帳のフォルダ {folder} がありません。各課の台帳を置いてから再実行してください。",
            f"The ledger folder {folder} does not exist. Put the departments' ledgers there and run again.",
            code="assets_no_folder",
        )
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def export_month(settings: Settings, fiscal_year: int, day: dt.date) -> AssetExportOutcome:
    """Read every ledger, validate, write the import CSV and the rejects workbook."""
    ledgers = find_ledgers(settings)
    result = build_export(ledgers, fiscal_year)
    files = write_export(result, month_dir(settings, day))
    return AssetExportOutcome(
        fiscal_year=fiscal_year,
        workbooks=len(ledgers),
        exported=len(result.rows),
        rejected=len(result.rejects),
        reject_counts=result.reject_counts(),
        unencodable=len(result.unencodable),
        quarantined=result.quarantined,
        files=[str(p) for p in files],
    )
