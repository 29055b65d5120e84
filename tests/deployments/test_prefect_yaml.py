"""Every deployment in prefect.yaml loads its flow and carries what operators rely on."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS: list[dict[str, Any]] = yaml.safe_load((ROOT / "prefect.yaml").read_text())[
    "deployments"
]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_deployment_entrypoint_loads_and_is_described(deployment: dict[str, Any]) -> None:
    path, _, attr = deployment["entrypoint"].partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    assert isinstance(getattr(module, attr), Flow)
    assert len(deployment["description"]) > 40
    assert deployment["tags"] and deployment["enforce_parameter_schema"] is True
    assert deployment["work_pool"]["name"] == "civicflow-process"
    for schedule in deployment["schedules"]:
        assert schedule["timezone"] == "Asia/Tokyo"


def test_every_flow_module_has_a_deployment() -> None:
    entry_modules = {d["entrypoint"].partition(":")[0] for d in DEPLOYMENTS}
    flow_modules = {
        f"flows/{p.name}"
        for p in (ROOT / "flows").glob("*.py")
        if p.name not in {"__init__.py", "benchmarks.py"}
    }
    assert flow_modules == entry_modules


def test_every_deployment_has_a_complete_catalog_entry() -> None:
    from civicflow.catalog import catalog_markdown, load_catalog

    catalog = load_catalog()  # validation fails on any missing or empty field
    for deployment in DEPLOYMENTS:
        path, _, attr = deployment["entrypoint"].partition(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attr)
        assert flow.name in catalog, f"{flow.name} has no entry in data/catalog.yaml"
    assert "ロボット停止時の手順" in catalog_markdown(catalog)
