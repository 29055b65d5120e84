"""Asset-ledger export (財産台帳 → 公会計 CSV), Prefect-free.

Departments keep their property ledgers (財産台帳) as Excel workbooks, one sheet per 所管課;
the accounting office imports one CSV into the public-accounting system. The pieces::

    from civicflow.assets import build_export, write_export

    result = build_export(sorted(folder.glob("*.xlsx")), fiscal_year=2024)
    paths = write_export(result, out_dir)  # CP932 CSV + rejects workbook

* :mod:`civicflow.assets.ledger`: read a workbook (fast streaming reader), find the header,
  map header spellings, skip blank/小計/注記 rows, parse 和暦, 千円, △.
* :mod:`civicflow.assets.validate`: the rules and straight-line depreciation (定額法).
* :mod:`civicflow.assets.export`: the run over many workbooks, the CSV, the rejects workbook.
* :mod:`civicflow.assets.baseline`: the same transformation in plain pandas, for the benchmark.

The import layout and the 耐用年数 table live in ``data/asset_export/`` (see its README).
"""

from __future__ import annotations

from civicflow.assets.export import (
    build_export,
    build_export_from_ledgers,
    export_file_name,
    load_layout,
    load_useful_life,
    rejects_file_name,
    write_export,
)
from civicflow.assets.ledger import read_ledger, read_workbook
from civicflow.assets.models import (
    AssetExportConfig,
    AssetExportResult,
    AssetRecord,
    ExportLayout,
    RejectedRow,
    SheetSummary,
    SourceRef,
    UnencodableCell,
    UsefulLifeTable,
)
from civicflow.assets.validate import straight_line

__all__ = [
    "AssetExportConfig",
    "AssetExportResult",
    "AssetRecord",
    "ExportLayout",
    "RejectedRow",
    "SheetSummary",
    "SourceRef",
    "UnencodableCell",
    "UsefulLifeTable",
    "build_export",
    "build_export_from_ledgers",
    "export_file_name",
    "load_layout",
    "load_useful_life",
    "read_ledger",
    "read_workbook",
    "rejects_file_name",
    "straight_line",
    "write_export",
]
