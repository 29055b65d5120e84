"""Prefect tasks of the asset-ledger export: thin wrappers over civicflow.assets."""

from __future__ import annotations

import datetime as dt

from prefect import task

from civicflow.assets import operations
from civicflow.quarantine import record_quarantine
from civicflow.settings import get_settings
from tasks.common import current_flow_run_id


@task(name="export-asset-ledgers")
def export_month(fiscal_year: int, day: dt.date) -> operations.AssetExportOutcome:
    """Read, validate and write the month's import CSV and rejects workbook.

    One task: the rows (up to 100,000) stay inside it; only counts and paths come out.
    """
    settings = get_settings()
    outcome = operations.export_month(settings, fiscal_year, day)
    record_quarantine(settings, outcome.quarantined, current_flow_run_id())
    return outcome
