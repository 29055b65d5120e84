"""The asset-ledger export flow under the Prefect harness: window, export, once a month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from civicflow.samples.assets import generate_assets
from civicflow.settings import Settings, get_settings
from civicflow.store import repositories as repo
from civicflow.store.db import session_scope
from flows.asset_ledger_export import asset_ledger_export

pytestmark = pytest.mark.usefixtures("prefect_harness")
IN_WINDOW = dt.date(2026, 12, 1)  # Tuesday: the month's first business day


def test_export_in_the_window_once_a_month(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = generate_assets(tmp_path / "s", seed=4, rows=400, fiscal_year=2025)
    monkeypatch.setenv("CIVICFLOW_ASSETS_INPUT_DIR", str(sample.ledger_dir))
    get_settings.cache_clear()

    outside = asset_ledger_export(fiscal_year=2025, today=dt.date(2026, 12, 20))
    assert "outside the export window" in outside.skipped_reason

    summary = asset_ledger_export(fiscal_year=2025, today=IN_WINDOW)
    assert summary.entered == sample.expected_exported
    assert summary.rejected == sample.expected_rejected
    assert summary.quarantined > 0  # the sample's broken files, the others exported
    csv_path = Path(next(p for p in summary.documents if p.endswith(".csv")))
    data = csv_path.read_bytes()
    assert data.count(b"\r\n") == summary.entered + 1 and b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode("cp932").splitlines()[0].startswith("資産番号,名称,所在地,取得年月日")
    with session_scope(get_settings().db_url) as s:
        assert repo.open_quarantine(s, "asset_ledger_export")  # reasons kept for the operator

    again = asset_ledger_export(fiscal_year=2025, today=dt.date(2026, 12, 2))
    assert "already exported" in again.skipped_reason
