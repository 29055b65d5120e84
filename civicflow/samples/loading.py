"""Load the registry extracts (residents, providers) into the store.

In an office these CSV files come from the resident-registry system and the
contract list; the synthetic generator writes the same shape.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from civicflow import models
from civicflow.errors import PermanentError
from civicflow.settings import Settings
from civicflow.store import repositories as repo
from civicflow.store.db import migrate, session_scope

LIST_FIELDS = {"services", "service_area"}


def read_master_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of a master CSV (UTF-8 with BOM, header of model field names, lists joined by |)."""
    if not path.exists():
        raise PermanentError(
            f"マスタファイルがありません: {path}。`civicflow samples generate` を実行してください。",
            f"Master file missing: {path}. Run `civicflow samples generate` first.",
            code="master_missing",
        )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows: list[dict[str, Any]] = []
        for row in csv.DictReader(handle):
            rows.append(
                {k: (v.split("|") if v else []) if k in LIST_FIELDS else v for k, v in row.items()}
            )
        return rows


def load_masters_into_store(settings: Settings, samples_dir: Path) -> tuple[int, int]:
    """Upsert residents and providers from ``samples_dir/registry``; returns rows changed."""
    residents = [
        models.Resident.model_validate(r)
        for r in read_master_csv(samples_dir / "registry" / "residents.csv")
    ]
    providers = [
        models.Provider.model_validate(p)
        for p in read_master_csv(samples_dir / "registry" / "providers.csv")
    ]
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        changed_residents = repo.upsert_residents(session, residents)
        changed_providers = repo.upsert_providers(session, providers)
    return changed_residents, changed_providers
