"""The manual baseline a flow counts hours saved against is the one the catalog declares."""

from __future__ import annotations

import pytest

from civicflow.catalog import load_catalog
from civicflow.settings import Settings
from flows.retention import BASELINE_MINUTES as RETENTION_MINUTES


def default(name: str) -> float:
    """The setting's default (the environment of whoever runs the tests does not count)."""
    value = Settings.model_fields[name].default
    assert isinstance(value, float)
    return value


@pytest.mark.parametrize(
    ("flow", "minutes"),
    [
        ("childcare-support", default("childcare_baseline_minutes")),
        ("overtime-notice", default("overtime_baseline_minutes")),
        ("asset-ledger-export", default("assets_baseline_minutes")),
        ("bus-pass", default("bus_pass_baseline_minutes")),
        ("retention", RETENTION_MINUTES),
    ],
)
def test_the_flow_and_the_catalog_agree_on_the_manual_baseline(flow: str, minutes: float) -> None:
    assert load_catalog()[flow].baseline_minutes_per_case == minutes
