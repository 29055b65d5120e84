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
