"""Fixtures for the asset-ledger export: one small synthetic sample set, built and written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicflow.assets import AssetExportResult, build_export, write_export
from civicflow.samples.assets import AssetSampleSet, generate_assets

FISCAL_YEAR = 2024
SAMPLE_ROWS = 400


@pytest.fixture(scope="package")
def sample(tmp_path_factory: pytest.TempPathFactory) -> AssetSampleSet:
    """Six 部 workbooks with every kind of mess, plus the bad files."""
    return generate_assets(
        tmp_path_factory.mktemp("assets"), seed=11, rows=SAMPLE_ROWS, fiscal_year=FISCAL_YEAR
    )


@pytest.fixture(scope="package")
def result(sample: AssetSampleSet) -> AssetExportResult:
    """The export of the whole ledger folder (good and bad files together)."""
    return build_export(sample.workbooks, FISCAL_YEAR)


@pytest.fixture(scope="package")
def written(result: AssetExportResult, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """``[csv, rejects workbook]`` as write_export wrote them."""
    return write_export(result, tmp_path_factory.mktemp("export"))
