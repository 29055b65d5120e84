"""Fixtures for flow tests: a generated sample set loaded into a fresh store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from civicflow.samples.childcare import generate_childcare
from civicflow.samples.loading import load_masters_into_store
from civicflow.settings import Settings, get_settings

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated sample set (n=60) shared read-only by the flow tests."""
    out = tmp_path_factory.mktemp("samples")
    generate_childcare(out, seed=5, n=60, reference_date=TODAY)
    return out


@pytest.fixture
def loaded(settings: Settings, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a folder-source run over the sample export, masters loaded."""
    monkeypatch.setenv("CIVICFLOW_INTAKE_SOURCE", "folder")
    monkeypatch.setenv("CIVICFLOW_EXPORT_DIR", str(sample_dir / "childcare" / "export"))
    get_settings.cache_clear()
    current = get_settings()
    load_masters_into_store(current, sample_dir)
    return current


def truth(sample_dir: Path) -> dict[str, Any]:
    """The generator's expected outcomes."""
    data: dict[str, Any] = json.loads((sample_dir / "childcare" / "truth.json").read_text())
    return data
